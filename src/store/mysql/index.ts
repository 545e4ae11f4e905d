/**
 * @module store/mysql
 * The MySQL/MariaDB write sink (`DATABASE_URL=mysql://…`): the signalytics-compatible aggregate
 * tables `tls_fingerprints` and `tls_fingerprint_daily_stats`, upserted from `tls` and `http`
 * events in batches, with the store's spool-on-failure rule. Write only: nothing reads them here.
 *
 * @example
 * const config = mysqlSinkConfigFromEnv(process.env) // null when DATABASE_URL is unset
 * if (config !== null) {
 *   const sink = await openMysqlSink(config)
 *   await sink.write(event) // resolves once committed or spooled
 *   await sink.close() // flushes everything
 * }
 */
import type { MysqlSinkConfig } from './config.ts'
import { isConfigError, MysqlConnection } from './connection.ts'
import { emitMysqlTelemetry, MysqlSink } from './sink.ts'
import { Spool } from '../spool.ts'
import { AppError } from '../../errors.ts'

export * from './batch.ts'
export * from './config.ts'
export * from './connection.ts'
export * from './schema.ts'
export * from './sink.ts'

/**
 * Opens the sink: creates the tables when the server answers (an incompatible existing table or
 * a refused login fails here, E_MIGRATION_FAILED / E_STORAGE_UNAVAILABLE), takes the spool and
 * replays what an earlier run left in it. A server that does not answer yet is no error: batches
 * are spooled and applied once it does.
 */
export async function openMysqlSink(config: MysqlSinkConfig): Promise<MysqlSink> {
  const target = new MysqlConnection(config)
  try {
    try {
      await target.ensureSchema()
    } catch (e) {
      if (!(e instanceof AppError) || e.code === 'E_MIGRATION_FAILED' || isConfigError(e)) throw e
      emitMysqlTelemetry({ name: 'MysqlUnavailableAtStart', url: target.url })
    }
    const spool = await Spool.open(config.spool_dir, {
      max_bytes: config.spool_max_bytes,
      segment_max_bytes: config.spool_segment_max_bytes,
    })
    return new MysqlSink({ target, config, spool })
  } catch (e) {
    await target.close()
    throw e
  }
}

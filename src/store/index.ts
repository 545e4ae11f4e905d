/**
 * @module store
 * The ClickHouse store: embedded chDB by default or a server (`CLICKHOUSE_URL`), versioned
 * migrations, a batching writer with an on-disk spool, and typed reads for the API.
 *
 * @example
 * const store = await openStore(storeConfigFromEnv(process.env))
 * await store.writer.write(event) // resolves once inserted or spooled
 * const top = await store.queries.topFingerprints({ family: 'ja4', from, to })
 * await store.close() // flushes everything
 */
import type { StoreConfig } from './config.ts'
import { openStoreConnection, type StoreConnection } from './connection.ts'
import { migrate, type MigrateResult, type Migration } from './migrate.ts'
import { StoreQueries } from './queries.ts'
import { openEventWriter, type EventWriter } from './writer.ts'

export * from './config.ts'
export * from './connection.ts'
export * from './migrate.ts'
export * from './queries.ts'
export * from './schema.ts'
export * from './spool.ts'
export * from './writer.ts'

export interface Store {
  connection: StoreConnection
  writer: EventWriter
  queries: StoreQueries
  migrations: MigrateResult
  /** Flushes the writer (to the store, or the spool when it is down), then closes the store. */
  close(): Promise<void>
}

/** Opens the store, applies pending migrations, starts the writer (replaying any spool). */
export async function openStore(
  config: StoreConfig,
  opts: {
    /** Wraps the connection (instrumentation, or a fault injector in durability tests). */
    wrapConnection?: (c: StoreConnection) => StoreConnection
    /** Told of each pending migration before it runs. */
    onMigration?: (m: Pick<Migration, 'version' | 'name'>) => void
  } = {},
): Promise<Store> {
  const opened = await openStoreConnection(config)
  const connection = opts.wrapConnection?.(opened) ?? opened
  try {
    const migrations = await migrate(connection, config, { onApply: opts.onMigration })
    const writer = await openEventWriter(connection, config)
    return {
      connection,
      writer,
      queries: new StoreQueries(connection, config),
      migrations,
      async close() {
        try {
          await writer.close()
        } finally {
          await connection.close()
        }
      },
    }
  } catch (e) {
    await connection.close()
    throw e
  }
}

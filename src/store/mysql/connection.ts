/**
 * @module store/mysql/connection
 * The sink's view of the server: a small mysql2 pool, the schema check, and `apply`, which
 * upserts one batch in one transaction together with its batch id, so a batch applied twice
 * (a replay after a lost commit acknowledgement) is recognized and counted once.
 */
import {
  createPool,
  type Pool,
  type PoolConnection,
  type ResultSetHeader,
  type RowDataPacket,
} from 'mysql2/promise'
import { AppError } from '../../errors.ts'
import { fingerprintRows, type DailyRow } from './batch.ts'
import { redactedUrl, type MysqlServer, type MysqlSinkConfig } from './config.ts'
import {
  APPLIED_BATCHES_TABLE,
  CREATE_STATEMENTS,
  DAILY_STATS_TABLE,
  FINGERPRINTS_TABLE,
  INSERT_APPLIED_BATCH,
  MAX_ROWS_PER_STATEMENT,
  PRUNE_APPLIED_BATCHES,
  REQUIRED_COLUMNS,
  SELECT_COLUMNS,
  upsertDailyStatsSql,
  upsertFingerprintsSql,
} from './schema.ts'

/** MySQL server error numbers the sink tells apart. */
export const ER_DUP_ENTRY = 1062
const ER_LOCK_WAIT_TIMEOUT = 1205
const ER_LOCK_DEADLOCK = 1213
/** Access denied (login, database, table, privilege), unknown database: fix the config. */
const CONFIG_ERRNOS: ReadonlySet<number> = new Set([1044, 1045, 1049, 1142, 1143, 1227, 1698])

export interface AppliedBatch {
  /** Batch id: recorded with the rows, a second apply of the same id changes nothing. */
  id: string
  rows: readonly DailyRow[]
  events: number
}

/** What the sink needs of the server; `MysqlConnection` is the real one. */
export interface MysqlTarget {
  /** Creates the tables when missing, checks the columns of existing ones. */
  ensureSchema(): Promise<void>
  /** `duplicate`: the batch id was applied before, nothing changed. */
  apply(batch: AppliedBatch): Promise<'applied' | 'duplicate'>
  /** True when the server answers. Never rejects. */
  ping(): Promise<boolean>
  /** Deletes applied batch ids older than `days`; returns how many. */
  pruneAppliedBatches(days: number): Promise<number>
  close(): Promise<void>
}

/** The `errno` of a server error, or undefined (network and client errors have none). */
export function serverErrno(e: unknown): number | undefined {
  if (!(e instanceof Error) || !('errno' in e) || typeof e.errno !== 'number') return undefined
  // Node system errors carry a negative errno; server errors are positive.
  return 'sqlState' in e && e.errno > 0 ? e.errno : undefined
}

/** True for a lock conflict: retried as is, never a reason to set the batch aside. */
export function isTransient(e: unknown): boolean {
  const n = serverErrno(e instanceof AppError ? e.cause : e)
  return n === ER_LOCK_WAIT_TIMEOUT || n === ER_LOCK_DEADLOCK
}

/** True when the server refused the login or the database: an operator must fix the config. */
export function isConfigError(e: unknown): boolean {
  const n = serverErrno(e instanceof AppError ? e.cause : e)
  return n !== undefined && CONFIG_ERRNOS.has(n)
}

function scrub(text: string, server: MysqlServer): string {
  const pw = server.password?.reveal()
  return pw === undefined || pw === '' ? text : text.split(pw).join('***')
}

function describe(e: unknown, server: MysqlServer): string {
  if (!(e instanceof Error)) return scrub(String(e), server)
  const code = 'code' in e && typeof e.code === 'string' ? `${e.code}: ` : ''
  return scrub(code + e.message, server)
}

export class MysqlConnection implements MysqlTarget {
  readonly #pool: Pool
  readonly #server: MysqlServer
  readonly #timeout: number

  constructor(config: Pick<MysqlSinkConfig, 'server' | 'request_timeout_ms'>) {
    const s = config.server
    this.#server = s
    this.#timeout = config.request_timeout_ms
    this.#pool = createPool({
      host: s.host,
      port: s.port,
      user: s.user,
      password: s.password?.reveal(),
      database: s.database,
      ssl:
        s.ssl_mode === 'disabled'
          ? undefined
          : {
              rejectUnauthorized: s.ssl_mode !== 'required',
              verifyIdentity: s.ssl_mode === 'verify_identity',
            },
      // Batches are applied one at a time; the second connection serves pings and pruning.
      connectionLimit: 2,
      maxIdle: 2,
      idleTimeout: 60_000,
      connectTimeout: config.request_timeout_ms,
      enableKeepAlive: true,
      keepAliveInitialDelay: 10_000,
      timezone: 'Z',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    })
  }

  /** The server as `mysql://user:***@host:port/database`. */
  get url(): string {
    return redactedUrl(this.#server)
  }

  /** An AppError (E_STORAGE_UNAVAILABLE) for a failed request, password scrubbed. */
  #error(what: string, e: unknown): AppError {
    return new AppError(
      'E_STORAGE_UNAVAILABLE',
      `mysql ${this.url}: ${what}: ${describe(e, this.#server)}`,
      {
        cause: e,
      },
    )
  }

  async ensureSchema(): Promise<void> {
    let cols: { table_name: unknown; column_name: unknown }[]
    try {
      for (const sql of CREATE_STATEMENTS) await this.#pool.query({ sql, timeout: this.#timeout })
      const [rows] = await this.#pool.query<
        ({ table_name: unknown; column_name: unknown } & RowDataPacket)[]
      >({
        sql: SELECT_COLUMNS,
        values: [FINGERPRINTS_TABLE, DAILY_STATS_TABLE, APPLIED_BATCHES_TABLE],
        timeout: this.#timeout,
      })
      cols = rows
    } catch (e) {
      throw this.#error('cannot create the tables', e)
    }
    const have = new Set(cols.map((c) => `${String(c.table_name)}.${String(c.column_name)}`))
    for (const [table, required] of Object.entries(REQUIRED_COLUMNS)) {
      const missing = required.filter((c) => !have.has(`${table}.${c}`))
      if (missing.length > 0)
        throw new AppError(
          'E_MIGRATION_FAILED',
          `mysql ${this.url}: table ${table} exists without column(s) ${missing.join(', ')}; ` +
            'it was not created by signalytics or tlsight',
        )
    }
  }

  async apply(batch: AppliedBatch): Promise<'applied' | 'duplicate'> {
    let conn: PoolConnection
    try {
      conn = await this.#pool.getConnection()
    } catch (e) {
      throw this.#error('cannot connect', e)
    }
    let healthy = false
    try {
      const q = (sql: string, values?: unknown[]) =>
        conn.query({ sql, values, timeout: this.#timeout })
      // TIMESTAMP values are read in the session time zone; ours are UTC.
      await q("SET time_zone = '+00:00'")
      await q('START TRANSACTION')
      try {
        await q(INSERT_APPLIED_BATCH, [batch.id, batch.events])
      } catch (e) {
        if (serverErrno(e) !== ER_DUP_ENTRY) throw e
        await q('ROLLBACK')
        healthy = true
        return 'duplicate'
      }
      const fps = fingerprintRows(batch.rows)
      for (let i = 0; i < fps.length; i += MAX_ROWS_PER_STATEMENT) {
        const chunk = fps.slice(i, i + MAX_ROWS_PER_STATEMENT)
        await q(
          upsertFingerprintsSql(chunk.length),
          chunk.flatMap((r) => [
            r.ciphers,
            r.extensions,
            r.hello_length,
            r.hits,
            r.first_seen,
            r.last_seen,
          ]),
        )
      }
      for (let i = 0; i < batch.rows.length; i += MAX_ROWS_PER_STATEMENT) {
        const chunk = batch.rows.slice(i, i + MAX_ROWS_PER_STATEMENT)
        await q(
          upsertDailyStatsSql(chunk.length),
          chunk.flatMap((r) => [r.date, r.ciphers, r.extensions, r.hello_length, r.hits]),
        )
      }
      await q('COMMIT')
      healthy = true
      return 'applied'
    } catch (e) {
      throw this.#error('cannot apply a batch', e)
    } finally {
      // A failed connection may be mid-transaction or broken: drop it, the server rolls back.
      if (healthy) conn.release()
      else conn.destroy()
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.#pool.query({ sql: 'SELECT 1', timeout: this.#timeout })
      return true
    } catch {
      return false
    }
  }

  async pruneAppliedBatches(days: number): Promise<number> {
    try {
      const [res] = await this.#pool.query<ResultSetHeader>({
        sql: PRUNE_APPLIED_BATCHES,
        values: [days],
        timeout: this.#timeout,
      })
      return res.affectedRows
    } catch (e) {
      throw this.#error('cannot prune applied batch ids', e)
    }
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => undefined)
  }
}

/**
 * @module store/connection
 * One `@clickhouse/client` for both stores: embedded chDB (default, data under
 * `<data_dir>/clickhouse`) through chDB's `createChdbConnection`, or a ClickHouse server when
 * `CLICKHOUSE_URL` is set. Same SQL, same schema. `StoreConnection` is the narrow surface the
 * rest of the store uses, which also lets a test wrap the real store in a fault injector.
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { open, unlink } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { join } from 'node:path'
import {
  createClient,
  drainStream,
  type ClickHouseClient,
  type ClickHouseClientConfigOptions,
  type ClickHouseSettings,
} from '@clickhouse/client'
import { AppError } from '../errors.ts'
import type { StoreConfig } from './config.ts'

/** Values of `{name:Type}` placeholders, bound by the engine (never spliced into SQL). */
export type QueryParams = Record<string, unknown>

export interface InsertOptions {
  /**
   * The batch id. Tables deduplicate on it, so replaying a batch whose first insert did land
   * (an answer lost to a crash or a timeout) stores it once.
   */
  dedup_token: string
}

export interface StoreConnection {
  readonly kind: 'embedded' | 'server'
  /** Rows of a SELECT as JSON objects; DateTime64 as ISO 8601 `…Z`, 64-bit integers as numbers. */
  query<T>(sql: string, params?: QueryParams): Promise<T[]>
  /** A statement without result (DDL, ALTER). */
  command(sql: string, params?: QueryParams): Promise<void>
  /** Inserts a JSONEachRow body (newline-terminated JSON objects) into `database.table`. */
  insert(table: string, body: Buffer, options: InsertOptions): Promise<void>
  /** True when the store answers. Never throws. */
  ping(): Promise<boolean>
  close(): Promise<void>
}

/** Subdirectory of `data_dir` holding the embedded store's files. */
export const EMBEDDED_DIR = 'clickhouse'
/** Subdirectory of `data_dir` where a batch waits, as a file, for the embedded engine to read it. */
export const STAGING_DIR = 'staging'

/**
 * Nice value of the embedded engine's merge threads. Background merges of the rollups and raw
 * tables compete with the queries and inserts for the same cores; at a lower priority they
 * wait while a dashboard query or an insert runs and catch up when the cores are idle. The
 * engine applies it only with CAP_SYS_NICE (otherwise the threads keep the default).
 */
export const EMBEDDED_MERGE_NICE = 10

const QUERY_SETTINGS: ClickHouseSettings = {
  date_time_output_format: 'iso',
  output_format_json_quote_64bit_integers: 0,
}

/** Settings of an insert; per statement (never session-wide), so concurrent inserts are safe. */
function insertSettings(token: string): Record<string, string | number> {
  return {
    // Events carry ISO 8601 with a `Z`; the default parser wants `YYYY-MM-DD hh:mm:ss`.
    date_time_input_format: 'best_effort',
    insert_deduplication_token: token,
    // Without it a deduplicated raw block would still be counted again by the rollup views.
    deduplicate_blocks_in_dependent_materialized_views: 1,
  }
}

const QUALIFIED_TABLE_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}\.[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** Sends one JSONEachRow body with the given settings. */
type RawInsert = (
  table: string,
  body: Buffer,
  settings: Record<string, string | number>,
) => Promise<void>

class ClientConnection implements StoreConnection {
  readonly kind: 'embedded' | 'server'
  readonly #client: ClickHouseClient
  readonly #rawInsert: RawInsert
  readonly #onClose: () => Promise<void>
  // One insert at a time: batches reach the store in the order they were handed over.
  #insertChain: Promise<void> = Promise.resolve()

  constructor(
    kind: 'embedded' | 'server',
    client: ClickHouseClient,
    rawInsert: RawInsert,
    onClose: () => Promise<void>,
  ) {
    this.kind = kind
    this.#client = client
    this.#rawInsert = rawInsert
    this.#onClose = onClose
  }

  async query<T>(sql: string, params: QueryParams = {}): Promise<T[]> {
    const rs = await this.#client.query({
      query: sql,
      query_params: params,
      format: 'JSONEachRow',
      clickhouse_settings: QUERY_SETTINGS,
    })
    return rs.json<T>()
  }

  async command(sql: string, params: QueryParams = {}): Promise<void> {
    await this.#client.command({ query: sql, query_params: params })
  }

  insert(table: string, body: Buffer, options: InsertOptions): Promise<void> {
    if (!QUALIFIED_TABLE_RE.test(table))
      return Promise.reject(new AppError('E_INVALID_ARGUMENT', `bad table name ${table}`))
    const run = async (): Promise<void> => {
      if (body.length === 0) return
      await this.#rawInsert(table, body, insertSettings(options.dedup_token))
    }
    const result = this.#insertChain.then(run)
    this.#insertChain = result.catch(() => undefined)
    return result
  }

  async ping(): Promise<boolean> {
    try {
      const r = await this.#client.ping()
      return r.success
    } catch {
      return false
    }
  }

  async close(): Promise<void> {
    await this.#insertChain
    await this.#client.close()
    await this.#onClose()
  }
}

/**
 * Opens the store the config names. Embedded: one data directory per process (a chDB limit);
 * opening a second, different one while the first is open fails E_STORAGE_UNAVAILABLE.
 */
export async function openStoreConnection(config: StoreConfig): Promise<StoreConnection> {
  if (config.clickhouse_url !== null) {
    const client = createClient({
      url: config.clickhouse_url,
      username: config.clickhouse_user ?? 'default',
      password: config.clickhouse_password ?? '',
      request_timeout: config.request_timeout_ms,
      application: 'tlsight',
    })
    // Rows are JSON text already: sent as the request body, not re-encoded by the client.
    const rawInsert: RawInsert = async (table, body, settings) => {
      const r = await client.exec({
        query: `INSERT INTO ${table} FORMAT JSONEachRow`,
        values: Readable.from([body]),
        clickhouse_settings: settings,
      })
      await drainStream(r.stream)
    }
    const conn = new ClientConnection('server', client, rawInsert, async () => {})
    if (!(await conn.ping())) {
      await client.close()
      throw new AppError(
        'E_STORAGE_UNAVAILABLE',
        `ClickHouse server at ${redactUrl(config.clickhouse_url)} does not answer`,
      )
    }
    return conn
  }
  const path = join(config.data_dir, EMBEDDED_DIR)
  const staging = join(config.data_dir, STAGING_DIR)
  try {
    mkdirSync(path, { recursive: true })
    // Files left by a run that stopped mid-insert belong to batches that were never acknowledged
    // (they are in the spool or with their sender again).
    rmSync(staging, { recursive: true, force: true })
    mkdirSync(staging, { recursive: true })
    // Loaded on demand: the native engine is large and a server deployment never needs it.
    const { createChdbConnection } = await import('chdb/connection')
    const { Session, drainPending } = await import('chdb')
    // Server settings are read when the engine starts, from the first connection to the
    // directory; the client's connection below shares that engine.
    const engine = new Session(path, {
      connectionArgs: [`--os_threads_nice_value_merge_mutate=${EMBEDDED_MERGE_NICE}`],
    })
    let chdb: ReturnType<typeof createChdbConnection>
    try {
      chdb = createChdbConnection({ path })
    } catch (e) {
      engine.close()
      throw e
    }
    const connection: unknown = chdb
    if (!isClientConnection(connection)) {
      engine.close()
      throw new Error('chdb/connection has an unexpected shape')
    }
    const client = createClient({ connection })
    const structures = new Map<string, string>()
    // The batch is read by the engine from a file, parsed as the table's columns without
    // LowCardinality and cast to the table's types, one column at a time. Measured on the http
    // table (100k rows): parsing text straight into its ten LowCardinality columns costs
    // ~10.7 µs a row, parsing plain and casting ~3.1 µs; chDB's in-memory raw insert adds
    // ~30 % over reading a file.
    // file() reads `*`, `?`, `{…}` and `[…]` in a path as globs: a data directory named with
    // them keeps the in-memory insert.
    const globbed = /[*?{}[\]]/.test(staging)
    const rawInsert: RawInsert = async (table, body, settings) => {
      if (globbed) {
        await chdb.chdb.rawInsert({ table, values: body, format: 'JSONEachRow', settings })
        return
      }
      let structure = structures.get(table)
      if (structure === undefined) {
        structure = await plainStructure(client, table)
        structures.set(table, structure)
      }
      const file = join(staging, `${randomUUID()}.ndjson`)
      await writeWhole(file, body)
      try {
        await client.command({
          query: `INSERT INTO ${table} SELECT * FROM file({file:String}, 'JSONEachRow', {structure:String})`,
          query_params: { file, structure },
          clickhouse_settings: settings,
        })
      } finally {
        await unlink(file).catch(() => undefined)
      }
    }
    // After close, wait until the engine has really let go of the directory, so the same
    // process can open the store again (tests, `migrate` then `serve`).
    return new ClientConnection('embedded', client, rawInsert, async () => {
      engine.close()
      await drainPending()
    })
  } catch (e) {
    throw new AppError(
      'E_STORAGE_UNAVAILABLE',
      `cannot open the embedded store in ${path}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    )
  }
}

/**
 * Writes `body` to a new file in one write request. fs/promises `writeFile` writes in 512 KiB
 * pieces, each waiting for a turn of the event loop: with the loop busy decoding 40k records/s,
 * a 12–16 MB batch took 0.6–2.4 s to stage, and the events waiting behind it went `queue_full`.
 */
async function writeWhole(file: string, body: Buffer): Promise<void> {
  const fh = await open(file, 'w')
  try {
    for (let off = 0; off < body.length;) {
      const { bytesWritten } = await fh.write(body, off, body.length - off)
      off += bytesWritten
    }
  } finally {
    await fh.close()
  }
}

type ClientConnectionImpl = NonNullable<ClickHouseClientConfigOptions['connection']>

/** `type` without its LowCardinality wrappers: `Array(LowCardinality(String))` → `Array(String)`. */
export function withoutLowCardinality(type: string): string {
  const open = 'LowCardinality('
  let out = type
  for (let at = out.indexOf(open); at >= 0; at = out.indexOf(open, at)) {
    let depth = 1
    let i = at + open.length
    for (; i < out.length && depth > 0; i++) {
      if (out[i] === '(') depth++
      else if (out[i] === ')') depth--
    }
    if (depth !== 0) break
    out = out.slice(0, at) + out.slice(at + open.length, i - 1) + out.slice(i)
  }
  return out
}

/** The insertable columns of `database.table` as a structure string, without LowCardinality. */
async function plainStructure(client: ClickHouseClient, table: string): Promise<string> {
  const [database, name] = table.split('.')
  const rs = await client.query({
    query: `SELECT name, type FROM system.columns
            WHERE database = {database:String} AND table = {name:String}
              AND default_kind IN ('', 'DEFAULT') ORDER BY position`,
    query_params: { database, name },
    format: 'JSONEachRow',
  })
  const cols = await rs.json<{ name: string; type: string }>()
  if (cols.length === 0)
    throw new AppError('E_STORAGE_UNAVAILABLE', `table ${table} has no columns`)
  return cols.map((c) => `\`${c.name}\` ${withoutLowCardinality(c.type)}`).join(', ')
}

const CONNECTION_METHODS = ['query', 'exec', 'command', 'insert', 'ping', 'close'] as const

/**
 * HACK: chDB declares its connection against its own copy of the client's common types, which
 * drift by a setting or two between patch releases and stop being assignable although the
 * runtime contract is the same. Checking the methods at run time bridges the two copies.
 */
function isClientConnection(x: unknown): x is ClientConnectionImpl {
  if (typeof x !== 'object' || x === null) return false
  return CONNECTION_METHODS.every((m) => typeof Reflect.get(x, m) === 'function')
}

/** The URL without credentials, for messages. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw)
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return '<invalid url>'
  }
}

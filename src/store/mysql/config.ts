/**
 * @module store/mysql/config
 * Settings of the MySQL/MariaDB write sink: the server from `DATABASE_URL`
 * (`mysql://user:password@host:port/database`, as signalytics reads it) and the batching, spool
 * and retry tuning. Defaults < file section `mysql:` < environment `TLSIGHT_MYSQL__<KEY>`;
 * validated once, every problem reported as E_CONFIG_INVALID naming the key.
 *
 * NOTE: the password never appears in a message, in `JSON.stringify` or in `util.inspect` of the
 * config: it is held by a `Secret`, and a malformed URL is reported without echoing it.
 */
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { join, resolve } from 'node:path'
import { AppError } from '../../errors.ts'
import {
  DEFAULT_DATA_DIR,
  STORE_TUNING_RANGES,
  tuningSettings,
  type StoreTuning,
} from '../config.ts'

/** A value that prints as `***` everywhere (messages, JSON, inspect); `reveal()` gives it back. */
export class Secret {
  readonly #value: string

  constructor(value: string) {
    this.#value = value
  }

  reveal(): string {
    return this.#value
  }

  toString(): string {
    return '***'
  }

  toJSON(): string {
    return '***'
  }

  [inspect.custom](): string {
    return 'Secret(***)'
  }
}

/** `ssl-mode` query parameter of the URL (the MySQL client names, case-insensitive). */
export type MysqlSslMode = 'disabled' | 'required' | 'verify_ca' | 'verify_identity'

export interface MysqlServer {
  host: string
  port: number
  user: string
  password: Secret | null
  database: string
  ssl_mode: MysqlSslMode
}

/** The `mysql:` section of the config file; env `TLSIGHT_MYSQL__<KEY>` overrides each key. */
export interface MysqlSinkTuning extends StoreTuning {
  /**
   * How long applied batch ids are kept in `tlsight_applied_batches` (replay deduplication): a
   * batch spooled after a lost commit acknowledgement and replayed later than this would count
   * twice, so keep it above the longest outage the spool is sized for.
   */
  applied_batches_retention_days: number
}

export interface MysqlSinkConfig extends MysqlSinkTuning {
  server: MysqlServer
  /** Spool of this sink: `<TLSIGHT_DATA_DIR>/mysql-spool` (apart from the store's `spool`). */
  spool_dir: string
}

const MIB = 1024 * 1024

export const MYSQL_SINK_TUNING_DEFAULTS: Readonly<MysqlSinkTuning> = {
  batch_max_events: 5_000,
  flush_interval_ms: 1_000,
  max_pending_events: 100_000,
  // Aggregated rows are small: a batch of any size over a few fingerprints is a few hundred bytes.
  spool_max_bytes: 256 * MIB,
  spool_segment_max_bytes: 16 * MIB,
  retry_min_ms: 500,
  retry_max_ms: 30_000,
  request_timeout_ms: 30_000,
  applied_batches_retention_days: 30,
}

export const MYSQL_SPOOL_DIR = 'mysql-spool'
export const DEFAULT_MYSQL_PORT = 3306

// The same batching, spool and retry settings as the store, plus the replay-dedup retention.
const TUNING_RANGES: Readonly<Record<keyof MysqlSinkTuning, readonly [number, number]>> = {
  ...STORE_TUNING_RANGES,
  applied_batches_retention_days: [1, 36_500],
}

const ENV_NESTED_PREFIX = 'TLSIGHT_MYSQL__'
const URL_SHAPE = 'expected mysql://user:password@host:port/database'

function invalid(key: string, why: string): AppError {
  return new AppError('E_CONFIG_INVALID', `${key}: ${why}`)
}

function decode(key: string, part: string, what: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    throw invalid(key, `the ${what} is not valid percent-encoding`)
  }
}

const SSL_MODES: readonly MysqlSslMode[] = ['disabled', 'required', 'verify_ca', 'verify_identity']

function sslMode(key: string, raw: string): MysqlSslMode {
  const v = raw.toLowerCase()
  const mode = SSL_MODES.find((m) => m === v)
  if (mode === undefined)
    // The value is not echoed: a password with an unencoded `?` would end up here.
    throw invalid(key, `ssl-mode must be one of ${SSL_MODES.join(', ')}`)
  return mode
}

/**
 * Parses `mysql://user:password@host:port/database[?ssl-mode=…]` (also `mariadb://`). User and
 * password are percent-decoded. `key` names the setting in error messages, which never contain
 * the password (nor the URL, which holds it).
 */
export function parseMysqlUrl(raw: string, key = 'DATABASE_URL'): MysqlServer {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw invalid(key, `not a URL (${URL_SHAPE})`)
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:')
    throw invalid(key, `unsupported scheme ${JSON.stringify(url.protocol)} (${URL_SHAPE})`)
  if (url.hostname === '') throw invalid(key, `no host (${URL_SHAPE})`)
  if (url.username === '') throw invalid(key, `no user (${URL_SHAPE})`)
  const database = decode(key, url.pathname.replace(/^\//, ''), 'database name')
  if (database === '' || database.includes('/'))
    throw invalid(key, `expected one database name as the path (${URL_SHAPE})`)
  if (database.length > 64) throw invalid(key, 'the database name is longer than 64 characters')
  let ssl: MysqlSslMode = 'disabled'
  for (const [k, v] of url.searchParams) {
    if (k.toLowerCase() === 'ssl-mode' || k.toLowerCase() === 'sslmode') ssl = sslMode(key, v)
    // Not echoed either, for the same reason.
    else throw invalid(key, 'unknown URL parameter (known: ssl-mode)')
  }
  const password = url.password === '' ? null : new Secret(decode(key, url.password, 'password'))
  return {
    // URL keeps IPv6 literals in brackets; the socket API wants them bare.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? DEFAULT_MYSQL_PORT : Number(url.port),
    user: decode(key, url.username, 'user'),
    password,
    database,
    ssl_mode: ssl,
  }
}

/** The server as text for logs and messages: `mysql://user:***@host:port/database`. */
export function redactedUrl(server: MysqlServer): string {
  const host = server.host.includes(':') ? `[${server.host}]` : server.host
  const auth = encodeURIComponent(server.user) + (server.password === null ? '' : ':***')
  return `mysql://${auth}@${host}:${server.port}/${encodeURIComponent(server.database)}`
}

function nonEmpty(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const v = env[key]
  return v === undefined || v === '' ? undefined : v
}

/**
 * Sink config from the environment over an optional `mysql:` file section, or null when
 * neither `DATABASE_URL` nor `DATABASE_URL_FILE` is set (the sink is off).
 *
 * Env: `DATABASE_URL`, or `DATABASE_URL_FILE` (a file holding the URL, as signalytics accepts;
 * `DATABASE_URL` wins when both are set), `TLSIGHT_DATA_DIR` (the spool goes to
 * `<dir>/mysql-spool`), and `TLSIGHT_MYSQL__<KEY>` per tuning key. Unknown keys are rejected.
 */
export function mysqlSinkConfigFromEnv(
  env: NodeJS.ProcessEnv,
  file: unknown = {},
): MysqlSinkConfig | null {
  const tuning: MysqlSinkTuning = tuningSettings(
    'mysql',
    ENV_NESTED_PREFIX,
    MYSQL_SINK_TUNING_DEFAULTS,
    TUNING_RANGES,
    env,
    file,
  )
  if (tuning.retry_min_ms > tuning.retry_max_ms)
    throw invalid('mysql.retry_min_ms', 'must not exceed mysql.retry_max_ms')

  let server: MysqlServer
  const url = nonEmpty(env, 'DATABASE_URL')
  const urlFile = nonEmpty(env, 'DATABASE_URL_FILE')
  if (url !== undefined) server = parseMysqlUrl(url, 'DATABASE_URL')
  else if (urlFile !== undefined) {
    let text: string
    try {
      text = readFileSync(urlFile, 'utf8')
    } catch (e) {
      const why = e instanceof Error && 'code' in e ? String(e.code) : 'unreadable'
      throw invalid('DATABASE_URL_FILE', `cannot read ${JSON.stringify(urlFile)} (${why})`)
    }
    server = parseMysqlUrl(text, 'DATABASE_URL_FILE')
  } else return null

  return {
    ...tuning,
    server,
    spool_dir: join(
      resolve(nonEmpty(env, 'TLSIGHT_DATA_DIR') ?? DEFAULT_DATA_DIR),
      MYSQL_SPOOL_DIR,
    ),
  }
}

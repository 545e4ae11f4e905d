/**
 * @module store/config
 * Store settings: where the data lives (embedded chDB under `data_dir`, or a ClickHouse server),
 * database names, retention, batching and the spool bound. Defaults < file section < environment;
 * validated once, every problem reported as E_CONFIG_INVALID naming the key.
 */
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { AppError } from '../errors.ts'

export interface StoreConfig extends StoreTuning {
  /** Root of everything on disk: `<data_dir>/clickhouse` (embedded store), `<data_dir>/spool`. */
  data_dir: string
  /** ClickHouse server; null selects the embedded chDB store. */
  clickhouse_url: string | null
  clickhouse_user: string | null
  clickhouse_password: string | null
  db_logs: string
  db_processing: string
  /** Raw events (and minute rollups) older than this are dropped by TTL. */
  retention_days: number
  /** Name stamped on events that carry none (the `tls` event of a local capture). */
  sensor: string
}

/** The `store:` section of the config file; env `TLSIGHT_STORE__<KEY>` overrides each key. */
export interface StoreTuning {
  batch_max_events: number
  flush_interval_ms: number
  /** Events accepted but not yet stored or spooled; beyond it `write` fails E_STORE_BACKPRESSURE. */
  max_pending_events: number
  spool_max_bytes: number
  spool_segment_max_bytes: number
  /** Replay backoff while the store stays unavailable: doubles from min to max. */
  retry_min_ms: number
  retry_max_ms: number
  /** Server requests only; the embedded store has no network to time out. */
  request_timeout_ms: number
}

const MIB = 1024 * 1024

export const STORE_TUNING_DEFAULTS: Readonly<StoreTuning> = {
  batch_max_events: 20_000,
  flush_interval_ms: 1_000,
  max_pending_events: 100_000,
  spool_max_bytes: 1024 * MIB,
  spool_segment_max_bytes: 16 * MIB,
  retry_min_ms: 500,
  retry_max_ms: 30_000,
  request_timeout_ms: 30_000,
}

export const DEFAULT_DATA_DIR = './data'
export const DEFAULT_RETENTION_DAYS = 30
export const MAX_RETENTION_DAYS = 36_500

/** Accepted range of each tuning key: [min, max] (the MySQL sink shares them). */
export const STORE_TUNING_RANGES: Readonly<Record<keyof StoreTuning, readonly [number, number]>> = {
  batch_max_events: [1, 1_000_000],
  flush_interval_ms: [1, 3_600_000],
  max_pending_events: [1, 100_000_000],
  spool_max_bytes: [4096, 2 ** 50],
  spool_segment_max_bytes: [1024, 2 ** 40],
  retry_min_ms: [1, 3_600_000],
  retry_max_ms: [1, 3_600_000],
  request_timeout_ms: [100, 3_600_000],
}

/**
 * Database names become identifiers in DDL (they cannot be bound parameters), so only plain
 * unquoted-identifier characters are allowed.
 */
export const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

const ENV_NESTED_PREFIX = 'TLSIGHT_STORE__'

function invalid(key: string, why: string): AppError {
  return new AppError('E_CONFIG_INVALID', `${key}: ${why}`)
}

/** An integer setting; text is accepted from the environment only (a file has real numbers). */
function integerSetting(
  key: string,
  raw: unknown,
  [min, max]: readonly [number, number],
  fromEnv = true,
): number {
  const n = fromEnv && typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max)
    throw invalid(key, `expected an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`)
  return n
}

/**
 * Integer tuning keys of one section: `defaults`, then the file's `<section>.<key>` values, then
 * `<envPrefix><KEY>` variables. An unknown key, in the file or with the prefix, is refused by
 * name so a typo never falls back to a default silently.
 */
export function tuningSettings<K extends string>(
  section: string,
  envPrefix: string,
  defaults: Readonly<Record<K, number>>,
  ranges: Readonly<Record<K, readonly [number, number]>>,
  env: NodeJS.ProcessEnv,
  file: unknown,
): Record<K, number> {
  const tuning: Record<K, number> = { ...defaults }
  const isKey = (k: string): k is K => Object.hasOwn(ranges, k)
  if (file === null || typeof file !== 'object' || Array.isArray(file))
    throw invalid(section, 'expected a mapping')
  for (const [k, v] of Object.entries(file)) {
    if (!isKey(k)) throw invalid(`${section}.${k}`, 'unknown key')
    tuning[k] = integerSetting(`${section}.${k}`, v, ranges[k], false)
  }
  for (const [envKey, v] of Object.entries(env)) {
    if (!envKey.startsWith(envPrefix) || v === undefined) continue
    const k = envKey.slice(envPrefix.length).toLowerCase()
    if (!isKey(k)) {
      const known = Object.keys(ranges).map((t) => envPrefix + t.toUpperCase())
      throw invalid(envKey, `unknown key (known: ${known.join(', ')})`)
    }
    tuning[k] = integerSetting(envKey, v, ranges[k])
  }
  return tuning
}

function identifier(key: string, raw: string): string {
  if (!IDENTIFIER_RE.test(raw))
    throw invalid(
      key,
      `expected a name matching ${String(IDENTIFIER_RE)}, got ${JSON.stringify(raw)}`,
    )
  return raw
}

function nonEmpty(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const v = env[key]
  return v === undefined || v === '' ? undefined : v
}

function clickhouseUrl(raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw invalid('CLICKHOUSE_URL', `not a URL: ${JSON.stringify(raw)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalid('CLICKHOUSE_URL', `expected http(s)://host:port, got ${url.protocol}`)
  return raw
}

/**
 * Store config from the environment over an optional `store:` file section.
 *
 * Env: `TLSIGHT_DATA_DIR` (default `./data`), `TLSIGHT_RETENTION_DAYS` (30), `CLICKHOUSE_URL`,
 * `CLICKHOUSE_USER`, `CLICKHOUSE_PASSWORD`, `CLICKHOUSE_DB_LOGS` (`tlsight_logs`),
 * `CLICKHOUSE_DB_PROCESSING` (`tlsight_processing`), `NODE_NAME` (host name), and
 * `TLSIGHT_STORE__<KEY>` per tuning key. Unknown `TLSIGHT_STORE__*` and unknown file keys are
 * rejected so a typo never falls back to a default silently.
 */
export function storeConfigFromEnv(env: NodeJS.ProcessEnv, file: unknown = {}): StoreConfig {
  const tuning: StoreTuning = tuningSettings(
    'store',
    ENV_NESTED_PREFIX,
    STORE_TUNING_DEFAULTS,
    STORE_TUNING_RANGES,
    env,
    file,
  )
  if (tuning.retry_min_ms > tuning.retry_max_ms)
    throw invalid('store.retry_min_ms', 'must not exceed store.retry_max_ms')

  const dbLogs = identifier(
    'CLICKHOUSE_DB_LOGS',
    nonEmpty(env, 'CLICKHOUSE_DB_LOGS') ?? 'tlsight_logs',
  )
  const dbProcessing = identifier(
    'CLICKHOUSE_DB_PROCESSING',
    nonEmpty(env, 'CLICKHOUSE_DB_PROCESSING') ?? 'tlsight_processing',
  )
  if (dbLogs === dbProcessing)
    throw invalid('CLICKHOUSE_DB_PROCESSING', 'must differ from CLICKHOUSE_DB_LOGS')
  const retention = nonEmpty(env, 'TLSIGHT_RETENTION_DAYS')
  const url = nonEmpty(env, 'CLICKHOUSE_URL')
  return {
    ...tuning,
    data_dir: resolve(nonEmpty(env, 'TLSIGHT_DATA_DIR') ?? DEFAULT_DATA_DIR),
    clickhouse_url: url === undefined ? null : clickhouseUrl(url),
    clickhouse_user: nonEmpty(env, 'CLICKHOUSE_USER') ?? null,
    clickhouse_password: env['CLICKHOUSE_PASSWORD'] ?? null,
    db_logs: dbLogs,
    db_processing: dbProcessing,
    retention_days:
      retention === undefined
        ? DEFAULT_RETENTION_DAYS
        : integerSetting('TLSIGHT_RETENTION_DAYS', retention, [1, MAX_RETENTION_DAYS]),
    sensor: nonEmpty(env, 'NODE_NAME') ?? hostname(),
  }
}

/**
 * @module config/config
 * `tlsight serve` configuration: defaults < `tlsight.yaml` < environment. The file's keys map one
 * to one onto the environment names every stage already reads (`port` → `PORT`,
 * `store.batch_max_events` → `TLSIGHT_STORE__BATCH_MAX_EVENTS`, …), so each stage validates its
 * own settings in one place, whichever way they were given. Unknown keys are rejected by name.
 */
import { existsSync, readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { AppError } from '../errors.ts'

/** The file's keys and the environment variable each one sets. */
const TOP_LEVEL: Record<string, string> = {
  port: 'PORT',
  log_level: 'LOG_LEVEL',
  node_name: 'NODE_NAME',
  database_url: 'DATABASE_URL',
  dedup_ttl: 'DEDUP_TTL',
  data_dir: 'TLSIGHT_DATA_DIR',
  retention_days: 'TLSIGHT_RETENTION_DAYS',
}

const SECTIONS: Record<string, Record<string, string>> = {
  clickhouse: {
    url: 'CLICKHOUSE_URL',
    user: 'CLICKHOUSE_USER',
    password: 'CLICKHOUSE_PASSWORD',
    db_logs: 'CLICKHOUSE_DB_LOGS',
    db_processing: 'CLICKHOUSE_DB_PROCESSING',
  },
  sources: {
    udp_port: 'TLSIGHT_UDP_PORT',
    tcp_port: 'TLSIGHT_TCP_PORT',
    unix_socket: 'TLSIGHT_UNIX_SOCKET',
    trusted_cidrs: 'TLSIGHT_TRUSTED_CIDRS',
    ingest_token: 'TLSIGHT_INGEST_TOKEN',
  },
  correlator: {
    window_ms: 'TLSIGHT_CORRELATION_WINDOW_MS',
    skew_ms: 'TLSIGHT_CORRELATION_SKEW_MS',
    settle_ms: 'TLSIGHT_CORRELATION_SETTLE_MS',
  },
  capture: {
    interface: 'TLSIGHT_INTERFACE',
    bpf: 'TLSIGHT_BPF',
    tcpdump: 'TLSIGHT_TCPDUMP',
    session_ttl: 'TLSIGHT_SESSION_TTL',
    max_sessions: 'TLSIGHT_MAX_SESSIONS',
  },
  api: {
    token: 'TLSIGHT_API_TOKEN',
  },
}

/** Sections whose keys become `<PREFIX><KEY>` (the store's and the MySQL sink's tuning). */
const PREFIXED: Record<string, string> = {
  store: 'TLSIGHT_STORE__',
  mysql: 'TLSIGHT_MYSQL__',
  sources_tuning: 'TLSIGHT_SOURCES__',
}

/** Where the file is looked for when neither `--config` nor `TLSIGHT_CONFIG` names one. */
export const DEFAULT_CONFIG_FILE = 'tlsight.yaml'

function invalid(message: string): AppError {
  return new AppError('E_CONFIG_INVALID', message)
}

function scalar(path: string, v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  // Lists (trusted_cidrs) are comma-separated in the environment.
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'))
    return v.join(',')
  throw invalid(`${path}: expected a string, number, boolean or list, got ${JSON.stringify(v)}`)
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * The settings a YAML document gives, as environment variables. Throws `E_CONFIG_INVALID`
 * naming every unknown key.
 */
export function fileSettings(text: string, source = DEFAULT_CONFIG_FILE): Record<string, string> {
  let doc: unknown
  try {
    doc = parse(text)
  } catch (e) {
    throw invalid(`${source}: not valid YAML: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (doc === null || doc === undefined) return {}
  if (!isRecord(doc)) throw invalid(`${source}: the top level must be a mapping`)
  const out: Record<string, string> = {}
  const unknown: string[] = []
  for (const [k, v] of Object.entries(doc)) {
    const env = TOP_LEVEL[k]
    if (env !== undefined) {
      if (v !== null) out[env] = scalar(k, v)
      continue
    }
    const section = SECTIONS[k]
    const prefix = PREFIXED[k]
    if (section === undefined && prefix === undefined) {
      unknown.push(k)
      continue
    }
    if (v === null) continue
    if (!isRecord(v)) throw invalid(`${source}: ${k} must be a mapping`)
    for (const [sk, sv] of Object.entries(v)) {
      // Tuning sections pass every key on; their stage rejects the ones it does not know.
      const name = prefix !== undefined ? `${prefix}${sk.toUpperCase()}` : section?.[sk]
      if (name === undefined) unknown.push(`${k}.${sk}`)
      else if (sv !== null) out[name] = scalar(`${k}.${sk}`, sv)
    }
  }
  if (unknown.length > 0) {
    throw invalid(
      `${source}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} ` +
        `(known: ${[...Object.keys(TOP_LEVEL), ...[...Object.keys(SECTIONS), ...Object.keys(PREFIXED)].map((s) => `${s}.*`)].join(', ')})`,
    )
  }
  return out
}

/**
 * The effective environment: the file's settings under the process environment (which wins).
 * The file is `path`, else `TLSIGHT_CONFIG`, else `./tlsight.yaml` when it exists.
 */
export function loadSettings(
  env: NodeJS.ProcessEnv,
  path?: string,
): { env: NodeJS.ProcessEnv; file: string | undefined } {
  const file =
    path ??
    env.TLSIGHT_CONFIG ??
    (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined)
  if (file === undefined) return { env, file }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw invalid(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`)
  }
  return { env: { ...fileSettings(text, file), ...env }, file }
}

/** `PORT` as a TCP port (default 4000). */
export function apiPort(env: NodeJS.ProcessEnv): number {
  const raw = env.PORT ?? '4000'
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n > 65535) throw invalid(`PORT: not a TCP port: ${raw}`)
  return n
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** `LOG_LEVEL` (default info). */
export function logLevel(env: NodeJS.ProcessEnv): string {
  const l = (env.LOG_LEVEL ?? 'info').toLowerCase()
  if (!LEVELS.includes(l)) throw invalid(`LOG_LEVEL: ${l} is not one of ${LEVELS.join(', ')}`)
  return l
}

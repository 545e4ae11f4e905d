/**
 * @module store/migrate
 * Versioned schema migrations: `migrations/NNNN_name.sql`, applied in order at start and by
 * `tlsight migrate`, each recorded with its checksum in `<db_processing>.schema_migrations`.
 * Applying is idempotent (every statement is `IF NOT EXISTS`, applied versions are skipped);
 * a changed applied migration is refused: schema changes go in a new file.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AppError } from '../errors.ts'
import { IDENTIFIER_RE, MAX_RETENTION_DAYS, type StoreConfig } from './config.ts'
import type { StoreConnection } from './connection.ts'

/** `migrations/` at the package root, from `src/store/` and from `dist/store/` alike. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url))

const FILE_RE = /^(\d{4})_([a-z0-9_]+)\.sql$/

export interface Migration {
  version: number
  /** File name, e.g. `0002_raw_events.sql`. */
  name: string
  /** SHA-256 (hex) of the file text with line endings normalized to LF. */
  checksum: string
  sql: string
}

/** Values the runner substitutes for `{name}` placeholders (identifiers cannot be bound). */
export interface MigrationVars {
  db_logs: string
  db_processing: string
  retention_days: number
}

export interface MigrateResult {
  /** Versions applied by this run, in order. */
  applied: number[]
  /** Versions found already applied. */
  skipped: number[]
  /** Tables whose TTL was changed to the configured retention. */
  retention_changed: string[]
}

export const MIGRATIONS_TABLE = 'schema_migrations'

function fail(message: string, cause?: unknown): AppError {
  return new AppError('E_MIGRATION_FAILED', message, cause === undefined ? undefined : { cause })
}

export function checksumOf(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex')
}

/** Migration files of `dir`, sorted by version; duplicate versions or stray `.sql` files fail. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (e) {
    throw fail(`cannot read the migrations directory ${dir}`, e)
  }
  const out: Migration[] = []
  for (const name of names.filter((n) => n.endsWith('.sql')).sort()) {
    const m = FILE_RE.exec(name)
    if (m === null) throw fail(`${name}: migration files are named NNNN_lower_snake.sql`)
    const version = Number(m[1])
    if (out.some((x) => x.version === version)) throw fail(`${name}: duplicate version ${version}`)
    const sql = await readFile(join(dir, name), 'utf8')
    out.push({ version, name, checksum: checksumOf(sql), sql })
  }
  return out.sort((a, b) => a.version - b.version)
}

function validVars(vars: MigrationVars): MigrationVars {
  for (const k of ['db_logs', 'db_processing'] as const)
    if (!IDENTIFIER_RE.test(vars[k]))
      throw fail(`${k} ${JSON.stringify(vars[k])} is not a plain name`)
  const d = vars.retention_days
  if (!Number.isInteger(d) || d < 1 || d > MAX_RETENTION_DAYS)
    throw fail(`retention_days ${d} is out of range`)
  return vars
}

/**
 * The statements of a migration with its placeholders substituted. Only the known names are
 * placeholders; `{name:Type}` query parameters (with a colon) are left alone.
 */
export function renderMigration(m: Pick<Migration, 'name' | 'sql'>, vars: MigrationVars): string[] {
  const v = validVars(vars)
  const text = m.sql.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_all, key: string) => {
    if (key === 'db_logs') return v.db_logs
    if (key === 'db_processing') return v.db_processing
    if (key === 'retention_days') return String(v.retention_days)
    throw fail(`${m.name}: unknown placeholder {${key}}`)
  })
  return splitStatements(text)
}

/**
 * Splits SQL text at `;` outside quotes and comments (the HTTP interface takes one statement
 * per request). Comment-only pieces are dropped.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = []
  let start = 0
  let hasCode = false
  let i = 0
  const push = (end: number): void => {
    const s = sql.slice(start, end).trim()
    if (hasCode && s !== '') out.push(s)
    hasCode = false
  }
  while (i < sql.length) {
    const c = sql[i]
    if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i)
      i = nl === -1 ? sql.length : nl + 1
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2)
      if (end === -1) throw fail('unterminated /* comment')
      i = end + 2
    } else if (c === "'" || c === '"' || c === '`') {
      hasCode = true
      i++
      while (i < sql.length && sql[i] !== c) i += sql[i] === '\\' ? 2 : 1
      if (i >= sql.length) throw fail(`unterminated ${c} quote`)
      i++
    } else if (c === ';') {
      push(i)
      start = ++i
    } else {
      if (c !== undefined && !/\s/.test(c)) hasCode = true
      i++
    }
  }
  push(sql.length)
  return out
}

interface AppliedRow {
  version: number
  name: string
  checksum: string
}

/** Applies pending migrations in order, then aligns the TTLs with `retention_days`. */
export async function migrate(
  conn: StoreConnection,
  config: Pick<StoreConfig, 'db_logs' | 'db_processing' | 'retention_days'>,
  options: {
    dir?: string
    /** Called before each pending migration runs (a rebuild can take a while on a large store). */
    onApply?: (m: Pick<Migration, 'version' | 'name'>) => void
  } = {},
): Promise<MigrateResult> {
  const vars = validVars({
    db_logs: config.db_logs,
    db_processing: config.db_processing,
    retention_days: config.retention_days,
  })
  const migrations = await loadMigrations(options.dir)
  const ledger = `${vars.db_processing}.${MIGRATIONS_TABLE}`
  try {
    await conn.command(`CREATE DATABASE IF NOT EXISTS ${vars.db_processing}`)
    await conn.command(
      `CREATE TABLE IF NOT EXISTS ${ledger} (version UInt32, name String, checksum String, ` +
        `applied_at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY version`,
    )
  } catch (e) {
    throw fail(`cannot create ${ledger}: ${message(e)}`, e)
  }
  const rows = await conn.query<AppliedRow>(
    `SELECT version, any(name) AS name, any(checksum) AS checksum FROM ${ledger} GROUP BY version ORDER BY version`,
  )
  const applied = new Map(rows.map((r) => [r.version, r]))
  const known = new Set(migrations.map((m) => m.version))
  for (const r of rows)
    if (!known.has(r.version))
      throw fail(
        `the store has migration ${r.name} (version ${r.version}), which this tlsight does not ` +
          `know: it was migrated by a newer release`,
      )

  const result: MigrateResult = { applied: [], skipped: [], retention_changed: [] }
  for (const m of migrations) {
    const done = applied.get(m.version)
    if (done !== undefined) {
      if (done.checksum !== m.checksum)
        throw fail(
          `migration ${m.name} changed after it was applied (checksum ${done.checksum.slice(0, 12)}… ` +
            `in the store, ${m.checksum.slice(0, 12)}… on disk): never edit an applied ` +
            `migration, add a new one`,
        )
      result.skipped.push(m.version)
      continue
    }
    const statements = renderMigration(m, vars)
    options.onApply?.({ version: m.version, name: m.name })
    for (const [i, sql] of statements.entries()) {
      try {
        await conn.command(sql)
      } catch (e) {
        throw fail(`migration ${m.name}, statement ${i + 1}: ${message(e)}`, e)
      }
    }
    await conn.insert(
      ledger,
      Buffer.from(
        JSON.stringify({
          version: m.version,
          name: m.name,
          checksum: m.checksum,
          applied_at: new Date().toISOString(),
        }) + '\n',
      ),
      { dedup_token: `migration:${m.version}:${m.checksum}` },
    )
    result.applied.push(m.version)
  }
  result.retention_changed = await syncRetention(conn, vars)
  return result
}

/** Tables whose TTL follows `retention_days`, with the TTL expression's time column. */
export function retentionTables(vars: Pick<MigrationVars, 'db_logs' | 'db_processing'>): {
  table: string
  ttl_column: string
}[] {
  return [
    { table: `${vars.db_logs}.tls_events`, ttl_column: 'toDateTime(ts)' },
    { table: `${vars.db_logs}.http_events`, ttl_column: 'toDateTime(ts)' },
    { table: `${vars.db_logs}.session_events`, ttl_column: 'toDateTime(ts)' },
    { table: `${vars.db_processing}.fingerprint_sketch_minute`, ttl_column: 'minute' },
    { table: `${vars.db_processing}.fingerprint_count_minute`, ttl_column: 'minute' },
  ]
}

/**
 * The migrations write the retention of the first start into the TTLs; a later change of
 * `TLSIGHT_RETENTION_DAYS` is applied here with MODIFY TTL (existing parts are re-evaluated).
 */
async function syncRetention(conn: StoreConnection, vars: MigrationVars): Promise<string[]> {
  const changed: string[] = []
  for (const { table, ttl_column } of retentionTables(vars)) {
    const [db, name] = table.split('.')
    const rows = await conn.query<{ engine_full: string }>(
      'SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {name:String}',
      { db, name },
    )
    const engine = rows[0]?.engine_full
    if (engine === undefined) continue
    const days = /TTL .*?toIntervalDay\((\d+)\)/.exec(engine)?.[1]
    if (days !== undefined && Number(days) === vars.retention_days) continue
    await conn.command(
      `ALTER TABLE ${table} MODIFY TTL ${ttl_column} + INTERVAL ${vars.retention_days} DAY`,
    )
    changed.push(table)
  }
  return changed
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/**
 * @module store/mysql/schema
 * The signalytics-compatible aggregate tables and the statements that upsert them.
 *
 * Column names and types follow signalytics (https://github.com/vadage/signalytics,
 * `migrations/1767994759_tls_fingerprint_aggregations.sql` and `src/db.rs`), so a database
 * signalytics created keeps working and its dashboards read ours:
 * - `tls_fingerprints`: one row per (ciphers SHA-1, extensions SHA-1, ClientHello length) with
 *   `hit_count`, `first_seen`, `last_seen`.
 * - `tls_fingerprint_daily_stats`: one row per `stat_date` and fingerprint with `request_count`.
 *
 * Differences, none visible to a reader of the tables: `CREATE TABLE IF NOT EXISTS` for both
 * (an existing table is left as it is), InnoDB and utf8mb4 named explicitly, `utf8mb4_bin` (the
 * hashes are case-sensitive Base64), and `first_seen` / `last_seen` / `stat_date` come from the
 * events' time (UTC) rather than the server clock at insert, so a replayed batch lands on the
 * day it happened. Our own table `tlsight_applied_batches` records applied batch ids.
 *
 * NOTE: every statement here is a constant or built from a row count; values are always bound.
 */

export const FINGERPRINTS_TABLE = 'tls_fingerprints'
export const DAILY_STATS_TABLE = 'tls_fingerprint_daily_stats'
export const APPLIED_BATCHES_TABLE = 'tlsight_applied_batches'

/** Upper bound of the signalytics `VARCHAR(64)` hash columns. */
export const MAX_HASH_CHARS = 64
/** `tls_client_hello_length INT UNSIGNED`. */
export const MAX_HELLO_LENGTH = 4_294_967_295
/** MySQL `TIMESTAMP` range (UTC), as `YYYY-MM-DD HH:MM:SS`. */
export const MIN_TIMESTAMP = '1970-01-01 00:00:01'
export const MAX_TIMESTAMP = '2038-01-19 03:14:07'
/** Rows per multi-row INSERT; a batch with more distinct keys is sent in several statements. */
export const MAX_ROWS_PER_STATEMENT = 1_000

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin'

export const CREATE_FINGERPRINTS = `CREATE TABLE IF NOT EXISTS ${FINGERPRINTS_TABLE} (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  tls_client_ciphers_sha1 VARCHAR(64) NOT NULL,
  tls_client_extensions_sha1 VARCHAR(64) NOT NULL,
  tls_client_hello_length INT UNSIGNED NOT NULL,
  first_seen TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  last_seen TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  hit_count BIGINT UNSIGNED NOT NULL DEFAULT 1,
  UNIQUE KEY unique_tls_fingerprint (tls_client_ciphers_sha1, tls_client_extensions_sha1, tls_client_hello_length)
) ${TABLE_OPTIONS}`

export const CREATE_DAILY_STATS = `CREATE TABLE IF NOT EXISTS ${DAILY_STATS_TABLE} (
  stat_date DATE NOT NULL,
  tls_client_ciphers_sha1 VARCHAR(64) NOT NULL,
  tls_client_extensions_sha1 VARCHAR(64) NOT NULL,
  tls_client_hello_length INT UNSIGNED NOT NULL,
  request_count BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (stat_date, tls_client_ciphers_sha1, tls_client_extensions_sha1, tls_client_hello_length)
) ${TABLE_OPTIONS}`

export const CREATE_APPLIED_BATCHES = `CREATE TABLE IF NOT EXISTS ${APPLIED_BATCHES_TABLE} (
  batch_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  events INT UNSIGNED NOT NULL,
  applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY applied_at (applied_at)
) ENGINE=InnoDB`

export const CREATE_STATEMENTS: readonly string[] = [
  CREATE_FINGERPRINTS,
  CREATE_DAILY_STATS,
  CREATE_APPLIED_BATCHES,
]

/** Columns the sink writes, per table: checked against an existing table at start. */
export const REQUIRED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  [FINGERPRINTS_TABLE]: [
    'tls_client_ciphers_sha1',
    'tls_client_extensions_sha1',
    'tls_client_hello_length',
    'first_seen',
    'last_seen',
    'hit_count',
  ],
  [DAILY_STATS_TABLE]: [
    'stat_date',
    'tls_client_ciphers_sha1',
    'tls_client_extensions_sha1',
    'tls_client_hello_length',
    'request_count',
  ],
  [APPLIED_BATCHES_TABLE]: ['batch_id', 'events', 'applied_at'],
}

/** Columns of the live tables (bound: the table names are parameters, not identifiers). */
export const SELECT_COLUMNS = `SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name
  FROM information_schema.COLUMNS
  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?, ?)`

export const INSERT_APPLIED_BATCH = `INSERT INTO ${APPLIED_BATCHES_TABLE} (batch_id, events) VALUES (?, ?)`

export const PRUNE_APPLIED_BATCHES = `DELETE FROM ${APPLIED_BATCHES_TABLE}
  WHERE applied_at < CURRENT_TIMESTAMP - INTERVAL ? DAY LIMIT 10000`

function placeholders(rows: number, perRow: number): string {
  const one = `(${Array.from({ length: perRow }, () => '?').join(', ')})`
  return Array.from({ length: rows }, () => one).join(', ')
}

/**
 * Upsert of `rows` fingerprints, 6 values each: ciphers, extensions, length, hits, first_seen,
 * last_seen. `VALUES(col)` rather than MySQL 8's `AS new` row alias, which MariaDB lacks.
 *
 * NOTE: `last_seen` is assigned explicitly, which also keeps its `ON UPDATE CURRENT_TIMESTAMP`
 * from overwriting the event time with the insert time.
 */
export function upsertFingerprintsSql(rows: number): string {
  return (
    `INSERT INTO ${FINGERPRINTS_TABLE} (tls_client_ciphers_sha1, tls_client_extensions_sha1, ` +
    `tls_client_hello_length, hit_count, first_seen, last_seen) VALUES ${placeholders(rows, 6)} ` +
    'ON DUPLICATE KEY UPDATE hit_count = hit_count + VALUES(hit_count), ' +
    'first_seen = LEAST(first_seen, VALUES(first_seen)), ' +
    'last_seen = GREATEST(last_seen, VALUES(last_seen))'
  )
}

/** Upsert of `rows` daily counts, 5 values each: date, ciphers, extensions, length, hits. */
export function upsertDailyStatsSql(rows: number): string {
  return (
    `INSERT INTO ${DAILY_STATS_TABLE} (stat_date, tls_client_ciphers_sha1, ` +
    `tls_client_extensions_sha1, tls_client_hello_length, request_count) ` +
    `VALUES ${placeholders(rows, 5)} ` +
    'ON DUPLICATE KEY UPDATE request_count = request_count + VALUES(request_count)'
  )
}

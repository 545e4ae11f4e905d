/** @module cli/migrate — `tlsight migrate`: applies the store's pending schema migrations. */
import { parseArgs } from 'node:util'
import { errorCode } from '../errors.ts'
import { storeConfigFromEnv } from '../store/config.ts'
import { openStoreConnection, redactUrl } from '../store/connection.ts'
import { migrate } from '../store/migrate.ts'
import { EXIT_IO, EXIT_OK, EXIT_USAGE } from './exit-codes.ts'

export const MIGRATE_HELP = `Usage: tlsight migrate [options]

Applies the pending schema migrations (migrations/NNNN_*.sql) to the store, in order, and records
each in <CLICKHOUSE_DB_PROCESSING>.schema_migrations. Safe to run again: applied migrations are
skipped. "tlsight serve" does the same at start.

The store is the embedded one under TLSIGHT_DATA_DIR (default ./data), or the ClickHouse server
at CLICKHOUSE_URL (with CLICKHOUSE_USER, CLICKHOUSE_PASSWORD). Databases: CLICKHOUSE_DB_LOGS
(default tlsight_logs), CLICKHOUSE_DB_PROCESSING (default tlsight_processing). Retention:
TLSIGHT_RETENTION_DAYS (default 30), applied to the tables' TTL.

Options:
  -h, --help   this text

Exit codes: 0 done, 1 the store failed or a migration was refused, 64 bad usage, 78 bad config.
`

/** sysexits EX_CONFIG. */
const EXIT_CONFIG = 78

interface Io {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  env: NodeJS.ProcessEnv
}

export async function runMigrate(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  let help: boolean | undefined
  try {
    help = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } }).values.help
  } catch (e) {
    io.stderr.write(
      `tlsight migrate: ${e instanceof Error ? e.message : String(e)}\n\n${MIGRATE_HELP}`,
    )
    return EXIT_USAGE
  }
  if (help === true) {
    io.stdout.write(MIGRATE_HELP)
    return EXIT_OK
  }
  let config
  try {
    config = storeConfigFromEnv(io.env)
  } catch (e) {
    io.stderr.write(`tlsight migrate: ${e instanceof Error ? e.message : String(e)}\n`)
    return errorCode(e) === 'E_CONFIG_INVALID' ? EXIT_CONFIG : EXIT_IO
  }
  const where =
    config.clickhouse_url === null
      ? `embedded store in ${config.data_dir}`
      : `ClickHouse at ${redactUrl(config.clickhouse_url)}`
  try {
    const conn = await openStoreConnection(config)
    try {
      const r = await migrate(conn, config)
      const applied = r.applied.map((v) => String(v).padStart(4, '0')).join(', ')
      io.stdout.write(
        r.applied.length === 0
          ? `${where}: up to date (${r.skipped.length} migrations applied before).\n`
          : `${where}: applied ${applied} (${r.skipped.length} applied before).\n`,
      )
      if (r.retention_changed.length > 0)
        io.stdout.write(
          `Retention set to ${config.retention_days} days on ${r.retention_changed.join(', ')}.\n`,
        )
    } finally {
      await conn.close()
    }
    return EXIT_OK
  } catch (e) {
    const code = errorCode(e)
    io.stderr.write(
      `tlsight migrate: ${where}: ${code === undefined ? '' : code + ': '}` +
        `${e instanceof Error ? e.message : String(e)}\n`,
    )
    return EXIT_IO
  }
}

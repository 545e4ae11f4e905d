/** @module cli/serve — `tlsight serve` (= `npm start`): the collector, store and API in one process. */
import { parseArgs } from 'node:util'
import { EXIT_USAGE } from './exit-codes.ts'
import { errorCode } from '../errors.ts'

export const SERVE_HELP = `Usage: tlsight serve [options]

Runs the log collector (UDP and TCP syslog/JSON on :9000, POST /api/v1/ingest, a UNIX socket),
the HTTP-TLS correlator, the store (embedded ClickHouse under ./data, or CLICKHOUSE_URL) and the
REST API on PORT (default 4000). With --interface it also fingerprints live traffic.

Options:
  --config FILE          settings file (default ./tlsight.yaml when present; also TLSIGHT_CONFIG)
  -i, --interface IFACE  capture live on IFACE too (tcpdump; root or CAP_NET_RAW for tcpdump)
  -h, --help             this text

Settings (environment over the file over the defaults): PORT, LOG_LEVEL, NODE_NAME,
TLSIGHT_DATA_DIR, TLSIGHT_RETENTION_DAYS, CLICKHOUSE_URL/USER/PASSWORD, CLICKHOUSE_DB_LOGS,
CLICKHOUSE_DB_PROCESSING, TLSIGHT_UDP_PORT, TLSIGHT_TCP_PORT, TLSIGHT_UNIX_SOCKET,
TLSIGHT_TRUSTED_CIDRS, TLSIGHT_INGEST_TOKEN, TLSIGHT_API_TOKEN, TLSIGHT_CORRELATION_WINDOW_MS,
DATABASE_URL (MySQL/MariaDB aggregates); see docs/configuration.md.
`

export async function runServe(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let values: { config?: string; interface?: string; help?: boolean }
  try {
    values = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        interface: { type: 'string', short: 'i' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (e) {
    process.stderr.write(
      `tlsight serve: ${e instanceof Error ? e.message : String(e)}\n\n${SERVE_HELP}`,
    )
    return EXIT_USAGE
  }
  if (values.help === true) {
    process.stdout.write(SERVE_HELP)
    return 0
  }
  const { startServe } = await import('../serve/serve.ts')
  let server: Awaited<ReturnType<typeof startServe>>
  try {
    server = await startServe({ env, configPath: values.config, iface: values.interface })
  } catch (e) {
    const code = errorCode(e)
    process.stderr.write(
      `tlsight serve: ${e instanceof Error ? e.message : String(e)}${code === undefined ? '' : ` (${code})`}\n`,
    )
    return code === 'E_CONFIG_INVALID' ? 78 : 1
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  await server.close()
  return 0
}

/** @module cli/main — the `tlsight` command: dispatches to subcommands. */
import { pathToFileURL } from 'node:url'
import { EXIT_USAGE } from './exit-codes.ts'

const VERSION = '0.1.0'

export const HELP = `tlsight ${VERSION} — TLS fingerprint intelligence

Usage: tlsight <command> [options]

Commands:
  analyze <file|->   fingerprints (JA3, JA3S, JA4 family, JA4S/H/L/T/X, TFt/TFh, …) of a pcap/pcapng capture
  capture -i IFACE   live sensor: tcpdump → events on stdout, syslog, a socket
  serve              the collector, correlator, store and REST API (npm start)
  migrate            apply the store's schema migrations (embedded chDB, or CLICKHOUSE_URL)
  help               this text
  version            print the version

Run "tlsight analyze --help" for its options.
`

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  const io = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  }
  switch (cmd) {
    case 'analyze': {
      // Loaded on demand: `tlsight version` and `help` stay instant.
      const { analyzeCommand } = await import('./analyze.ts')
      return analyzeCommand(rest, io)
    }
    case 'capture': {
      const { runCapture } = await import('./capture.ts')
      return runCapture(rest, io)
    }
    case 'migrate': {
      const { runMigrate } = await import('./migrate.ts')
      return runMigrate(rest)
    }
    case 'serve': {
      const { runServe } = await import('./serve.ts')
      return runServe(rest, process.env)
    }
    case 'version':
    case '--version':
    case '-v':
      process.stdout.write(VERSION + '\n')
      return 0
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP)
      return 0
    default:
      process.stderr.write(`tlsight: unknown command "${cmd}"\n\n${HELP}`)
      return EXIT_USAGE
  }
}

// Run when executed directly (`node --import tsx src/cli/main.ts …`), not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      process.stderr.write(
        `tlsight: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      )
      process.exitCode = 1
    },
  )
}

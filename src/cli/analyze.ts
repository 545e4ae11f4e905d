/** @module cli/analyze — `tlsight analyze <file|->`: fingerprints of a pcap/pcapng capture. */
import { statSync } from 'node:fs'
import { fileChunks } from './file-chunks.ts'
import type { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import type { HandshakeEngineStats } from '../pipeline/stats.ts'
import type { CaptureSummary } from '../protocols/pcap/types.ts'
import { availableParallelism } from 'node:os'
import { ParallelAnalyzer } from './analyze-parallel.ts'
import {
  LineWriter,
  OUTPUT_FORMATS,
  eventFormatter,
  outputEncoding,
  sensorName,
  tableHeader,
  type OutputFormat,
} from './output.ts'
import { ProgressBar } from './progress.ts'
import { ja4plusEnabled } from './licensing.ts'
import { FAMILIES, parseFamilies, type Family } from '../fingerprints/families.ts'
import { EXIT_IO, EXIT_NOT_A_CAPTURE, EXIT_OK, EXIT_USAGE } from './exit-codes.ts'

export const ANALYZE_HELP = `Usage: tlsight analyze <capture.pcap|capture.pcapng|-> [options]

Reads a pcap or pcapng capture (a file, or stdin with "-") and prints one event per line:
  tls   each TLS/DTLS/QUIC ClientHello: JA3, JA4 (+ _r, _o, _ro), ja4_stable, TFt, Cloudflare's
        hashes, the server's JA3S/JA4S, the TCP handshake's JA4T/JA4TS/JA4L, certificates + JA4X
  http  each cleartext HTTP/1.x request: method, host, path, user agent, JA4H, TFh
  tcp   each TCP connection without a tls event: JA4T, JA4TS, JA4L

Options:
  --format jsonl|table|syslog
                         output format (default: table on a terminal, jsonl otherwise); syslog
                         is RFC 5424 with the JSON event as MSG, HOSTNAME from NODE_NAME
  --fingerprints LIST    families to compute, comma-separated (default all): ja3, ja3s, ja4,
                         ja4_stable, ja4s, ja4t, ja4l, ja4h, ja4x, certs, tft, tfh, cf; fields
                         of the others are null (no http events without ja4h or tfh, no tcp
                         events without ja4t or ja4l)
  --no-ja4plus           leave out the JA4+ families (FoxIO License 1.1), e.g. for commercial use;
                         also TLSIGHT_JA4PLUS=0
  --progress             force the progress bar on stderr (default: when reading a file, stdout is
                         redirected and stderr is a terminal); --no-progress turns it off
  --threads N|auto       threads in all: with N > 1, N-1 worker threads parse the capture and
                         follow a share of the flows each; with N <= 3 this one computes the
                         tls fingerprints and writes, else the workers do (default auto: one
                         per core for inputs over 32 MiB and for stdin; also TLSIGHT_THREADS)
  --stats                print the run's counters as JSON on stderr at the end
  -h, --help             this text

Exit codes: 0 done (a truncated capture still prints what it holds, and a warning with the
anomaly count on stderr), 1 input could not be read, 2 input is not a pcap/pcapng capture,
64 bad usage.
`

/** Inputs smaller than this run in one thread: starting workers would cost more than it saves. */
const PARALLEL_MIN_INPUT_BYTES = 32 * 1024 * 1024
const MAX_THREADS = 64

function threadCount(spec: string, inputBytes: number): number | undefined {
  if (spec === 'auto')
    return inputBytes >= PARALLEL_MIN_INPUT_BYTES ? Math.min(availableParallelism(), 8) : 1
  const n = Number(spec)
  return Number.isInteger(n) && n >= 1 && n <= MAX_THREADS ? n : undefined
}

interface Io {
  stdin: Readable
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
  env: NodeJS.ProcessEnv
}

export async function analyzeCommand(argv: string[], io: Io): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      allowNegative: true,
      options: {
        format: { type: 'string' },
        ja4plus: { type: 'boolean' },
        fingerprints: { type: 'string' },
        progress: { type: 'boolean' },
        stats: { type: 'boolean' },
        threads: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (e) {
    io.stderr.write(
      `tlsight analyze: ${e instanceof Error ? e.message : String(e)}\n\n${ANALYZE_HELP}`,
    )
    return EXIT_USAGE
  }
  const { values, positionals } = parsed
  if (values.help === true) {
    io.stdout.write(ANALYZE_HELP)
    return EXIT_OK
  }
  if (positionals.length !== 1) {
    io.stderr.write(
      `tlsight analyze: expected one input (a capture file or "-")\n\n${ANALYZE_HELP}`,
    )
    return EXIT_USAGE
  }
  const requested = values.format ?? (io.stdout.isTTY ? 'table' : 'jsonl')
  const format = OUTPUT_FORMATS.find((f) => f === requested)
  if (format === undefined) {
    io.stderr.write(
      `tlsight analyze: unknown --format "${requested}" (${OUTPUT_FORMATS.join(', ')})\n`,
    )
    return EXIT_USAGE
  }
  const families = parseFamilies(values.fingerprints ?? FAMILIES.join(','))
  if (!families.ok) {
    io.stderr.write(
      `tlsight analyze: unknown fingerprint families: ${families.unknown.join(', ')} ` +
        `(known: ${FAMILIES.join(', ')})\n`,
    )
    return EXIT_USAGE
  }
  const input = positionals[0] ?? '-'
  let total = 0
  if (input !== '-') {
    try {
      const st = statSync(input)
      if (!st.isFile()) throw new Error('not a regular file')
      total = st.size
    } catch (e) {
      io.stderr.write(
        `tlsight analyze: cannot read ${input}: ${e instanceof Error ? e.message : String(e)}\n`,
      )
      return EXIT_IO
    }
  }
  const threads = threadCount(
    values.threads ?? io.env.TLSIGHT_THREADS ?? 'auto',
    input === '-' ? Infinity : total,
  )
  if (threads === undefined) {
    io.stderr.write(
      `tlsight analyze: --threads takes a number from 1 to ${MAX_THREADS} or "auto"\n`,
    )
    return EXIT_USAGE
  }
  const showProgress =
    values.progress ?? (input !== '-' && !io.stdout.isTTY && io.stderr.isTTY === true)
  return run({
    format,
    total,
    name: input === '-' ? 'stdin' : input,
    path: input === '-' ? undefined : input,
    ja4plus: values.ja4plus ?? ja4plusEnabled(io.env),
    families: families.value,
    threads,
    progress: showProgress ? new ProgressBar(total, io.stderr) : undefined,
    stats: values.stats === true,
    io,
  })
}

interface RunOptions {
  format: OutputFormat
  /** The input file; undefined for stdin. */
  path: string | undefined
  total: number
  name: string
  ja4plus: boolean
  families: Family[]
  threads: number
  progress: ProgressBar | undefined
  stats: boolean
  io: Io
}

/** Where chunks go: one engine in this thread, or shards in worker threads. */
interface Backend {
  push(chunk: Uint8Array): void | Promise<void>
  readonly failed: boolean
  readonly events: number
  end(): Promise<{ summary: CaptureSummary; stats: HandshakeEngineStats }>
  destroy(): Promise<void>
}

/** The engine is loaded here, on demand: with worker threads this thread does not run it. */
async function singleThread(o: RunOptions, out: LineWriter): Promise<Backend> {
  const { CaptureAnalyzer } = await import('../pipeline/capture-analyzer.ts')
  const sensor = sensorName(o.io.env)
  const format = eventFormatter(o.format, sensor)
  const analyzer = new CaptureAnalyzer({
    sensor,
    ja4plus: o.ja4plus,
    families: o.families,
    onEvent: (e) => out.line(format(e)),
  })
  return {
    push: (chunk) => analyzer.push(chunk),
    get failed() {
      return analyzer.failed
    },
    get events() {
      return analyzer.events
    },
    end: () => Promise.resolve(analyzer.end()),
    destroy: () => Promise.resolve(),
  }
}

async function run(o: RunOptions): Promise<number> {
  const out = new LineWriter(o.io.stdout, outputEncoding(o.format))
  if (o.format === 'table') out.line(tableHeader())
  const sensor = sensorName(o.io.env)
  const format = eventFormatter(o.format, sensor)
  const parallel = (path: string | undefined): ParallelAnalyzer =>
    new ParallelAnalyzer({
      workers: o.threads - 1,
      sensor,
      ja4plus: o.ja4plus,
      families: o.families,
      path,
      format: o.format,
      onEvent: (e) => out.line(format(e)),
      write: (bytes) => out.bytes(bytes),
    })
  if (o.threads > 1 && o.path !== undefined) {
    // Workers read the file themselves; this thread fingerprints and writes what they return.
    const p = parallel(o.path)
    try {
      while (await p.progress()) {
        if (out.needsFlush) await out.flush()
        o.progress?.update(p.bytes, p.events)
        if (p.failed) break
      }
      return await finish(o, out, await p.end())
    } catch (e) {
      await p.destroy()
      return fail(o, out, e)
    }
  }
  const backend: Backend = o.threads > 1 ? parallel(undefined) : await singleThread(o, out)
  let bytes = 0
  const source: AsyncIterable<unknown> = o.path !== undefined ? fileChunks(o.path) : o.io.stdin
  try {
    for await (const chunk of source) {
      if (!(chunk instanceof Uint8Array)) continue
      // A plain Uint8Array view: Buffer#subarray is several times slower than the typed-array one
      // the parsers call per packet.
      await backend.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
      bytes += chunk.length
      if (backend.failed) break
      if (out.needsFlush) await out.flush()
      o.progress?.update(bytes, backend.events)
    }
    return await finish(o, out, await backend.end())
  } catch (e) {
    await backend.destroy()
    return fail(o, out, e)
  }
}

async function fail(o: RunOptions, out: LineWriter, e: unknown): Promise<number> {
  o.progress?.done()
  await out.flush()
  o.io.stderr.write(
    `tlsight analyze: error reading ${o.name}: ${e instanceof Error ? e.message : String(e)}\n`,
  )
  return EXIT_IO
}

async function finish(
  o: RunOptions,
  out: LineWriter,
  { summary, stats }: { summary: CaptureSummary; stats: HandshakeEngineStats },
): Promise<number> {
  o.progress?.done()
  await out.flush()
  if (summary.error?.code === 'not_a_capture') {
    o.io.stderr.write(`tlsight analyze: ${o.name}: ${summary.error.message}\n`)
    return EXIT_NOT_A_CAPTURE
  }
  const captureAnomalies = Object.values(summary.anomalies).reduce((n, v) => n + (v ?? 0), 0)
  const anomalies = Object.values(stats.anomalies).reduce((n, v) => n + v, 0) + captureAnomalies
  if (summary.truncated || summary.error !== undefined) {
    const why = summary.error !== undefined ? `corrupt (${summary.error.message})` : 'truncated'
    o.io.stderr.write(
      `tlsight analyze: warning: ${o.name} is ${why}; printed what it holds: ` +
        `${summary.packets} packets, ${stats.events} handshakes, ${anomalies} anomalies\n`,
    )
  }
  if (o.stats) {
    o.io.stderr.write(JSON.stringify({ capture: summary, engine: stats }) + '\n')
  }
  return EXIT_OK
}

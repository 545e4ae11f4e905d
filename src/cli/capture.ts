/** @module cli/capture — `tlsight capture -i IFACE`: the live sensor. */
import type { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { AppError, errorCode } from '../errors.ts'
import { FAMILIES, familySwitches, parseFamilies } from '../fingerprints/families.ts'
import {
  DEFAULT_CAPTURE_BUFFER_KIB,
  captureSettingsFromEnv,
  startCapture,
  type CaptureStats,
} from '../capture/capture.ts'
import {
  DEFAULT_HTTP_PORTS,
  DEFAULT_TLS_PORTS,
  QUIC_PORT,
  defaultCaptureFilter,
} from '../capture/filter.ts'
import { TCPDUMP_STATS_INTERVAL_MS } from '../capture/tcpdump.ts'
import { EVENT_FORMATS, createOutput, type EventOutput } from '../capture/outputs.ts'
import { ja4plusEnabled } from './licensing.ts'
import { EXIT_IO, EXIT_OK, EXIT_USAGE } from './exit-codes.ts'

export const CAPTURE_HELP = `Usage: tlsight capture -i IFACE [options]

Captures live traffic with tcpdump and prints one event per TLS/QUIC ClientHello (tls), cleartext
HTTP request (http) and other TCP connection (tcp), as "tlsight analyze" does for a file.
tcpdump needs root or CAP_NET_RAW (Node does not): as a non-root user, run once
  setcap cap_net_raw,cap_net_admin=eip "$(command -v tcpdump)"

Options:
  -i, --interface IFACE  interface to capture on ("any" for all)
  --bpf EXPR             BPF filter instead of the default one (see --print-filter); e.g.
                         'tcp port 443' keeps whole certificate chains (JA4X) at a higher cost
  --tls-ports LIST       TLS ports of the default filter, comma-separated; "+4433" adds to the
                         default (${DEFAULT_TLS_PORTS.join(',')})
  --http-ports LIST      cleartext HTTP ports likewise (default ${DEFAULT_HTTP_PORTS.join(',')})
  --no-quic              leave out QUIC (UDP ${QUIC_PORT} long-header packets)
  --output SPEC          where events go, repeatable (default -):
                           -                 stdout, in --format
                           udp://host:port   one RFC 5424 message per datagram
                           tcp://host:port   RFC 5424, RFC 6587 octet-counted; reconnects
                           unix:///path      JSON lines over a UNIX stream socket; reconnects
                         add ?format=jsonl|syslog to a URL to change its format
  --format jsonl|syslog  stdout format (default jsonl); syslog HOSTNAME is NODE_NAME
  --fingerprints LIST    families to compute (default all):
                         ${FAMILIES.join(',')};
                         without ja4l the default filter also leaves out the clients' pure ACKs
  --no-ja4plus           leave out the JA4+ families (FoxIO License 1.1); also TLSIGHT_JA4PLUS=0
  --tcpdump PATH         tcpdump executable (default tcpdump on PATH; also TLSIGHT_TCPDUMP)
  --buffer-size KIB      kernel buffer, tcpdump -B (default ${DEFAULT_CAPTURE_BUFFER_KIB} KiB);
                         libpcap's 2 MiB drops when the sensor waits ~30 ms for a CPU
  --stats-interval SEC   print the counters as a JSON line on stderr every SEC seconds
                         (default 0: only when the capture stops)
  --print-filter         print the BPF filter that would run, and exit
  -h, --help             this text

Environment: NODE_NAME (sensor name, default the host name), DEDUP_TTL (seconds an identical
event from the same source IP is suppressed, default 300, 0 = off), TLSIGHT_SESSION_TTL (seconds
of silence before a flow is flushed, default 60), TLSIGHT_MAX_SESSIONS (flows followed at once,
default 100000).

SIGINT or SIGTERM stops the capture: tcpdump's last packets are read, pending handshakes are
flushed, the outputs are closed and the counters (kernel drops among them) go to stderr.

Exit codes: 0 stopped by a signal, 1 capture failed (tcpdump missing, no permission, unknown
interface, bad filter, tcpdump died), 64 bad usage or setting.
`

const MAX_BUFFER_SIZE_KIB = 4 * 1024 * 1024
const MAX_STATS_INTERVAL_SECONDS = 86_400

export interface CaptureIo {
  stdout: Writable
  stderr: Writable
  env: NodeJS.ProcessEnv
  /** Stops the capture when aborted; default: SIGINT and SIGTERM of this process. */
  signal?: AbortSignal
}

/** `443,8443` or `+4433` (added to `defaults`); undefined when malformed. */
export function parsePortList(spec: string, defaults: readonly number[]): number[] | undefined {
  const add = spec.startsWith('+')
  const items = (add ? spec.slice(1) : spec).split(',').map((s) => s.trim())
  const ports: number[] = []
  for (const item of items) {
    if (item === '') continue
    const n = Number(item)
    if (!/^\d+$/.test(item) || n < 1 || n > 65_535) return undefined
    ports.push(n)
  }
  return add ? [...new Set([...defaults, ...ports])] : ports
}

function usage(io: CaptureIo, message: string): number {
  io.stderr.write(`tlsight capture: ${message}\n\nRun "tlsight capture --help" for the options.\n`)
  return EXIT_USAGE
}

function statsLine(s: CaptureStats, final: boolean): string {
  return (
    JSON.stringify({
      type: final ? 'capture_stats_final' : 'capture_stats',
      uptime_ms: s.uptimeMs,
      packets: s.packets,
      bytes: s.bytes,
      kernel_captured: s.kernel.captured,
      kernel_received_by_filter: s.kernel.receivedByFilter,
      kernel_dropped: s.kernel.droppedByKernel,
      interface_dropped: s.kernel.droppedByInterface,
      own_dropped: s.ownDrops,
      events_produced: s.events.produced,
      events_suppressed: s.events.suppressed,
      events_emitted: s.events.emitted,
      sessions_active: s.sessions.active,
      sessions_finished: s.sessions.finished,
      sessions_evicted: s.engine.flowsEvicted,
      pauses: s.pauses,
      outputs: s.outputs,
    }) + '\n'
  )
}

/** Runs `tlsight capture`; resolves with the exit code once the capture stopped. */
export async function runCapture(argv: string[], io: CaptureIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      allowNegative: true,
      options: {
        interface: { type: 'string', short: 'i' },
        bpf: { type: 'string' },
        output: { type: 'string', multiple: true },
        format: { type: 'string' },
        fingerprints: { type: 'string' },
        ja4plus: { type: 'boolean' },
        quic: { type: 'boolean' },
        tcpdump: { type: 'string' },
        'tls-ports': { type: 'string' },
        'http-ports': { type: 'string' },
        'buffer-size': { type: 'string' },
        'stats-interval': { type: 'string' },
        'print-filter': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (e) {
    return usage(io, e instanceof Error ? e.message : String(e))
  }
  const v = parsed.values
  if (v.help === true) {
    io.stdout.write(CAPTURE_HELP)
    return EXIT_OK
  }
  const format = EVENT_FORMATS.find((f) => f === (v.format ?? 'jsonl'))
  if (format === undefined) return usage(io, `unknown --format "${v.format ?? ''}" (jsonl, syslog)`)
  const families = parseFamilies(v.fingerprints ?? FAMILIES.join(','))
  if (!families.ok) {
    return usage(io, `unknown fingerprint families: ${families.unknown.join(', ')}`)
  }
  const tlsPorts = parsePortList(v['tls-ports'] ?? DEFAULT_TLS_PORTS.join(','), DEFAULT_TLS_PORTS)
  if (tlsPorts === undefined) return usage(io, '--tls-ports takes port numbers, e.g. 443,8443')
  const httpPorts = parsePortList(
    v['http-ports'] ?? DEFAULT_HTTP_PORTS.join(','),
    DEFAULT_HTTP_PORTS,
  )
  if (httpPorts === undefined) return usage(io, '--http-ports takes port numbers, e.g. 80,8080')
  const bufferSizeKiB = v['buffer-size'] === undefined ? undefined : Number(v['buffer-size'])
  if (
    bufferSizeKiB !== undefined &&
    (!Number.isInteger(bufferSizeKiB) || bufferSizeKiB < 1 || bufferSizeKiB > MAX_BUFFER_SIZE_KIB)
  ) {
    return usage(io, `--buffer-size takes KiB from 1 to ${MAX_BUFFER_SIZE_KIB}`)
  }
  const statsInterval = Number(v['stats-interval'] ?? '0')
  if (
    !Number.isFinite(statsInterval) ||
    statsInterval < 0 ||
    statsInterval > MAX_STATS_INTERVAL_SECONDS
  ) {
    return usage(io, `--stats-interval takes seconds from 0 to ${MAX_STATS_INTERVAL_SECONDS}`)
  }
  const ja4plus = v.ja4plus ?? ja4plusEnabled(io.env)
  const filterOptions = {
    tlsPorts,
    httpPorts,
    quic: v.quic ?? true,
    ja4l: familySwitches(families.value, ja4plus).ja4l,
  }

  let settings
  let filter: string
  try {
    settings = captureSettingsFromEnv(io.env)
    filter = v.bpf ?? defaultCaptureFilter(filterOptions)
  } catch (e) {
    return usage(io, e instanceof Error ? e.message : String(e))
  }
  if (v['print-filter'] === true) {
    io.stdout.write(filter + '\n')
    return EXIT_OK
  }
  if (v.interface === undefined || v.interface === '') {
    return usage(io, 'an interface is required: -i IFACE (see "ip link"; "any" for all)')
  }

  // Stopped by the caller's signal, or by SIGINT / SIGTERM of this process.
  const controller = new AbortController()
  const onSignal = (): void => controller.abort()
  if (io.signal === undefined) {
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  } else if (io.signal.aborted) controller.abort()
  else io.signal.addEventListener('abort', onSignal, { once: true })
  const signal = controller.signal

  const outputs: EventOutput[] = []
  const fatal: Error[] = []
  let timer: NodeJS.Timeout | undefined
  try {
    for (const spec of v.output ?? ['-']) {
      outputs.push(
        await createOutput(spec, {
          format,
          sensor: settings.sensor,
          stdout: io.stdout,
          onFatal: (err) => {
            // stdout closed (EPIPE: `| head`): nothing more can be said there; stop.
            fatal.push(err)
            controller.abort()
          },
        }),
      )
    }
    const cap = await startCapture({
      iface: v.interface,
      bpf: filter,
      families: families.value,
      ja4plus,
      sensor: settings.sensor,
      sessionTtlSeconds: settings.sessionTtlSeconds,
      maxSessions: settings.maxSessions,
      dedupTtlSeconds: settings.dedupTtlSeconds,
      outputs,
      tcpdumpPath: v.tcpdump ?? settings.tcpdumpPath,
      bufferSizeKiB,
      kernelStatsIntervalMs:
        statsInterval > 0
          ? Math.min(TCPDUMP_STATS_INTERVAL_MS, statsInterval * 1000)
          : TCPDUMP_STATS_INTERVAL_MS,
    })
    io.stderr.write(
      `tlsight capture: listening on ${v.interface} (tcpdump pid ${cap.pid}, ` +
        `sensor ${settings.sensor}, dedup ${settings.dedupTtlSeconds} s)\n`,
    )
    if (statsInterval > 0) {
      timer = setInterval(
        () => io.stderr.write(statsLine(cap.stats(), false)),
        statsInterval * 1000,
      )
    }
    const stopped = new Promise<'signal'>((resolve) => {
      if (signal.aborted) resolve('signal')
      else signal.addEventListener('abort', () => resolve('signal'), { once: true })
    })
    const outcome = await Promise.race([stopped, cap.done.then(() => 'ended' as const)])
    const final = outcome === 'signal' ? await cap.stop() : await cap.done
    io.stderr.write(statsLine(final, true))
    if (outcome === 'ended') {
      io.stderr.write('tlsight capture: tcpdump ended\n')
      return EXIT_IO
    }
    return EXIT_OK
  } catch (e) {
    await Promise.all(outputs.map((o) => o.close()))
    const code = errorCode(e)
    if (code === 'E_CONFIG_INVALID') return usage(io, e instanceof Error ? e.message : String(e))
    const message = e instanceof AppError ? `${e.code}: ${e.message}` : String(e)
    io.stderr.write(`tlsight capture: ${message}\n`)
    return EXIT_IO
  } finally {
    if (timer !== undefined) clearInterval(timer)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

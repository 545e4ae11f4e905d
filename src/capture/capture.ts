/**
 * @module capture/capture
 * The live sensor: tcpdump → the streaming capture reader and handshake engine `analyze` uses →
 * dedup → outputs (or a callback, for `serve --interface`). Settings come from the environment
 * (`captureSettingsFromEnv`) and are validated once; nothing here installs signal handlers: the
 * caller decides when to `stop()`.
 */
import { AppError } from '../errors.ts'
import type { CaptureEvent } from '../events/capture.ts'
import { familySwitches, FAMILIES, type Family } from '../fingerprints/families.ts'
import { HandshakeEngine } from '../pipeline/handshakes.ts'
import type { HandshakeEngineStats } from '../pipeline/stats.ts'
import { MAX_FLOWS_TRACKED } from '../protocols/limits.ts'
import { CaptureReader } from '../protocols/pcap/reader.ts'
import type { CaptureSummary } from '../protocols/pcap/types.ts'
import { sensorName } from '../cli/output.ts'
import { DEFAULT_DEDUP_TTL_SECONDS, Deduper, MAX_DEDUP_ENTRIES, type DedupStats } from './dedup.ts'
import { DEFAULT_TLS_PORTS, defaultCaptureFilter, type CaptureFilterOptions } from './filter.ts'
import type { EventOutput, OutputStats } from './outputs.ts'
import {
  DEFAULT_TCPDUMP_PATH,
  TCPDUMP_STATS_INTERVAL_MS,
  spawnTcpdump,
  type KernelStats,
  type TcpdumpProcess,
} from './tcpdump.ts'

/** Default TLSIGHT_SESSION_TTL: a flow with no captured packet for this long is flushed. */
export const DEFAULT_SESSION_TTL_SECONDS = 60
export const MAX_SESSION_TTL_SECONDS = 86_400
/** Default TLSIGHT_MAX_SESSIONS: flows followed at once (the oldest idle one is evicted). */
export const DEFAULT_MAX_SESSIONS = 100_000
export const MAX_DEDUP_TTL_SECONDS = 7 * 86_400
/**
 * With no packet for this long, the engine's clock is advanced to the wall clock, so idle flows
 * expire (and their events go out) on a quiet link too.
 */
export const IDLE_TICK_INTERVAL_MS = 1_000
/**
 * Kernel capture buffer of the sensor's tcpdump (`-B`), KiB. libpcap's 2 MiB default is a few
 * dozen TPACKET_V3 blocks on `lo` (64 KiB MTU), and in immediate mode each block is handed over
 * after 1 ms: a sensor descheduled for ~30 ms on a busy host then drops (measured with
 * bench/capture.ts: ~10% drops at 150 handshakes/s on 2 busy cores; none with 32 MiB).
 */
export const DEFAULT_CAPTURE_BUFFER_KIB = 32_768

/** Environment settings of a sensor, validated. */
export interface CaptureSettings {
  /** NODE_NAME, else the host name: `sensor` of every event, syslog HOSTNAME. */
  sensor: string
  /** TLSIGHT_SESSION_TTL (seconds). */
  sessionTtlSeconds: number
  /** TLSIGHT_MAX_SESSIONS. */
  maxSessions: number
  /** DEDUP_TTL (seconds, 0 = off). */
  dedupTtlSeconds: number
  /** TLSIGHT_TCPDUMP. */
  tcpdumpPath: string
  /** TLSIGHT_TLS_PORTS: the default filter's TLS ports (`443,8443`; `+4433` adds to the default). */
  filter: CaptureFilterOptions
}

function intSetting(
  env: NodeJS.ProcessEnv,
  key: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[key]?.trim()
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new AppError(
      'E_CONFIG_INVALID',
      `${key}: "${raw}" is not an integer from ${min} to ${max}`,
    )
  }
  return n
}

function portListSetting(
  env: NodeJS.ProcessEnv,
  key: string,
  defaults: readonly number[],
): number[] | undefined {
  const raw = env[key]?.trim()
  if (raw === undefined || raw === '') return undefined
  const add = raw.startsWith('+')
  const items = (add ? raw.slice(1) : raw)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  const isPort = (s: string): boolean => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 65_535
  if (items.length === 0 || !items.every(isPort)) {
    throw new AppError(
      'E_CONFIG_INVALID',
      `${key}: "${raw}" is not a list of ports from 1 to 65535 (e.g. 443,8443, or +4433 to add)`,
    )
  }
  const ports = items.map(Number)
  return add ? [...new Set([...defaults, ...ports])] : ports
}

/**
 * Reads NODE_NAME, DEDUP_TTL, TLSIGHT_SESSION_TTL, TLSIGHT_MAX_SESSIONS, TLSIGHT_TCPDUMP,
 * TLSIGHT_TLS_PORTS.
 */
export function captureSettingsFromEnv(env: NodeJS.ProcessEnv): CaptureSettings {
  const tcpdump = env.TLSIGHT_TCPDUMP?.trim()
  return {
    sensor: sensorName(env),
    sessionTtlSeconds: intSetting(
      env,
      'TLSIGHT_SESSION_TTL',
      DEFAULT_SESSION_TTL_SECONDS,
      1,
      MAX_SESSION_TTL_SECONDS,
    ),
    maxSessions: intSetting(
      env,
      'TLSIGHT_MAX_SESSIONS',
      DEFAULT_MAX_SESSIONS,
      1,
      MAX_FLOWS_TRACKED,
    ),
    dedupTtlSeconds: intSetting(
      env,
      'DEDUP_TTL',
      DEFAULT_DEDUP_TTL_SECONDS,
      0,
      MAX_DEDUP_TTL_SECONDS,
    ),
    tcpdumpPath: tcpdump !== undefined && tcpdump !== '' ? tcpdump : DEFAULT_TCPDUMP_PATH,
    filter: { tlsPorts: portListSetting(env, 'TLSIGHT_TLS_PORTS', DEFAULT_TLS_PORTS) },
  }
}

export interface CaptureOptions {
  /** Interface for `tcpdump -i` (`any` for all). */
  iface: string
  /** A BPF expression to use instead of the default filter. */
  bpf?: string
  /** Ports and switches of the default filter (`ja4l` defaults to whether JA4L is computed). */
  filter?: CaptureFilterOptions
  families?: readonly Family[]
  ja4plus?: boolean
  sensor?: string
  sessionTtlSeconds?: number
  maxSessions?: number
  /** 0 turns dedup off (default DEFAULT_DEDUP_TTL_SECONDS). */
  dedupTtlSeconds?: number
  dedupMaxEntries?: number
  outputs?: readonly EventOutput[]
  /** Every event that passed dedup, before the outputs (in-process consumers: `serve`). */
  onEvent?: (e: CaptureEvent) => void
  tcpdumpPath?: string
  /** Kernel capture buffer, KiB (`tcpdump -B`; default DEFAULT_CAPTURE_BUFFER_KIB). */
  bufferSizeKiB?: number
  /** How often tcpdump is asked for its counters (SIGUSR1); 0 = only at exit. */
  kernelStatsIntervalMs?: number
}

export interface CaptureStats {
  /** tcpdump's counters (-1 until it reported them). */
  kernel: KernelStats
  /** Events we lost ourselves (outputs' drops); kernel drops are in `kernel`. */
  ownDrops: number
  /** pcap bytes read from tcpdump. */
  bytes: number
  /** Packets handed to the engine. */
  packets: number
  /** Events the engine produced, those dedup suppressed, and those sent on. */
  events: { produced: number; suppressed: number; emitted: number }
  dedup: DedupStats
  /** Flows held now: followed, and finished ones awaiting their teardown. */
  sessions: { active: number; finished: number }
  /** Times the capture stopped reading because an output (stdout) pushed back. */
  pauses: number
  engine: HandshakeEngineStats
  capture: CaptureSummary
  outputs: Record<string, OutputStats>
  uptimeMs: number
}

export interface CaptureHandle {
  /** The BPF expression tcpdump runs. */
  readonly filter: string
  readonly pid: number
  stats(): CaptureStats
  /** Stops tcpdump, reads its last packets, flushes the engine and closes the outputs. */
  stop(): Promise<CaptureStats>
  /**
   * Settles when the capture is over: with the final statistics after `stop()`, or rejected
   * (E_CAPTURE_FAILED) when tcpdump ended by itself; the engine and outputs are flushed first.
   */
  readonly done: Promise<CaptureStats>
}

/**
 * Starts a live capture; resolves once tcpdump listens. Rejects with the E_CAPTURE_* codes of
 * `spawnTcpdump`, or E_CONFIG_INVALID for a bad port list.
 * @example
 * const cap = await startCapture({ iface: 'eth0', outputs: [await createOutput('-', o)] })
 * process.once('SIGINT', () => void cap.stop())
 */
export async function startCapture(opts: CaptureOptions): Promise<CaptureHandle> {
  const startedMs = Date.now()
  const families = opts.families ?? FAMILIES
  const ja4plus = opts.ja4plus ?? true
  const ja4l = familySwitches(families, ja4plus).ja4l
  const filter =
    opts.bpf !== undefined && opts.bpf.trim() !== ''
      ? opts.bpf
      : defaultCaptureFilter({ ja4l, ...opts.filter })
  const outputs = opts.outputs ?? []
  const dedup = new Deduper(
    opts.dedupTtlSeconds ?? DEFAULT_DEDUP_TTL_SECONDS,
    opts.dedupMaxEntries ?? MAX_DEDUP_ENTRIES,
  )
  const counts = { produced: 0, suppressed: 0, emitted: 0, bytes: 0, ticks: 0, pauses: 0 }
  const onEvent = opts.onEvent
  const engine = new HandshakeEngine({
    sensor: opts.sensor ?? '',
    families,
    ja4plus,
    maxFlows: opts.maxSessions ?? DEFAULT_MAX_SESSIONS,
    idleTimeoutUs: (opts.sessionTtlSeconds ?? DEFAULT_SESSION_TTL_SECONDS) * 1_000_000,
    onEvent: (e) => {
      counts.produced++
      if (!dedup.accept(e)) {
        counts.suppressed++
        return
      }
      counts.emitted++
      onEvent?.(e)
      for (const o of outputs) o.write(e)
    },
  })
  const reader = new CaptureReader((rec) => engine.packet(rec))

  const proc: TcpdumpProcess = await spawnTcpdump({
    iface: opts.iface,
    filter,
    path: opts.tcpdumpPath,
    bufferSizeKiB: opts.bufferSizeKiB ?? DEFAULT_CAPTURE_BUFFER_KIB,
    statsIntervalMs: opts.kernelStatsIntervalMs ?? TCPDUMP_STATS_INTERVAL_MS,
  })

  let stopping = false
  let ended = false
  let lastDataMs = Date.now()
  /** Reading is paused for an output: packets wait in the pipe, so the clock must not move. */
  let paused = false
  const flushOutputs = (): void => {
    for (const o of outputs) o.flush()
  }
  const stdout = proc.stdout
  stdout.on('data', (chunk: Buffer) => {
    lastDataMs = Date.now()
    counts.bytes += chunk.length
    // A plain Uint8Array view: the parsers' subarray calls are faster on it than on a Buffer.
    reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    flushOutputs()
    if (stopping) return
    const waits: Promise<void>[] = []
    for (const o of outputs) if (o.backpressure !== undefined) waits.push(o.backpressure)
    if (waits.length === 0) return
    // Lossless outputs (stdout) push back: tcpdump blocks on its pipe, and the kernel drops
    // (counted in `kernel.droppedByKernel`) rather than us buffering without bound.
    stdout.pause()
    paused = true
    counts.pauses++
    void Promise.all(waits).then(() => {
      paused = false
      if (!ended) stdout.resume()
    })
  })

  const tick = setInterval(() => {
    if (ended || paused || Date.now() - lastDataMs < IDLE_TICK_INTERVAL_MS) return
    counts.ticks++
    engine.tick(Date.now() * 1000)
    flushOutputs()
  }, IDLE_TICK_INTERVAL_MS)
  tick.unref()

  const stats = (): CaptureStats => {
    const e = engine.stats
    const outs: Record<string, OutputStats> = {}
    let ownDrops = 0
    for (const o of outputs) {
      const s = o.stats()
      outs[o.name] = s
      ownDrops += s.dropped
    }
    return {
      kernel: proc.stats(),
      ownDrops,
      bytes: counts.bytes,
      packets: e.packets - counts.ticks,
      events: { produced: counts.produced, suppressed: counts.suppressed, emitted: counts.emitted },
      dedup: dedup.stats(),
      sessions: engine.tracked,
      pauses: counts.pauses,
      // The clock ticks are no packets of the capture.
      engine: {
        ...e,
        packets: e.packets - counts.ticks,
        decoded: e.decoded - counts.ticks,
        anomalies: { ...e.anomalies },
      },
      capture: { ...reader.summary, anomalies: { ...reader.summary.anomalies } },
      outputs: outs,
      uptimeMs: Date.now() - startedMs,
    }
  }

  const done = (async (): Promise<CaptureStats> => {
    let failure: unknown
    try {
      await proc.exited
    } catch (e) {
      failure = e
    }
    ended = true
    clearInterval(tick)
    reader.end()
    engine.finish()
    flushOutputs()
    await Promise.all(outputs.map((o) => o.close()))
    if (failure !== undefined) throw failure
    return stats()
  })()
  // Reported through `done` and `stop()`; unobserved, it must not crash the process.
  done.catch(() => {})

  return {
    filter,
    pid: proc.pid,
    stats,
    done,
    async stop() {
      stopping = true
      // Whatever tcpdump still writes is read: it cannot exit while its pipe is full.
      paused = false
      stdout.resume()
      await proc.stop()
      return done
    },
  }
}

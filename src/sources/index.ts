/**
 * @module sources
 * The log collector: web-server and sensor logs in, `http` / `tls` events out.
 * - UDP (`TLSIGHT_UDP_PORT`, 9000): one datagram = one record, bare JSON or JSON in syslog;
 * - TCP (`TLSIGHT_TCP_PORT`, 9000): RFC 6587 syslog (octet counting or LF) and NDJSON;
 * - UNIX stream socket (`TLSIGHT_UNIX_SOCKET`, off by default) for Apache's piped logs;
 * - `POST /api/v1/ingest`: NDJSON, gzip accepted, token-authenticated (the API's route; `ingest`
 *   below, mounted by the HTTP server).
 * Senders outside `TLSIGHT_TRUSTED_CIDRS` are refused and counted. Nothing a sender writes can
 * stop the process: bad input is counted by reason and sampled to the log once a second.
 * See docs/integrations.md.
 */
import { hostname } from 'node:os'
import type { AddressInfo } from 'node:net'
import { AppError } from '../errors.ts'
import { MAX_RECORD_BYTES } from './decode.ts'
import { ingestRecords, MAX_INGEST_BODY_BYTES, type IngestCounts } from './ingest.ts'
import { DropSampler, SinkGate, SourceStats, type EventSink, type SourceLogger } from './stats.ts'
import { startTcpSource } from './tcp.ts'
import { DEFAULT_TRUSTED_CIDRS, parseCidrList, TrustList, type Cidr } from './trust.ts'
import { startUdpSource, type RunningListener } from './udp.ts'
import { startUnixSource } from './unix.ts'

export { recordToEvent, DROP_REASONS, MAPPING_NOTES } from './mapping.ts'
export type { DropReason, MappingNote, MappingResult, MappingContext } from './mapping.ts'
export { decodeMessage, MAX_RECORD_BYTES } from './decode.ts'
export type { DecodeOutcome, Drop } from './decode.ts'
export { canonicalIp, parseCidrList, TrustList, DEFAULT_TRUSTED_CIDRS } from './trust.ts'
export { SourceStats, DropSampler, SinkGate, SOURCE_NAMES } from './stats.ts'
export type {
  CollectedEvent,
  EventSink,
  SourceCounters,
  SourceLogger,
  SourceName,
} from './stats.ts'
export { ingestRecords } from './ingest.ts'
export type { IngestCounts } from './ingest.ts'

export const DEFAULT_LOG_PORT = 9000

/** Tuning keys: `sources:` in the config file, `TLSIGHT_SOURCES__<KEY>` in the environment. */
export interface SourcesTuning {
  /** Events handed to the sink and not yet settled; above it streams pause, datagrams drop. */
  max_pending_events: number
  /** Largest datagram, frame or NDJSON line. */
  max_record_bytes: number
  /** Largest ingest body, compressed and decompressed. */
  max_ingest_bytes: number
  /** Stream connections served at once, per listener. */
  max_connections: number
}

export interface SourcesConfig extends SourcesTuning {
  /** Bind address of the UDP and TCP listeners (`TLSIGHT_LOG_HOST`, default `::`). */
  host: string
  /** null: listener off. 0: an ephemeral port (tests). */
  udp_port: number | null
  tcp_port: number | null
  unix_socket: string | null
  /** Permission bits of the UNIX socket file (`TLSIGHT_UNIX_SOCKET_MODE`, octal, default 660). */
  unix_socket_mode: number
  trusted_cidrs: Cidr[]
  ingest_token: string | null
  /** Sensor name of events whose input names none (NODE_NAME, else the host name). */
  sensor: string
}

export const SOURCES_TUNING_DEFAULTS: Readonly<SourcesTuning> = {
  // Above what the store writer holds in steady state (a batch plus an insert's worth).
  max_pending_events: 100_000,
  max_record_bytes: MAX_RECORD_BYTES,
  max_ingest_bytes: MAX_INGEST_BODY_BYTES,
  max_connections: 1_024,
}

const TUNING_RANGES: Readonly<Record<keyof SourcesTuning, readonly [number, number]>> = {
  max_pending_events: [1, 10_000_000],
  // Below 64 bytes no real log line fits; above 1 MiB a record is no log line.
  max_record_bytes: [64, 1024 * 1024],
  max_ingest_bytes: [1024, 2 ** 40],
  max_connections: [1, 65_536],
}

function isTuningKey(k: string): k is keyof SourcesTuning {
  return Object.hasOwn(TUNING_RANGES, k)
}

const ENV_NESTED_PREFIX = 'TLSIGHT_SOURCES__'

function invalid(key: string, why: string): AppError {
  return new AppError('E_CONFIG_INVALID', `${key}: ${why}`)
}

function integer(key: string, raw: unknown, [min, max]: readonly [number, number]): number {
  const n = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max)
    throw invalid(key, `expected an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`)
  return n
}

function nonEmpty(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const v = env[key]?.trim()
  return v === undefined || v === '' ? undefined : v
}

function port(env: NodeJS.ProcessEnv, key: string): number | null {
  const v = nonEmpty(env, key)
  if (v === undefined) return DEFAULT_LOG_PORT
  if (v.toLowerCase() === 'off') return null
  return integer(key, v, [0, 65_535])
}

/**
 * Source settings from the environment over an optional `sources:` file section (tuning keys).
 *
 * Env: `TLSIGHT_UDP_PORT` / `TLSIGHT_TCP_PORT` (9000; `off` disables; 0 picks a free port),
 * `TLSIGHT_LOG_HOST` (`::`), `TLSIGHT_UNIX_SOCKET` (unset: off), `TLSIGHT_UNIX_SOCKET_MODE`
 * (`660`), `TLSIGHT_TRUSTED_CIDRS` (`127.0.0.0/8,::1/128`), `TLSIGHT_INGEST_TOKEN` (unset: the
 * ingest endpoint answers 403), `NODE_NAME`, and `TLSIGHT_SOURCES__<KEY>` per tuning key.
 * Every problem is E_CONFIG_INVALID naming the key.
 */
export function sourcesConfigFromEnv(env: NodeJS.ProcessEnv, file: unknown = {}): SourcesConfig {
  const tuning: SourcesTuning = { ...SOURCES_TUNING_DEFAULTS }
  if (file === null || typeof file !== 'object' || Array.isArray(file))
    throw invalid('sources', 'expected a mapping')
  for (const [k, v] of Object.entries(file)) {
    if (!isTuningKey(k)) throw invalid(`sources.${k}`, 'unknown key')
    if (typeof v !== 'number') throw invalid(`sources.${k}`, 'expected a number')
    tuning[k] = integer(`sources.${k}`, v, TUNING_RANGES[k])
  }
  for (const [envKey, v] of Object.entries(env)) {
    if (!envKey.startsWith(ENV_NESTED_PREFIX) || v === undefined) continue
    const k = envKey.slice(ENV_NESTED_PREFIX.length).toLowerCase()
    if (!isTuningKey(k)) {
      const known = Object.keys(TUNING_RANGES)
        .map((t) => ENV_NESTED_PREFIX + t.toUpperCase())
        .join(', ')
      throw invalid(envKey, `unknown key (known: ${known})`)
    }
    tuning[k] = integer(envKey, v, TUNING_RANGES[k])
  }
  const cidrText = nonEmpty(env, 'TLSIGHT_TRUSTED_CIDRS') ?? DEFAULT_TRUSTED_CIDRS
  const cidrs = parseCidrList(cidrText)
  if (!cidrs.ok) throw invalid('TLSIGHT_TRUSTED_CIDRS', cidrs.error)
  const modeText = nonEmpty(env, 'TLSIGHT_UNIX_SOCKET_MODE') ?? '660'
  if (!/^0?[0-7]{3}$/.test(modeText))
    throw invalid('TLSIGHT_UNIX_SOCKET_MODE', `expected octal permission bits, got ${modeText}`)
  const host = nonEmpty(env, 'TLSIGHT_LOG_HOST') ?? '::'
  const token = env['TLSIGHT_INGEST_TOKEN'] ?? ''
  // A short token is guessable; refusing it at start beats an endpoint anyone can write to.
  if (token !== '' && (token.length < 16 || /\s/.test(token)))
    throw invalid('TLSIGHT_INGEST_TOKEN', 'must be at least 16 characters, without whitespace')
  return {
    ...tuning,
    host,
    udp_port: port(env, 'TLSIGHT_UDP_PORT'),
    tcp_port: port(env, 'TLSIGHT_TCP_PORT'),
    unix_socket: nonEmpty(env, 'TLSIGHT_UNIX_SOCKET') ?? null,
    unix_socket_mode: parseInt(modeText, 8),
    trusted_cidrs: cidrs.cidrs,
    ingest_token: token === '' ? null : token,
    sensor: nonEmpty(env, 'NODE_NAME') ?? hostname(),
  }
}

export interface RunningSources {
  /** Stops the listeners, then waits for the events in flight to settle (idempotent). */
  close(): Promise<void>
  stats: SourceStats
  addresses: { udp?: AddressInfo; tcp?: AddressInfo; unix?: string }
  /**
   * An ingest body (authenticated, decompressed and size-limited by the API's route) into
   * events; `ingest_token` and `max_ingest_bytes` are the route's settings.
   */
  ingest(body: AsyncIterable<Uint8Array>): Promise<IngestCounts>
}

/**
 * Starts every configured listener. A listener that cannot start closes the ones already
 * started and fails with E_CONFIG_INVALID naming its key.
 * @example
 * const sources = await startSources(sourcesConfigFromEnv(process.env), (events) => writer.writeMany(events), log)
 */
export async function startSources(
  config: SourcesConfig,
  sink: EventSink,
  log: SourceLogger,
): Promise<RunningSources> {
  const stats = new SourceStats()
  const gate = new SinkGate(sink, config.max_pending_events, stats, new DropSampler(log))
  const trust = new TrustList(config.trusted_cidrs)
  const listeners: RunningListener<unknown>[] = []
  const addresses: RunningSources['addresses'] = {}
  const common = { gate, sensor: config.sensor, maxRecordBytes: config.max_record_bytes, log }
  try {
    if (config.udp_port !== null) {
      const l = await startUdpSource({ ...common, host: config.host, port: config.udp_port, trust })
      listeners.push(l)
      addresses.udp = l.address
    }
    if (config.tcp_port !== null) {
      const l = await startTcpSource({
        ...common,
        host: config.host,
        port: config.tcp_port,
        trust,
        maxConnections: config.max_connections,
      })
      listeners.push(l)
      addresses.tcp = l.address
    }
    if (config.unix_socket !== null) {
      const l = await startUnixSource({
        ...common,
        path: config.unix_socket,
        mode: config.unix_socket_mode,
        maxConnections: config.max_connections,
      })
      listeners.push(l)
      addresses.unix = l.address
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()))
    throw err
  }
  log.info(
    {
      udp: addresses.udp?.port ?? null,
      tcp: addresses.tcp?.port ?? null,
      unix: addresses.unix ?? null,
      ingest: config.ingest_token !== null,
    },
    'Log sources listening.',
  )
  const ingestOptions = { gate, sensor: config.sensor, maxRecordBytes: config.max_record_bytes }
  let closing: Promise<void> | undefined
  return {
    stats,
    addresses,
    ingest: (body) => ingestRecords(body, ingestOptions),
    close: () =>
      (closing ??= (async () => {
        await Promise.all(listeners.map((l) => l.close()))
        await gate.idle()
      })()),
  }
}

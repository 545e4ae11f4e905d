/**
 * @module api/metrics
 * `/metrics`: the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). `MetricsSource` is what the
 * process hands the API to read its counters from (sources, store writer, correlator, capture);
 * `collectMetrics` names them, `renderPrometheus` writes them out.
 *
 * Names follow `tlsight_<name>_<unit>[_total]`; label values are bounded sets (source names,
 * drop reasons, route patterns), never raw input.
 */
import type { CorrelatorStats } from '../correlator/correlator.ts'
import { AppError } from '../errors.ts'
import type { HandshakeEngineStats } from '../pipeline/stats.ts'
import type { WriterStats } from '../store/writer.ts'

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** One input's counters; the collector's `SourceCounters` fit as they are. */
export interface SourceCountersView {
  /** Records seen: events plus everything dropped. */
  received: number
  /** Events the sink (the store writer) accepted. */
  accepted: number
  /** Records dropped, per reason. */
  dropped: Readonly<Record<string, number>>
}

/**
 * Where the API reads the process's counters, on every `/metrics` and `/api/v1/stats` request.
 * Every function is synchronous and cheap (a snapshot of counters, no I/O); the optional ones are
 * left out by a process that does not run that part.
 * @example
 * const metrics: MetricsSource = {
 *   sources: () => sources.stats.snapshot().sources,
 *   writer: () => store.writer.stats,
 *   correlator: () => correlator.stats,
 * }
 */
export interface MetricsSource {
  /** Per input (`udp`, `tcp`, `unix`, `ingest`, `capture`…): received, accepted, dropped. */
  sources(): Readonly<Record<string, SourceCountersView>>
  /** The store writer's counters (`EventWriter.stats`): outcomes, pending, spool size. */
  writer(): WriterStats
  /** Seconds from a batch's flush to its insert (or spool), cumulative. */
  batchLatency?(): HistogramSnapshot
  correlator?(): CorrelatorStats
  /** The capture engine's counters (live capture or `--interface` in `serve`). */
  capture?(): HandshakeEngineStats
}

/** A histogram's state: cumulative counts per upper bound `le` (ascending, +Inf implied). */
export interface HistogramSnapshot {
  buckets: readonly { le: number; count: number }[]
  /** Observations; the +Inf bucket. */
  count: number
  sum: number
}

export type Labels = Readonly<Record<string, string>>

export interface Sample {
  labels?: Labels
  value: number
}

export type MetricFamily =
  | { name: string; help: string; type: 'counter' | 'gauge'; samples: readonly Sample[] }
  | {
      name: string
      help: string
      type: 'histogram'
      samples: readonly { labels?: Labels; value: HistogramSnapshot }[]
    }

/** Upper bounds (seconds) for latencies from a millisecond to a minute. */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]

/** A fixed-bucket histogram, cheap enough to observe on every request or batch. */
export class Histogram {
  readonly #bounds: readonly number[]
  readonly #counts: number[]
  #count = 0
  #sum = 0

  constructor(bounds: readonly number[] = LATENCY_BUCKETS_S) {
    for (let i = 1; i < bounds.length; i++)
      if (!((bounds[i] ?? NaN) > (bounds[i - 1] ?? NaN)))
        throw new AppError('E_INVALID_ARGUMENT', 'histogram bounds must be ascending')
    this.#bounds = [...bounds]
    this.#counts = bounds.map(() => 0)
  }

  observe(v: number): void {
    this.#count++
    this.#sum += v
    // Non-cumulative here; the snapshot accumulates.
    const i = this.#bounds.findIndex((b) => v <= b)
    if (i >= 0) this.#counts[i] = (this.#counts[i] ?? 0) + 1
  }

  snapshot(): HistogramSnapshot {
    let acc = 0
    const buckets = this.#bounds.map((le, i) => {
      acc += this.#counts[i] ?? 0
      return { le, count: acc }
    })
    return { buckets, count: this.#count, sum: this.#sum }
  }
}

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** HELP text: backslash and line feed escaped. */
function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

/** Label value: backslash, double quote and line feed escaped. */
export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** A sample value: Go's float syntax, with `+Inf`, `-Inf` and `NaN` spelled as the format says. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

function labelText(labels: Labels | undefined, extra?: readonly [string, string]): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(labels ?? {})) {
    // `__` names are reserved for Prometheus itself; `le` belongs to histogram buckets.
    if (!LABEL_NAME_RE.test(k) || k.startsWith('__') || (extra !== undefined && k === 'le'))
      throw new AppError('E_INVALID_ARGUMENT', `bad metric label name ${JSON.stringify(k)}`)
    parts.push(`${k}="${escapeLabelValue(v)}"`)
  }
  if (extra !== undefined) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

/**
 * The text exposition of `families`: `# HELP`, `# TYPE`, then the samples of each, families in
 * the order given; a histogram as cumulative `_bucket{le=…}` lines (ending with `+Inf`), `_sum`
 * and `_count`. Names are checked (a bad one is a bug: E_INVALID_ARGUMENT).
 */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  const out: string[] = []
  const seen = new Set<string>()
  for (const f of families) {
    if (!METRIC_NAME_RE.test(f.name) || seen.has(f.name))
      throw new AppError('E_INVALID_ARGUMENT', `bad or repeated metric name ${f.name}`)
    seen.add(f.name)
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`)
    if (f.type === 'histogram') {
      for (const s of f.samples) {
        for (const b of s.value.buckets)
          out.push(
            `${f.name}_bucket${labelText(s.labels, ['le', formatValue(b.le)])} ${formatValue(b.count)}`,
          )
        out.push(
          `${f.name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${formatValue(s.value.count)}`,
          `${f.name}_sum${labelText(s.labels)} ${formatValue(s.value.sum)}`,
          `${f.name}_count${labelText(s.labels)} ${formatValue(s.value.count)}`,
        )
      }
    } else {
      for (const s of f.samples) out.push(`${f.name}${labelText(s.labels)} ${formatValue(s.value)}`)
    }
  }
  return out.join('\n') + '\n'
}

function counter(name: string, help: string, samples: readonly Sample[]): MetricFamily {
  return { name, help, type: 'counter', samples }
}

function gauge(name: string, help: string, value: number): MetricFamily {
  return { name, help, type: 'gauge', samples: [{ value }] }
}

function one(name: string, help: string, value: number): MetricFamily {
  return counter(name, help, [{ value }])
}

/** snake_case of a camelCase counter name (`flowsEvicted` → `flows_evicted`). */
function snake(s: string): string {
  return s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())
}

const WRITER_OUTCOMES = ['inserted', 'spooled', 'replayed', 'failed', 'rejected'] as const

const CORRELATOR_COUNTERS: readonly (readonly [keyof CorrelatorStats, string, string])[] = [
  ['handshakes', 'tlsight_correlator_handshakes_total', 'Handshakes offered to the correlator.'],
  ['requests', 'tlsight_correlator_requests_total', 'Requests offered to the correlator.'],
  ['sessions', 'tlsight_correlator_sessions_total', 'Requests joined to a handshake.'],
  [
    'unmatched',
    'tlsight_correlator_unmatched_requests_total',
    'Requests with no handshake within the window.',
  ],
  [
    'evictedRequests',
    'tlsight_correlator_evicted_requests_total',
    'Requests decided early because the pending queue was full.',
  ],
  [
    'evictedHandshakes',
    'tlsight_correlator_evicted_handshakes_total',
    'Handshakes forgotten early because too many were held.',
  ],
  [
    'noPort',
    'tlsight_correlator_requests_without_port_total',
    'Requests without a client port (cannot be joined on ip:port).',
  ],
]

const CAPTURE_COUNTERS: readonly (readonly [
  Exclude<keyof HandshakeEngineStats, 'anomalies'>,
  string,
])[] = [
  ['packets', 'Packets read.'],
  ['decoded', 'Packets decoded down to TCP or UDP.'],
  ['ignored', 'Packets not IP, or of an IP protocol not followed.'],
  ['undecodable', 'Packets whose link, IP or transport header did not decode.'],
  ['flows', 'Flows tracked.'],
  ['flowsEvicted', 'Flows evicted before their end (table full or idle).'],
  ['clientHellos', 'ClientHellos seen.'],
  ['serverHellos', 'ServerHellos seen.'],
  ['orphanServerHellos', 'ServerHellos with no ClientHello before them on the flow.'],
  ['badHellos', 'ClientHellos whose body did not parse.'],
  ['events', 'tls events produced.'],
  ['httpEvents', 'http events produced (cleartext requests).'],
  ['tcpEvents', 'tcp events produced.'],
  ['quicPackets', 'QUIC Initial packets seen.'],
]

/** Every metric of the process, read from `source` now; `extra` (the API's own) appended. */
export function collectMetrics(
  source: MetricsSource,
  extra: readonly MetricFamily[] = [],
): MetricFamily[] {
  const sources = Object.entries(source.sources())
  const dropped: Sample[] = []
  for (const [name, c] of sources)
    for (const [reason, n] of Object.entries(c.dropped))
      dropped.push({ labels: { source: name, reason }, value: n })
  const w = source.writer()
  const out: MetricFamily[] = [
    counter(
      'tlsight_source_received_events_total',
      'Records received per input: events plus everything dropped.',
      sources.map(([name, c]) => ({ labels: { source: name }, value: c.received })),
    ),
    counter(
      'tlsight_source_accepted_events_total',
      'Events per input that the store writer accepted.',
      sources.map(([name, c]) => ({ labels: { source: name }, value: c.accepted })),
    ),
    counter(
      'tlsight_source_dropped_events_total',
      'Records dropped per input and reason.',
      dropped,
    ),
    counter(
      'tlsight_store_events_total',
      'Events by store writer outcome: inserted, spooled, replayed from the spool, failed ' +
        '(write rejected), rejected (refused by the store, kept aside).',
      WRITER_OUTCOMES.map((o) => ({ labels: { outcome: o }, value: w[o] })),
    ),
    gauge(
      'tlsight_store_pending_events',
      'Events accepted by the writer and not yet stored or spooled.',
      w.pending,
    ),
    gauge('tlsight_store_spool_bytes', 'Size of the on-disk spool.', w.spool_bytes),
    gauge(
      'tlsight_store_available',
      '1 while the store takes inserts, 0 from a failed insert until the spool is replayed.',
      w.store_available ? 1 : 0,
    ),
  ]
  const latency = source.batchLatency?.()
  if (latency !== undefined)
    out.push({
      name: 'tlsight_store_batch_latency_seconds',
      help: 'Time from a batch flush to its insert or spool.',
      type: 'histogram',
      samples: [{ value: latency }],
    })
  const corr = source.correlator?.()
  if (corr !== undefined)
    for (const [key, name, help] of CORRELATOR_COUNTERS) out.push(one(name, help, corr[key]))
  const cap = source.capture?.()
  if (cap !== undefined) {
    for (const [key, help] of CAPTURE_COUNTERS)
      out.push(one(`tlsight_capture_${snake(key)}_total`, help, cap[key]))
    out.push(
      counter(
        'tlsight_capture_anomalies_total',
        'Anomalies observed while decoding, per code.',
        Object.entries(cap.anomalies).map(([code, n]) => ({ labels: { code }, value: n })),
      ),
    )
  }
  out.push(...extra)
  return out
}

/** The API's own counters: requests per route, method and status, and latency per route. */
export class RequestMetrics {
  readonly #requests = new Map<string, { labels: Labels; n: number }>()
  readonly #latency = new Map<string, Histogram>()

  /** `route` is the route pattern (`/api/v1/fingerprints/:fp`), never the raw URL. */
  observe(route: string, method: string, status: number, seconds: number): void {
    const key = `${route}\u0000${method}\u0000${status}`
    const c = this.#requests.get(key)
    if (c === undefined)
      this.#requests.set(key, { labels: { route, method, status: String(status) }, n: 1 })
    else c.n++
    let h = this.#latency.get(route)
    if (h === undefined) {
      h = new Histogram()
      this.#latency.set(route, h)
    }
    h.observe(seconds)
  }

  families(): MetricFamily[] {
    return [
      counter(
        'tlsight_api_requests_total',
        'API requests per route pattern, method and status.',
        [...this.#requests.values()].map((c) => ({ labels: c.labels, value: c.n })),
      ),
      {
        name: 'tlsight_api_request_duration_seconds',
        help: 'API request latency per route pattern, until the answer is written.',
        type: 'histogram',
        samples: [...this.#latency].map(([route, h]) => ({
          labels: { route },
          value: h.snapshot(),
        })),
      },
    ]
  }
}

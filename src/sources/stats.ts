/**
 * @module sources/stats
 * What the log sources count, and the one place events leave them:
 * - `SourceStats`: records received, accepted and dropped (by reason) per source;
 * - `DropSampler`: logs a sample of dropped input at most once a second per reason, so a flood of
 *   garbage costs a counter increment, not a log line;
 * - `SinkGate`: hands events to the sink with at most `max_pending_events` in flight; stream
 *   sources pause while it is saturated, datagrams (which cannot wait) are dropped `queue_full`.
 *   Events go to the sink in batches (a message's events; the datagrams of one event-loop turn),
 *   so the per-event cost of a promise and its bookkeeping is paid once per batch.
 */
import { errorCode } from '../errors.ts'
import type { HttpEvent } from '../events/http.ts'
import type { TlsEvent } from '../events/tls.ts'
import type { DecodeOutcome } from './decode.ts'
import type { DropReason, MappingNote } from './mapping.ts'

export type SourceName = 'udp' | 'tcp' | 'unix' | 'ingest'
export const SOURCE_NAMES: readonly SourceName[] = ['udp', 'tcp', 'unix', 'ingest']

export type CollectedEvent = HttpEvent | TlsEvent
/** Takes a batch of events; they are accepted, or refused, together. */
export type EventSink = (events: readonly CollectedEvent[]) => Promise<void> | void

/** pino-compatible: structured fields first, then a sentence-case message. */
export interface SourceLogger {
  info(fields: Record<string, unknown>, msg: string): void
  warn(fields: Record<string, unknown>, msg: string): void
  error(fields: Record<string, unknown>, msg: string): void
}

/** Shortest time between two samples of one drop reason. */
export const SAMPLE_INTERVAL_MS = 1_000
/** Characters of any one sample field written to the log. */
const MAX_SAMPLE_FIELD_CHARS = 256

export interface SourceCounters {
  /** Records seen: events, plus everything dropped (a refused datagram or connection is one). */
  received: number
  /** Events the sink accepted (its promise resolved). */
  accepted: number
  dropped: Record<DropReason, number>
  /** Accepted events that were changed on the way (a field cut or nulled). */
  notes: Record<MappingNote, number>
  /** Stream connections accepted and currently open (tcp, unix). */
  connections: number
  open_connections: number
}

function dropCounts(): Record<DropReason, number> {
  return {
    oversized: 0,
    truncated: 0,
    not_json: 0,
    bad_json: 0,
    bad_syslog: 0,
    unmapped: 0,
    missing_field: 0,
    bad_field: 0,
    untrusted: 0,
    queue_full: 0,
    sink_error: 0,
  }
}

function counters(): SourceCounters {
  return {
    received: 0,
    accepted: 0,
    dropped: dropCounts(),
    notes: { field_truncated: 0, field_invalid: 0 },
    connections: 0,
    open_connections: 0,
  }
}

/** Counters per source, read by `/stats` and metrics. */
export class SourceStats {
  readonly by: Record<SourceName, SourceCounters> = {
    udp: counters(),
    tcp: counters(),
    unix: counters(),
    ingest: counters(),
  }
  /** Events handed to the sink whose promise has not settled yet. */
  pending = 0

  dropped(src: SourceName, reason: DropReason, n = 1): void {
    this.by[src].dropped[reason] += n
  }

  /** A deep copy, safe to serialise while counting goes on. */
  snapshot(): { pending: number; sources: Record<SourceName, SourceCounters> } {
    const copy = (c: SourceCounters): SourceCounters => ({
      ...c,
      dropped: { ...c.dropped },
      notes: { ...c.notes },
    })
    return {
      pending: this.pending,
      sources: {
        udp: copy(this.by.udp),
        tcp: copy(this.by.tcp),
        unix: copy(this.by.unix),
        ingest: copy(this.by.ingest),
      },
    }
  }
}

function bounded(v: unknown): unknown {
  return typeof v === 'string' && v.length > MAX_SAMPLE_FIELD_CHARS
    ? v.slice(0, MAX_SAMPLE_FIELD_CHARS) + '…'
    : v
}

/** Logs one dropped input per reason per interval, with how many were not logged before it. */
export class DropSampler {
  private readonly last = new Map<string, { at: number; suppressed: number }>()

  constructor(
    private readonly log: SourceLogger,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = SAMPLE_INTERVAL_MS,
  ) {}

  /** Returns true if this sample was written. */
  logSample(reason: DropReason, detail: Record<string, unknown>): boolean {
    const t = this.now()
    const prev = this.last.get(reason)
    if (prev !== undefined && t - prev.at < this.intervalMs) {
      prev.suppressed++
      return false
    }
    const fields: Record<string, unknown> = { reason, suppressed: prev?.suppressed ?? 0 }
    for (const [k, v] of Object.entries(detail)) fields[k] = bounded(v)
    this.last.set(reason, { at: t, suppressed: 0 })
    this.log.warn(fields, 'Log input dropped.')
    return true
  }
}

/**
 * The way out of every source: counts, samples drops, and bounds the events in flight.
 * NOTE: a synchronous sink settles at once, so it never keeps a stream paused.
 */
export class SinkGate {
  private readonly waiters = new Set<() => void>()
  private readonly idleWaiters = new Set<() => void>()
  /** Datagram events held until the end of this event-loop turn, per source (counted pending). */
  private readonly held = new Map<SourceName, CollectedEvent[]>()
  private flushScheduled = false

  constructor(
    private readonly sink: EventSink,
    readonly maxPending: number,
    readonly stats: SourceStats,
    readonly sampler: DropSampler,
  ) {}

  get saturated(): boolean {
    return this.stats.pending >= this.maxPending
  }

  /** Counts a drop that happened before decoding (refused sender, oversized frame). */
  refuse(src: SourceName, reason: DropReason, detail: Record<string, unknown>, n = 1): void {
    this.stats.by[src].received += n
    this.stats.dropped(src, reason, n)
    this.sampler.logSample(reason, { source: src, ...detail })
  }

  /** Counts a decoded message: records received, drops (sampled) and notes; not its events. */
  account(src: SourceName, out: DecodeOutcome, peer: string): void {
    const c = this.stats.by[src]
    c.received += out.events.length + out.drops.length
    for (const d of out.drops) {
      c.dropped[d.reason]++
      const detail: Record<string, unknown> = { source: src, peer, sample: d.sample }
      if (d.field !== undefined) detail.field = d.field
      this.sampler.logSample(d.reason, detail)
    }
    for (const n of out.notes) c.notes[n]++
  }

  /**
   * Counts a decoded message and hands its events on. `canWait` false (datagrams): events beyond
   * `maxPending` in flight are dropped `queue_full` instead of queued, and the rest join the
   * batch sent at the end of this event-loop turn.
   */
  deliver(src: SourceName, out: DecodeOutcome, peer: string, canWait: boolean): void {
    this.account(src, out, peer)
    if (out.events.length === 0) return
    if (canWait) {
      void this.submit(src, out.events)
      return
    }
    for (const e of out.events) {
      if (this.saturated) {
        this.stats.dropped(src, 'queue_full')
        this.sampler.logSample('queue_full', { source: src, peer, pending: this.stats.pending })
        continue
      }
      this.hold(src, e)
    }
  }

  /** Hands a batch of events to the sink; resolves to true once they are accepted. */
  submit(src: SourceName, events: readonly CollectedEvent[]): Promise<boolean> | boolean {
    if (events.length === 0) return true
    this.stats.pending += events.length
    return this.send(src, events)
  }

  private hold(src: SourceName, e: CollectedEvent): void {
    let h = this.held.get(src)
    if (h === undefined) {
      h = []
      this.held.set(src, h)
    }
    h.push(e)
    this.stats.pending++
    if (!this.flushScheduled) {
      this.flushScheduled = true
      // After the poll phase: every datagram read in this turn is in the batch.
      setImmediate(() => this.flushHeld())
    }
  }

  private flushHeld(): void {
    this.flushScheduled = false
    for (const [src, events] of this.held) {
      this.held.delete(src)
      void this.send(src, events)
    }
  }

  /** `events` are counted pending already. */
  private send(src: SourceName, events: readonly CollectedEvent[]): Promise<boolean> | boolean {
    const n = events.length
    let r: Promise<void> | void
    try {
      r = this.sink(events)
    } catch (err) {
      this.failed(src, err, n)
      this.settled(n)
      return false
    }
    if (r === undefined) {
      this.stats.by[src].accepted += n
      this.settled(n)
      return true
    }
    return r.then(
      () => {
        this.stats.by[src].accepted += n
        this.settled(n)
        return true
      },
      (err: unknown) => {
        this.failed(src, err, n)
        this.settled(n)
        return false
      },
    )
  }

  private failed(src: SourceName, err: unknown, n: number): void {
    this.stats.dropped(src, 'sink_error', n)
    this.sampler.logSample('sink_error', {
      source: src,
      code: errorCode(err) ?? 'unknown',
      error: err instanceof Error ? err.message : String(err),
    })
  }

  private settled(n: number): void {
    this.stats.pending -= n
    if (!this.saturated && this.waiters.size > 0) {
      const ws = [...this.waiters]
      this.waiters.clear()
      for (const w of ws) w()
    }
    if (this.stats.pending === 0 && this.idleWaiters.size > 0) {
      const ws = [...this.idleWaiters]
      this.idleWaiters.clear()
      for (const w of ws) w()
    }
  }

  /** Resolves once fewer than `maxPending` events are in flight. */
  room(): Promise<void> {
    if (!this.saturated) return Promise.resolve()
    return new Promise((resolve) => this.waiters.add(resolve))
  }

  /** Resolves once no event is in flight. */
  idle(): Promise<void> {
    if (this.stats.pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.add(resolve))
  }
}

/**
 * @module capture/dedup
 * Suppresses repeats: a client that opens a hundred connections a minute with the same stack is
 * one fingerprint sighting, not a hundred. An event whose key was first reported less than the
 * TTL ago (in event time) is suppressed and counted; the window is not extended by repeats, so a
 * steady client is reported again once per TTL.
 */
import type { CaptureEvent } from '../events/capture.ts'

/** Default DEDUP_TTL, seconds. */
export const DEFAULT_DEDUP_TTL_SECONDS = 300
/** Keys remembered at once; when full, the oldest is forgotten first (its next event passes). */
export const MAX_DEDUP_ENTRIES = 65_536

/** What makes two events the same sighting, per event type; fields joined by a separator. */
export function dedupKey(e: CaptureEvent): string {
  // U+001F (unit separator) cannot occur in the hashes and is escaped nowhere in the inputs we
  // use, so keys of different field splits cannot collide.
  const S = '\u001f'
  switch (e.type) {
    case 'tls':
      return `t${S}${e.src_ip}${S}${e.ja4}${S}${e.ja3}${S}${e.ja4s}${S}${e.sni}`
    case 'http':
      return `h${S}${e.src_ip}${S}${e.ja4h}${S}${e.tfh}${S}${e.host}${S}${e.user_agent}`
    case 'tcp':
      return `c${S}${e.src_ip}${S}${e.ja4t}${S}${e.ja4ts}`
  }
}

function eventMs(e: CaptureEvent): number {
  const ms = Date.parse(e.ts)
  return Number.isNaN(ms) ? 0 : ms
}

export interface DedupStats {
  passed: number
  suppressed: number
  /** Keys forgotten early because the table was full. */
  evicted: number
  /** Keys held now. */
  entries: number
}

/**
 * Event-time TTL dedup with a bounded table. A Map in insertion order is the FIFO: keys enter at
 * first sighting, so the front holds the oldest and expired ones are dropped from there.
 * @example
 * const dedup = new Deduper(300, MAX_DEDUP_ENTRIES)
 * if (dedup.accept(event)) output.write(event)
 */
export class Deduper {
  private readonly ttlMs: number
  private readonly maxEntries: number
  /** Key → event time (ms) of its first sighting in the current window. */
  private readonly seen = new Map<string, number>()
  private readonly counters = { passed: 0, suppressed: 0, evicted: 0 }

  /** `ttlSeconds` 0 turns dedup off: every event passes. */
  constructor(ttlSeconds: number, maxEntries: number = MAX_DEDUP_ENTRIES) {
    this.ttlMs = Math.max(0, ttlSeconds) * 1000
    this.maxEntries = Math.max(1, Math.floor(maxEntries))
  }

  get enabled(): boolean {
    return this.ttlMs > 0
  }

  /** True when the event is to be reported, false when it repeats a recent one. */
  accept(e: CaptureEvent): boolean {
    if (this.ttlMs === 0) {
      this.counters.passed++
      return true
    }
    const now = eventMs(e)
    this.expire(now)
    const key = dedupKey(e)
    const first = this.seen.get(key)
    if (first !== undefined && now - first < this.ttlMs && now >= first) {
      this.counters.suppressed++
      return false
    }
    // A new window (or an event older than the stored one: clocks moved): re-enter at the back.
    if (first !== undefined) this.seen.delete(key)
    else if (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next()
      if (oldest.done !== true) {
        this.seen.delete(oldest.value)
        this.counters.evicted++
      }
    }
    this.seen.set(key, now)
    this.counters.passed++
    return true
  }

  /** Drops expired keys from the front (the front is the oldest, up to event-time disorder). */
  private expire(now: number): void {
    for (const [key, first] of this.seen) {
      if (now - first < this.ttlMs) break
      this.seen.delete(key)
    }
  }

  stats(): DedupStats {
    return { ...this.counters, entries: this.seen.size }
  }
}

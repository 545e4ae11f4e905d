/**
 * @module correlator/correlator
 * Joins `http` events (web-server logs, captured cleartext HTTP) with the `tls` event of the
 * connection that carried them, by the client's ip:port (and the server's ip:port when both
 * sides know it), within a time window.
 *
 * The rule: a request belongs to the **latest handshake from its client ip:port that started no
 * later than the request's time plus the allowed clock skew** (`skew_ms`), and no earlier than
 * the window. A client port reused by a later connection therefore never captures the earlier
 * connection's requests, and the later connection's requests go to it, as long as the reuse
 * comes more than twice the skew after the earlier connection's last request (a port is reused
 * only after its connection closed: TIME-WAIT alone is much longer).
 *
 * When: the two streams arrive in any order and with delays. A request is decided once the
 * handshake stream has passed `request time + skew` (its watermark: events from one sensor come
 * in capture order), or, if the sensor is quiet, `settle_ms` of wall time after the request
 * arrived. Until then it waits in a bounded queue; handshakes are kept for `window_ms` past the
 * watermark. Memory is bounded by `max_pending_requests` and `max_handshakes`: beyond them the
 * oldest entry is decided (or dropped) early and counted.
 */
import type { HttpEvent } from '../events/http.ts'
import type { SessionEvent } from '../events/session.ts'
import type { TlsEvent } from '../events/tls.ts'

export interface CorrelatorOptions {
  /** How far apart a handshake and a request on it may be (`TLSIGHT_CORRELATION_WINDOW_MS`). */
  windowMs?: number
  /** How much later than the request a handshake may be stamped (clock skew between sources). */
  skewMs?: number
  /** Wall time a request waits for its handshake when the handshake stream is quiet. */
  settleMs?: number
  maxPendingRequests?: number
  maxHandshakes?: number
  onSession: (s: SessionEvent) => void
  /** A request that found no handshake; it is stored as it is. */
  onUnmatched?: (e: HttpEvent) => void
  /**
   * Whether requests wait for handshakes before the first one is seen (default true). False
   * where handshakes come only from the log sources, if at all: until one arrives, a request is
   * decided unmatched at once instead of being held `settleMs` (a web-server log feed without a
   * sensor would otherwise keep every request of the last seconds queued, for nothing).
   */
  awaitHandshakes?: boolean
}

export const DEFAULT_CORRELATION_WINDOW_MS = 5_000
export const DEFAULT_CORRELATION_SKEW_MS = 250
export const DEFAULT_CORRELATION_SETTLE_MS = 5_000
export const MAX_PENDING_REQUESTS = 100_000
export const MAX_HANDSHAKES_HELD = 200_000

export interface CorrelatorStats {
  handshakes: number
  requests: number
  sessions: number
  /** Requests decided without a handshake (no match within the window). */
  unmatched: number
  /** Requests decided early because the pending queue was full. */
  evictedRequests: number
  /** Handshakes forgotten early because too many were held. */
  evictedHandshakes: number
  /** Requests without a client port: they cannot be joined on ip:port. */
  noPort: number
}

interface Pending {
  req: HttpEvent
  tsMs: number
  arrivedMs: number
  done: boolean
}

/** Binary min-heap of pending requests by request time. */
class PendingHeap {
  private readonly a: Pending[] = []

  get size(): number {
    return this.a.length
  }

  peek(): Pending | undefined {
    return this.a[0]
  }

  push(p: Pending): void {
    const a = this.a
    a.push(p)
    let i = a.length - 1
    while (i > 0) {
      const up = (i - 1) >> 1
      const parent = a[up]
      if (parent === undefined || parent.tsMs <= p.tsMs) break
      a[i] = parent
      i = up
    }
    a[i] = p
  }

  pop(): Pending | undefined {
    const a = this.a
    const top = a[0]
    const last = a.pop()
    if (top === undefined || last === undefined || a.length === 0) return top
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= a.length) break
      const r = l + 1
      const left = a[l]
      const right = a[r]
      if (left === undefined) break
      const c = right !== undefined && right.tsMs < left.tsMs ? r : l
      const child = a[c]
      if (child === undefined || child.tsMs >= last.tsMs) break
      a[i] = child
      i = c
    }
    a[i] = last
    return top
  }
}

function parseMs(iso: string): number {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return NaN
  // Date.parse keeps milliseconds; the microseconds of our timestamps are added back.
  const frac = /\.(\d{4,6})/.exec(iso)?.[1]
  return frac === undefined ? t : t + Number(frac.slice(3).padEnd(3, '0')) / 1000
}

function clientKey(ip: string, port: number): string {
  return `${ip}|${port}`
}

/** Handshakes of one client ip:port, oldest first. */
interface Slot {
  list: { tsMs: number; tls: TlsEvent }[]
}

export class Correlator {
  readonly stats: CorrelatorStats = {
    handshakes: 0,
    requests: 0,
    sessions: 0,
    unmatched: 0,
    evictedRequests: 0,
    evictedHandshakes: 0,
    noPort: 0,
  }

  private readonly windowMs: number
  private readonly skewMs: number
  private readonly settleMs: number
  private readonly maxPending: number
  private readonly maxHandshakes: number
  private readonly onSession: (s: SessionEvent) => void
  private readonly onUnmatched: (e: HttpEvent) => void
  private readonly slots = new Map<string, Slot>()
  /** Every held handshake in arrival order, for expiry and the cap. */
  private readonly order: { key: string; tsMs: number }[] = []
  private orderHead = 0
  private held = 0
  /** Requests waiting for a decision: by request time, and in arrival order (for `settle_ms`). */
  private readonly byTime = new PendingHeap()
  private readonly byArrival: Pending[] = []
  private arrivalHead = 0
  private waiting = 0
  /** Latest handshake time seen (the handshake stream's watermark). */
  private watermarkMs = -Infinity
  private readonly awaitHandshakes: boolean

  constructor(opts: CorrelatorOptions) {
    this.windowMs = opts.windowMs ?? DEFAULT_CORRELATION_WINDOW_MS
    this.skewMs = opts.skewMs ?? DEFAULT_CORRELATION_SKEW_MS
    this.settleMs = opts.settleMs ?? DEFAULT_CORRELATION_SETTLE_MS
    this.maxPending = opts.maxPendingRequests ?? MAX_PENDING_REQUESTS
    this.maxHandshakes = opts.maxHandshakes ?? MAX_HANDSHAKES_HELD
    this.onSession = opts.onSession
    this.onUnmatched = opts.onUnmatched ?? (() => undefined)
    this.awaitHandshakes = opts.awaitHandshakes ?? true
  }

  /** Requests and handshakes held right now. */
  get size(): { requests: number; handshakes: number } {
    return { requests: this.waiting, handshakes: this.held }
  }

  /** A handshake (only TCP ones can carry logged HTTP/1–2 requests; QUIC ones join too). */
  addTls(tls: TlsEvent, nowMs: number = Date.now()): void {
    const tsMs = parseMs(tls.ts)
    if (Number.isNaN(tsMs)) return
    this.stats.handshakes++
    const key = clientKey(tls.src_ip, tls.src_port)
    let slot = this.slots.get(key)
    if (slot === undefined) {
      slot = { list: [] }
      this.slots.set(key, slot)
    }
    // Kept sorted by time: capture order is time order, so this is almost always a push.
    let i = slot.list.length
    while (i > 0 && (slot.list[i - 1]?.tsMs ?? 0) > tsMs) i--
    slot.list.splice(i, 0, { tsMs, tls })
    this.order.push({ key, tsMs })
    this.held++
    if (tsMs > this.watermarkMs) this.watermarkMs = tsMs
    while (this.held > this.maxHandshakes) this.forgetOldestHandshake(true)
    this.advance(nowMs)
  }

  addHttp(req: HttpEvent, nowMs: number = Date.now()): void {
    this.stats.requests++
    if (!this.awaitHandshakes && this.stats.handshakes === 0) {
      this.unmatched(req)
      return
    }
    const tsMs = parseMs(req.ts)
    if (req.src_port === null || Number.isNaN(tsMs)) {
      this.stats.noPort++
      this.unmatched(req)
      return
    }
    const p: Pending = { req, tsMs, arrivedMs: nowMs, done: false }
    this.byTime.push(p)
    this.byArrival.push(p)
    this.waiting++
    while (this.waiting > this.maxPending) {
      // The one that has waited longest is decided now with what is known.
      const oldest = this.nextByArrival()
      if (oldest === undefined) break
      this.stats.evictedRequests++
      this.decide(oldest)
    }
    this.advance(nowMs)
  }

  /** Decides what time has settled (call periodically, e.g. every 100 ms). */
  tick(nowMs: number = Date.now()): void {
    this.advance(nowMs)
  }

  /** End of input: every waiting request is decided with what is known. */
  flush(): void {
    for (let p = this.byTime.pop(); p !== undefined; p = this.byTime.pop()) {
      if (!p.done) this.decide(p)
    }
    this.byArrival.length = 0
    this.arrivalHead = 0
  }

  /** The undecided request that arrived first, taken out of the arrival queue. */
  private nextByArrival(): Pending | undefined {
    while (this.arrivalHead < this.byArrival.length) {
      const p = this.byArrival[this.arrivalHead++]
      if (p !== undefined && !p.done) return p
    }
    return undefined
  }

  private compactArrivals(): void {
    if (this.arrivalHead > 1024 && this.arrivalHead * 2 > this.byArrival.length) {
      this.byArrival.splice(0, this.arrivalHead)
      this.arrivalHead = 0
    }
  }

  private advance(nowMs: number): void {
    // Every handshake that started up to request time + skew has been seen.
    for (let p = this.byTime.peek(); p !== undefined; p = this.byTime.peek()) {
      if (!p.done && this.watermarkMs < p.tsMs + this.skewMs) break
      this.byTime.pop()
      if (!p.done) this.decide(p)
    }
    // The handshake stream is quiet: a request waits at most settle_ms.
    while (this.arrivalHead < this.byArrival.length) {
      const p = this.byArrival[this.arrivalHead]
      if (p === undefined) break
      if (!p.done && nowMs - p.arrivedMs < this.settleMs) break
      this.arrivalHead++
      if (!p.done) this.decide(p)
    }
    this.compactArrivals()
    this.expireHandshakes()
  }

  /** Handshakes older than the window (and the skew) behind every request still to come. */
  private expireHandshakes(): void {
    let oldestPending = Infinity
    for (let p = this.byTime.peek(); p !== undefined; p = this.byTime.peek()) {
      if (!p.done) {
        oldestPending = p.tsMs
        break
      }
      this.byTime.pop()
    }
    const limit = Math.min(this.watermarkMs, oldestPending) - this.windowMs - this.skewMs
    while (this.orderHead < this.order.length) {
      const o = this.order[this.orderHead]
      if (o === undefined || o.tsMs >= limit) break
      this.forgetOldestHandshake(false)
    }
  }

  private forgetOldestHandshake(evicted: boolean): void {
    const o = this.order[this.orderHead++]
    if (o === undefined) return
    if (evicted) this.stats.evictedHandshakes++
    const slot = this.slots.get(o.key)
    if (slot !== undefined) {
      const i = slot.list.findIndex((h) => h.tsMs === o.tsMs)
      if (i >= 0) slot.list.splice(i, 1)
      if (slot.list.length === 0) this.slots.delete(o.key)
    }
    this.held--
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
      this.order.splice(0, this.orderHead)
      this.orderHead = 0
    }
  }

  private decide(p: Pending): void {
    p.done = true
    this.waiting--
    const req = p.req
    const slot = this.slots.get(clientKey(req.src_ip, req.src_port ?? 0))
    let h: { tsMs: number; tls: TlsEvent } | undefined
    for (const c of slot?.list ?? []) {
      if (c.tsMs > p.tsMs + this.skewMs) break
      if (p.tsMs - c.tsMs <= this.windowMs && sameServer(c.tls, req)) h = c
    }
    if (h === undefined) {
      this.unmatched(req)
      return
    }
    this.stats.sessions++
    this.onSession(session(h.tls, req, p.tsMs - h.tsMs))
  }

  private unmatched(req: HttpEvent): void {
    this.stats.unmatched++
    this.onUnmatched(req)
  }
}

/** When the request knows its server's address, the handshake must be to that server. */
function sameServer(tls: TlsEvent, req: HttpEvent): boolean {
  if (req.dst_port !== null && req.dst_port !== tls.dst_port) return false
  return req.dst_ip === null || req.dst_ip === tls.dst_ip
}

/** Built field by field: a spread of the handshake is many times slower here. */
function session(tls: TlsEvent, req: HttpEvent, lagMs: number): SessionEvent {
  return {
    type: 'session',
    ts: req.ts,
    sensor: tls.sensor,
    src_ip: tls.src_ip,
    src_port: tls.src_port,
    dst_ip: tls.dst_ip,
    dst_port: tls.dst_port,
    transport: tls.transport,
    hello_index: tls.hello_index,
    sni: tls.sni,
    alpn: tls.alpn,
    tls_version: tls.tls_version,
    tls_version_negotiated: tls.tls_version_negotiated,
    ja3: tls.ja3,
    ja3_str: tls.ja3_str,
    ja4: tls.ja4,
    ja4_r: tls.ja4_r,
    ja4_o: tls.ja4_o,
    ja4_ro: tls.ja4_ro,
    ja4_stable: tls.ja4_stable,
    resumption: tls.resumption,
    ja3s: tls.ja3s,
    ja3s_str: tls.ja3s_str,
    ja4s: tls.ja4s,
    ja4s_r: tls.ja4s_r,
    ja4t: tls.ja4t,
    ja4ts: tls.ja4ts,
    ja4l_c: tls.ja4l_c,
    ja4l_s: tls.ja4l_s,
    tft: tls.tft,
    tft_stable: tls.tft_stable,
    cf_ciphers_sha1: tls.cf_ciphers_sha1,
    cf_extensions_sha1: tls.cf_extensions_sha1,
    hello_length: tls.hello_length,
    certs: tls.certs,
    anomalies: tls.anomalies,
    source: req.source,
    host: req.host,
    method: req.method,
    path: req.path,
    status: req.status,
    user_agent: req.user_agent,
    request_time_ms: req.request_time_ms,
    ja4h: req.ja4h,
    ja4h_r: req.ja4h_r,
    ja4h_ro: req.ja4h_ro,
    tfh: req.tfh,
    lag_ms: Math.round(lagMs * 1000) / 1000,
    join: req.dst_port !== null ? 'flow' : 'ip_port',
  }
}

/**
 * @module protocols/tcp/flows
 * Flow table keyed by the 5-tuple, direction-independent, bounded in count and idle time.
 */
import { FLOW_IDLE_TIMEOUT_US, MAX_FLOWS_TRACKED } from '../limits.ts'

/** Compares two endpoints byte-wise (address, then port). */
function endpointOrder(ipA: Uint8Array, portA: number, ipB: Uint8Array, portB: number): number {
  const n = Math.min(ipA.length, ipB.length)
  for (let i = 0; i < n; i++) {
    const d = (ipA[i] ?? 0) - (ipB[i] ?? 0)
    if (d !== 0) return d
  }
  if (ipA.length !== ipB.length) return ipA.length - ipB.length
  return portA - portB
}

function packEndpoint(ip: Uint8Array, port: number): string {
  let s = ''
  for (let i = 0; i < ip.length; i += 2)
    s += String.fromCharCode(((ip[i] ?? 0) << 8) | (ip[i + 1] ?? 0))
  return s + String.fromCharCode(port)
}

/**
 * A hash of the 5-tuple that is the same for both directions (for sharding flows across
 * workers); not a key: different flows may share it.
 */
export function flowHash(
  srcIp: Uint8Array,
  srcPort: number,
  dstIp: Uint8Array,
  dstPort: number,
): number {
  return (
    (endpointHash(srcIp, 0, srcIp.length, srcPort) +
      endpointHash(dstIp, 0, dstIp.length, dstPort)) >>>
    0
  )
}

/** `flowHash` of addresses read in place: `len` bytes at `srcOff` and at `dstOff` of `b`. */
export function flowHashAt(
  b: Uint8Array,
  srcOff: number,
  dstOff: number,
  len: number,
  srcPort: number,
  dstPort: number,
): number {
  return (endpointHash(b, srcOff, len, srcPort) + endpointHash(b, dstOff, len, dstPort)) >>> 0
}

function endpointHash(b: Uint8Array, off: number, len: number, port: number): number {
  // FNV-1a over the address bytes and the port (the two halves are summed, so order-free).
  let h = 0x811c9dc5
  for (let i = off; i < off + len; i++) h = Math.imul(h ^ (b[i] ?? 0), 0x01000193)
  h = Math.imul(h ^ (port >> 8), 0x01000193)
  h = Math.imul(h ^ (port & 0xff), 0x01000193)
  return h >>> 0
}

export interface FlowKey {
  /** The same string for both directions of a flow. */
  key: string
  /** The source endpoint sorts first (lets callers map a packet to a direction without compares). */
  srcIsLow: boolean
}

/** Direction-independent key of a transport flow. */
export function flowKey(
  protocol: number,
  srcIp: Uint8Array,
  srcPort: number,
  dstIp: Uint8Array,
  dstPort: number,
): FlowKey {
  const srcIsLow = endpointOrder(srcIp, srcPort, dstIp, dstPort) <= 0
  // Plain conditionals: array destructuring here cost an allocation per packet.
  const lo = srcIsLow ? srcIp : dstIp
  const hi = srcIsLow ? dstIp : srcIp
  const loPort = srcIsLow ? srcPort : dstPort
  const hiPort = srcIsLow ? dstPort : srcPort
  if (lo.length === 4 && hi.length === 4) {
    // The common case in one call: same characters as the general path, one flat string.
    const key = String.fromCharCode(
      protocol,
      ((lo[0] ?? 0) << 8) | (lo[1] ?? 0),
      ((lo[2] ?? 0) << 8) | (lo[3] ?? 0),
      loPort,
      ((hi[0] ?? 0) << 8) | (hi[1] ?? 0),
      ((hi[2] ?? 0) << 8) | (hi[3] ?? 0),
      hiPort,
    )
    return { key, srcIsLow }
  }
  return {
    key: String.fromCharCode(protocol) + packEndpoint(lo, loPort) + packEndpoint(hi, hiPort),
    srcIsLow,
  }
}

export interface FlowTableOptions<T> {
  maxFlows?: number
  idleTimeoutUs?: number
  /** Called for each flow that leaves the table by timeout, eviction or `drain`. */
  onExpire?: (flow: T, reason: 'idle' | 'evicted' | 'closed' | 'end') => void
}

interface Entry<T> {
  flow: T
  lastUs: number
}

/**
 * Insertion-ordered map with an idle sweep. When full, idle flows go first, then the oldest.
 * NOTE: a touch does not reorder the map (cheap per packet); the sweep runs at most once per
 * tenth of the idle timeout of capture time, so a flow lives between 1× and 1.1× the timeout.
 */
export class FlowTable<T> {
  private readonly map = new Map<string, Entry<T>>()
  private readonly maxFlows: number
  private readonly idleUs: number
  private readonly onExpire: FlowTableOptions<T>['onExpire']
  private lastSweepUs = -Infinity
  evicted = 0
  expired = 0

  constructor(opts: FlowTableOptions<T> = {}) {
    this.maxFlows = opts.maxFlows ?? MAX_FLOWS_TRACKED
    this.idleUs = opts.idleTimeoutUs ?? FLOW_IDLE_TIMEOUT_US
    this.onExpire = opts.onExpire
  }

  get size(): number {
    return this.map.size
  }

  get(key: string, nowUs: number): T | undefined {
    const e = this.map.get(key)
    if (e === undefined) return undefined
    e.lastUs = nowUs
    return e.flow
  }

  /** Inserts a new flow, making room first when the table is full. */
  add(key: string, flow: T, nowUs: number): void {
    if (this.map.size >= this.maxFlows) {
      this.sweep(nowUs, true)
      while (this.map.size >= this.maxFlows) {
        const first = this.map.keys().next()
        if (first.done === true) break
        this.remove(first.value, 'evicted')
        this.evicted++
      }
    }
    this.map.set(key, { flow, lastUs: nowUs })
  }

  /** Removes a flow whose work is finished. */
  close(key: string): void {
    this.remove(key, 'closed')
  }

  private remove(key: string, reason: 'idle' | 'evicted' | 'closed' | 'end'): void {
    const e = this.map.get(key)
    if (e === undefined) return
    this.map.delete(key)
    this.onExpire?.(e.flow, reason)
  }

  /** Expires idle flows; cheap to call per packet (runs at most every idleTimeout/10). */
  tick(nowUs: number): void {
    if (nowUs - this.lastSweepUs >= this.idleUs / 10) this.sweep(nowUs, false)
  }

  private sweep(nowUs: number, force: boolean): void {
    if (!force && nowUs - this.lastSweepUs < this.idleUs / 10) return
    this.lastSweepUs = nowUs
    const limit = nowUs - this.idleUs
    for (const [key, e] of this.map) {
      if (e.lastUs < limit) {
        this.map.delete(key)
        this.expired++
        this.onExpire?.(e.flow, 'idle')
      }
    }
  }

  /** Removes every flow (end of input), in insertion order. */
  drain(): void {
    for (const key of [...this.map.keys()]) this.remove(key, 'end')
  }

  values(): IterableIterator<T> {
    const it = this.map.values()
    return (function* () {
      for (const e of it) yield e.flow
    })()
  }
}

/**
 * Keys seen recently, with their time: a ring of `capacity` keys (the oldest is overwritten when
 * full) that also forgets keys older than `ttlUs`. O(1) per call, for remembering closed
 * connections. (A Map used as a FIFO would slow down: deleting its first entries leaves holes
 * that every `keys().next()` walks over.)
 */
export class RecentKeys {
  /** key → its slot in the ring. */
  private readonly slots = new Map<string, number>()
  private readonly keys: (string | undefined)[]
  private readonly times: Float64Array
  private next = 0

  constructor(
    capacity: number,
    private readonly ttlUs: number,
  ) {
    this.keys = new Array<string | undefined>(capacity).fill(undefined)
    this.times = new Float64Array(capacity)
  }

  get size(): number {
    return this.slots.size
  }

  add(key: string, nowUs: number): void {
    const old = this.keys[this.next]
    if (old !== undefined && this.slots.get(old) === this.next) this.slots.delete(old)
    this.keys[this.next] = key
    this.times[this.next] = nowUs
    this.slots.set(key, this.next)
    this.next = (this.next + 1) % this.keys.length
  }

  has(key: string, nowUs: number): boolean {
    const slot = this.slots.get(key)
    if (slot === undefined) return false
    if (nowUs - (this.times[slot] ?? 0) <= this.ttlUs) return true
    this.slots.delete(key)
    return false
  }

  delete(key: string): void {
    this.slots.delete(key)
  }
}

/**
 * @module sources/udp-ring
 * The datagrams between the UDP listener's thread and the main thread: one ring in shared
 * memory, one writer (the listener) and one reader (the decoder). Nothing is allocated or
 * posted per batch: a buffer per event-loop turn, transferred, was 64 KiB of new memory for
 * ~40 datagrams, and its garbage and the messages cost the main thread more than the copy.
 *
 * Record: peer address length u8 (at most MAX_PEER_CHARS), the address (ASCII), datagram length
 * u32 LE, the datagram. A record that does not fit before the end of the ring starts again at 0;
 * the skipped tail is marked with a WRAP byte where a peer length would be. Counters (bytes and
 * records in the ring) are updated with Atomics after the bytes are written and after they are
 * read, so each side only ever sees whole records.
 */

/** Control words (Int32). */
const USED_BYTES = 0
const RECORDS = 1
/** 1 while the reader has stopped because the ring was empty: the writer must wake it. */
const READER_IDLE = 2
const CONTROL_WORDS = 4

const WRAP = 0xff
/** Longest peer address kept (IPv6 with a zone is well under it). */
export const MAX_PEER_CHARS = 254
const HEADER_BYTES = 5

export interface UdpRing {
  control: SharedArrayBuffer
  data: SharedArrayBuffer
  /** Records in the ring at most (datagrams handed over and not yet decoded). */
  maxRecords: number
}

export function createUdpRing(bytes: number, maxRecords: number): UdpRing {
  if (!Number.isSafeInteger(bytes) || bytes < 1024 || bytes > 2 ** 30)
    throw new RangeError(`ring size ${bytes} out of range`)
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4)
  new Int32Array(control)[READER_IDLE] = 1
  return { control, data: new SharedArrayBuffer(bytes), maxRecords }
}

/** The views either side keeps of the ring, and its own position in it. */
abstract class RingSide {
  protected readonly ctl: Int32Array
  protected readonly data: Buffer
  protected readonly size: number
  protected pos = 0

  constructor(ring: UdpRing) {
    this.ctl = new Int32Array(ring.control)
    this.data = Buffer.from(ring.data)
    this.size = ring.data.byteLength
  }
}

/** The listener's side. */
export class RingWriter extends RingSide {
  readonly #maxRecords: number

  constructor(ring: UdpRing) {
    super(ring)
    this.#maxRecords = ring.maxRecords
  }

  /**
   * Copies a datagram in. false when the ring is full (by bytes or records); the caller counts
   * the drop. `wake` is called when the reader had stopped and must be told to read again.
   */
  push(peer: string, msg: Uint8Array, wake: () => void): boolean {
    const plen = Math.min(peer.length, MAX_PEER_CHARS)
    const rec = HEADER_BYTES + plen + msg.length
    const waste = this.pos + rec > this.size ? this.size - this.pos : 0
    if (
      rec > this.size ||
      Atomics.load(this.ctl, USED_BYTES) + waste + rec > this.size ||
      Atomics.load(this.ctl, RECORDS) >= this.#maxRecords
    )
      return false
    if (waste > 0) {
      this.data[this.pos] = WRAP
      this.pos = 0
    }
    const d = this.data
    let at = this.pos
    d[at++] = plen
    at += d.write(peer, at, plen, 'latin1')
    d.writeUInt32LE(msg.length, at)
    at += 4
    d.set(msg, at)
    at += msg.length
    this.pos = at === this.size ? 0 : at
    Atomics.add(this.ctl, USED_BYTES, waste + rec)
    Atomics.add(this.ctl, RECORDS, 1)
    if (
      Atomics.load(this.ctl, READER_IDLE) === 1 &&
      Atomics.compareExchange(this.ctl, READER_IDLE, 1, 0) === 1
    )
      wake()
    return true
  }
}

/** The decoder's side. */
export class RingReader extends RingSide {
  /** Records in the ring now. */
  get records(): number {
    return Atomics.load(this.ctl, RECORDS)
  }

  /**
   * Hands up to `max` records to `fn`, then frees their room. `bytes` is a view of the ring:
   * valid only during the call (the writer reuses the room after `take` returns).
   */
  take(max: number, fn: (peer: string, bytes: Uint8Array) => void): number {
    const avail = Atomics.load(this.ctl, USED_BYTES)
    const d = this.data
    let consumed = 0
    let n = 0
    while (n < max && consumed < avail) {
      const plen = d[this.pos] ?? WRAP
      if (plen === WRAP) {
        consumed += this.size - this.pos
        this.pos = 0
        continue
      }
      const start = this.pos + 1
      const peer = d.toString('latin1', start, start + plen)
      const len = d.readUInt32LE(start + plen)
      const body = start + plen + 4
      fn(peer, d.subarray(body, body + len))
      const rec = HEADER_BYTES + plen + len
      consumed += rec
      this.pos = body + len === this.size ? 0 : body + len
      n++
    }
    if (consumed > 0) Atomics.sub(this.ctl, USED_BYTES, consumed)
    if (n > 0) Atomics.sub(this.ctl, RECORDS, n)
    return n
  }

  /**
   * Marks the reader stopped. true when records arrived meanwhile and the reader took the right
   * to read back (go on reading); false when it stays stopped (the writer will wake it).
   */
  stop(): boolean {
    Atomics.store(this.ctl, READER_IDLE, 1)
    return (
      Atomics.load(this.ctl, USED_BYTES) > 0 &&
      Atomics.compareExchange(this.ctl, READER_IDLE, 1, 0) === 1
    )
  }
}

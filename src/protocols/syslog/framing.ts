/**
 * @module protocols/syslog/framing
 * RFC 6587 syslog over TCP: an incremental framer that splits a byte stream into messages and
 * never parses them. Each message may use either framing (RFC 6587 §3.4): octet counting
 * (`MSG-LEN SP SYSLOG-MSG`, §3.4.1) or non-transparent framing (a trailer after the message,
 * §3.4.2: LF, CRLF or NUL are accepted). With octet counting off it is a plain line splitter for
 * NDJSON over TCP or a UNIX socket.
 */

/** Largest frame returned (the message, without length prefix or trailer). */
export const MAX_SYSLOG_FRAME_BYTES = 65_536
/**
 * An octet-counted frame above the frame limit but at most this long is skipped by its count
 * (streamed past, never buffered); a larger count is taken as garbage and the framer resyncs at
 * the next LF instead.
 */
export const MAX_SYSLOG_SKIP_FRAME_BYTES = 16_777_216
/** Digits of MSG-LEN before a leading number is no longer read as an octet count. */
const MAX_MSG_LEN_DIGITS = String(MAX_SYSLOG_SKIP_FRAME_BYTES).length

export interface SyslogTcpFramerOptions {
  /** Frame limit in bytes (default MAX_SYSLOG_FRAME_BYTES). */
  maxFrameBytes?: number
  /**
   * Read `digits SP` at a frame start as an RFC 6587 octet count (default true). Turn it off for
   * NDJSON or other line protocols, where a line may begin with a number.
   */
  octetCounting?: boolean
}

export interface SyslogFramerStats {
  /** Frames returned. */
  frames: number
  octetCountedFrames: number
  /** Frames ended by LF, CRLF or NUL (RFC 6587 §3.4.2), and a last unterminated one at `end`. */
  nonTransparentFrames: number
  /** Frames longer than the frame limit, skipped. */
  oversizedFrames: number
  /** Bytes dropped with oversized or cut frames (length prefixes and trailers not counted). */
  discardedBytes: number
  /** Octet-counted frames cut short by the end of the stream. */
  truncatedFrames: number
}

const LF = 0x0a
const CR = 0x0d
const NUL = 0x00
const SP = 0x20

const enum State {
  Start,
  Length,
  Octets,
  Line,
  SkipCount,
  SkipLine,
}

/**
 * Splits one TCP (or stream socket) direction into syslog messages.
 * NOTE: a returned frame may be a view into the chunk passed to `push`; copy it before the
 * caller reuses that memory.
 * @example
 * const framer = new SyslogTcpFramer()
 * socket.on('data', (chunk) => { for (const m of framer.push(chunk)) handle(parseSyslog(m)) })
 */
export class SyslogTcpFramer {
  readonly stats: SyslogFramerStats = {
    frames: 0,
    octetCountedFrames: 0,
    nonTransparentFrames: 0,
    oversizedFrames: 0,
    discardedBytes: 0,
    truncatedFrames: 0,
  }
  private readonly maxFrameBytes: number
  private readonly octetCounting: boolean
  private state = State.Start
  /** Partial frame (or MSG-LEN digits) carried between pushes; at most maxFrameBytes + 1. */
  private buf = new Uint8Array(0)
  private bufLen = 0
  private msgLen = 0
  private remaining = 0

  constructor(options: SyslogTcpFramerOptions = {}) {
    this.maxFrameBytes = Math.max(1, Math.floor(options.maxFrameBytes ?? MAX_SYSLOG_FRAME_BYTES))
    this.octetCounting = options.octetCounting ?? true
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.bufLen
  }

  /** Feeds the next chunk; returns the messages it completes, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = []
    const n = chunk.length
    // Next LF / NUL at or after a position, cached so a chunk of many lines is scanned once.
    let lfAt = -2
    let nulAt = -2
    const trailerFrom = (from: number): number => {
      if (lfAt !== -1 && lfAt < from) lfAt = chunk.indexOf(LF, from)
      if (nulAt !== -1 && nulAt < from) nulAt = chunk.indexOf(NUL, from)
      if (lfAt === -1) return nulAt
      if (nulAt === -1) return lfAt
      return Math.min(lfAt, nulAt)
    }
    let i = 0
    while (i < n) {
      switch (this.state) {
        case State.Start: {
          const c = chunk[i] ?? 0
          // Empty frames (a trailer right after a frame, as some senders add to octet-counted
          // ones) carry nothing.
          if (c === LF || c === CR || c === NUL) {
            i++
          } else if (this.octetCounting && c >= 0x31 && c <= 0x39) {
            // RFC 6587 §3.4.1: MSG-LEN = NONZERO-DIGIT *DIGIT.
            this.state = State.Length
            this.msgLen = 0
          } else {
            this.state = State.Line
          }
          break
        }
        case State.Length: {
          const c = chunk[i] ?? 0
          if (c >= 0x30 && c <= 0x39 && this.bufLen < MAX_MSG_LEN_DIGITS) {
            this.msgLen = this.msgLen * 10 + (c - 0x30)
            this.append(chunk.subarray(i, i + 1))
            i++
          } else if (c === SP) {
            i++
            this.bufLen = 0
            this.startCounted()
          } else {
            // HACK: digits not followed by SP: a non-transparent frame that begins with a
            // number. The digits stay in the buffer as the start of that line.
            this.state = State.Line
          }
          break
        }
        case State.Octets: {
          const take = Math.min(this.remaining, n - i)
          if (this.bufLen === 0 && take === this.remaining) {
            this.emit(out, chunk.subarray(i, i + take), true)
          } else {
            this.append(chunk.subarray(i, i + take))
            if (take === this.remaining) this.emit(out, this.takeBuffer(), true)
          }
          this.remaining -= take
          i += take
          if (this.remaining === 0) this.state = State.Start
          break
        }
        case State.Line: {
          const stop = trailerFrom(i)
          const segEnd = stop === -1 ? n : stop
          const seg = chunk.subarray(i, segEnd)
          // +1: a CR before the LF is held until the LF shows it was a trailer.
          if (this.bufLen + seg.length > this.maxFrameBytes + 1) {
            this.stats.oversizedFrames++
            this.stats.discardedBytes += this.bufLen + seg.length
            this.bufLen = 0
            this.state = stop === -1 ? State.SkipLine : State.Start
            i = stop === -1 ? n : stop + 1
            break
          }
          if (stop === -1) {
            this.append(seg)
            i = n
            break
          }
          let frame: Uint8Array
          if (this.bufLen === 0) {
            frame = seg
          } else {
            this.append(seg)
            frame = this.takeBuffer()
          }
          // RFC 6587 §3.4.2: CRLF is a common trailer too; the CR is not part of the message.
          if (chunk[stop] === LF && frame.length > 0 && frame[frame.length - 1] === CR) {
            frame = frame.subarray(0, frame.length - 1)
          }
          if (frame.length > this.maxFrameBytes) {
            this.stats.oversizedFrames++
            this.stats.discardedBytes += frame.length
          } else if (frame.length > 0) {
            this.emit(out, frame, false)
          }
          i = stop + 1
          this.state = State.Start
          break
        }
        case State.SkipCount: {
          const take = Math.min(this.remaining, n - i)
          this.stats.discardedBytes += take
          this.remaining -= take
          i += take
          if (this.remaining === 0) this.state = State.Start
          break
        }
        case State.SkipLine: {
          const stop = trailerFrom(i)
          const skipEnd = stop === -1 ? n : stop
          this.stats.discardedBytes += skipEnd - i
          i = stop === -1 ? n : stop + 1
          if (stop !== -1) this.state = State.Start
          break
        }
      }
    }
    return out
  }

  /**
   * The stream ended: returns a last line that had no trailer (RFC 6587 §3.4.2 senders may close
   * right after a message) and counts an octet-counted frame cut short. Resets the framer.
   */
  end(): Uint8Array[] {
    const out: Uint8Array[] = []
    if (this.state === State.Line || this.state === State.Length) {
      let frame = this.takeBuffer()
      if (frame.length > 0 && frame[frame.length - 1] === CR) frame = frame.subarray(0, -1)
      if (frame.length > this.maxFrameBytes) {
        this.stats.oversizedFrames++
        this.stats.discardedBytes += frame.length
      } else if (frame.length > 0) {
        this.emit(out, frame, false)
      }
    } else if (this.state === State.Octets) {
      this.stats.truncatedFrames++
      this.stats.discardedBytes += this.bufLen
    }
    this.bufLen = 0
    this.remaining = 0
    this.state = State.Start
    return out
  }

  private startCounted(): void {
    if (this.msgLen <= this.maxFrameBytes) {
      this.state = State.Octets
      this.remaining = this.msgLen
    } else if (this.msgLen <= MAX_SYSLOG_SKIP_FRAME_BYTES) {
      this.stats.oversizedFrames++
      this.state = State.SkipCount
      this.remaining = this.msgLen
    } else {
      // A count this large is not a length: the stream is out of sync. Resync at the next LF.
      this.stats.oversizedFrames++
      this.state = State.SkipLine
    }
  }

  private emit(out: Uint8Array[], frame: Uint8Array, counted: boolean): void {
    out.push(frame)
    this.stats.frames++
    if (counted) this.stats.octetCountedFrames++
    else this.stats.nonTransparentFrames++
  }

  private append(bytes: Uint8Array): void {
    const need = this.bufLen + bytes.length
    if (need > this.buf.length) {
      const cap = Math.max(need, Math.min(this.maxFrameBytes + 1, Math.max(2 * need, 256)))
      const grown = new Uint8Array(cap)
      grown.set(this.buf.subarray(0, this.bufLen))
      this.buf = grown
    }
    this.buf.set(bytes, this.bufLen)
    this.bufLen = need
  }

  /** The buffered bytes as a copy (the buffer is reused), emptying the buffer. */
  private takeBuffer(): Uint8Array {
    const frame = this.buf.slice(0, this.bufLen)
    this.bufLen = 0
    return frame
  }
}

const encoder = new TextEncoder()

/** RFC 6587 §3.4.1 octet-counting frame: `MSG-LEN SP SYSLOG-MSG` (MSG-LEN in bytes). */
export function octetCountFrame(message: Uint8Array | string): Uint8Array {
  const body = typeof message === 'string' ? encoder.encode(message) : message
  const prefix = encoder.encode(`${body.length} `)
  const out = new Uint8Array(prefix.length + body.length)
  out.set(prefix)
  out.set(body, prefix.length)
  return out
}

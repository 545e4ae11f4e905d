/**
 * @module bytes/reader
 * One bounds-checked reader for every wire-format parser. Reads past the end raise a private
 * `Truncated` signal that exported parse entry points turn into a `ParseResult` (see `parseWith`),
 * so bytes from the wire can never make a parser throw.
 */

/** Machine-readable reasons a parse can fail. Open for extension by each protocol. */
export type ParseErrorCode =
  'truncated' | 'bad_magic' | 'bad_length' | 'bad_value' | 'unsupported' | 'limit_exceeded'

export interface ParseError {
  code: ParseErrorCode
  /** Absolute offset in the buffer where the problem was found. */
  offset: number
  context: string
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ParseError }

/**
 * Raised inside parsers on a read underflow or a deliberate abort. It is not an `Error`, so
 * throwing it captures no stack: cheap enough for hot paths that meet truncated data often.
 */
export class Truncated {
  constructor(
    readonly offset: number,
    readonly needed: number,
    readonly code: ParseErrorCode = 'truncated',
    readonly context = '',
  ) {}
}

export class ByteReader {
  /** Absolute read position in `buf`. */
  pos: number

  constructor(
    readonly buf: Uint8Array,
    readonly start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start
  }

  get remaining(): number {
    return this.end - this.pos
  }

  get atEnd(): boolean {
    return this.pos >= this.end
  }

  /** Offset relative to this reader's start. */
  get consumed(): number {
    return this.pos - this.start
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new Truncated(this.pos, n)
  }

  u8(): number {
    this.need(1)
    return this.buf[this.pos++] ?? 0
  }

  u16(): number {
    this.need(2)
    const b = this.buf
    const p = this.pos
    this.pos = p + 2
    return ((b[p] ?? 0) << 8) | (b[p + 1] ?? 0)
  }

  u24(): number {
    this.need(3)
    const b = this.buf
    const p = this.pos
    this.pos = p + 3
    return ((b[p] ?? 0) << 16) | ((b[p + 1] ?? 0) << 8) | (b[p + 2] ?? 0)
  }

  u32(): number {
    this.need(4)
    const b = this.buf
    const p = this.pos
    this.pos = p + 4
    return (
      (((b[p] ?? 0) << 24) | ((b[p + 1] ?? 0) << 16) | ((b[p + 2] ?? 0) << 8) | (b[p + 3] ?? 0)) >>>
      0
    )
  }

  u16le(): number {
    this.need(2)
    const b = this.buf
    const p = this.pos
    this.pos = p + 2
    return (b[p] ?? 0) | ((b[p + 1] ?? 0) << 8)
  }

  u32le(): number {
    this.need(4)
    const b = this.buf
    const p = this.pos
    this.pos = p + 4
    return (
      ((b[p] ?? 0) | ((b[p + 1] ?? 0) << 8) | ((b[p + 2] ?? 0) << 16) | ((b[p + 3] ?? 0) << 24)) >>>
      0
    )
  }

  /** `n` bytes as a view into the underlying buffer (no copy). */
  bytes(n: number): Uint8Array {
    this.need(n)
    const p = this.pos
    this.pos = p + n
    return this.buf.subarray(p, p + n)
  }

  /** Everything left, as a view. */
  rest(): Uint8Array {
    const p = this.pos
    this.pos = this.end
    return this.buf.subarray(p, this.end)
  }

  skip(n: number): void {
    this.need(n)
    this.pos += n
  }

  peekU8(ahead = 0): number {
    if (this.pos + ahead + 1 > this.end) throw new Truncated(this.pos + ahead, 1)
    return this.buf[this.pos + ahead] ?? 0
  }

  peekU16(ahead = 0): number {
    if (this.pos + ahead + 2 > this.end) throw new Truncated(this.pos + ahead, 2)
    const p = this.pos + ahead
    return ((this.buf[p] ?? 0) << 8) | (this.buf[p + 1] ?? 0)
  }

  /** A child reader over the next `n` bytes; this reader moves past them. */
  sub(n: number): ByteReader {
    this.need(n)
    const p = this.pos
    this.pos = p + n
    return new ByteReader(this.buf, p, p + n)
  }

  /** TLS `opaque x<0..2^8-1>`: a child reader clamped to the declared length. */
  vec8(): ByteReader {
    return this.sub(this.u8())
  }

  /** TLS `opaque x<0..2^16-1>`. */
  vec16(): ByteReader {
    return this.sub(this.u16())
  }

  /** TLS `opaque x<0..2^24-1>`. */
  vec24(): ByteReader {
    return this.sub(this.u24())
  }

  /** Abort the current parse with a typed reason (caught by `parseWith`). */
  fail(code: ParseErrorCode, context: string): never {
    throw new Truncated(this.pos, 0, code, context)
  }
}

/**
 * Runs `fn` and turns a `Truncated` signal into `{ ok: false }`. Any other exception is a bug
 * and propagates.
 */
export function parseWith<T>(context: string, fn: () => T): ParseResult<T> {
  try {
    return { ok: true, value: fn() }
  } catch (e) {
    if (e instanceof Truncated) {
      return {
        ok: false,
        error: { code: e.code, offset: e.offset, context: e.context === '' ? context : e.context },
      }
    }
    throw e
  }
}

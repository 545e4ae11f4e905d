/**
 * @module fingerprints/ascii
 * A reusable ASCII byte builder for fingerprint strings. Strings built by `+` in a loop are
 * rope (cons) strings, and flattening one before hashing costs more than the digest itself;
 * decoding bytes gives a flat string in one step.
 */

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0))
// ASCII only ever goes in, so any ASCII-compatible decoder gives the same string.
const decoder = new TextDecoder()

export class AsciiBuilder {
  private buf = new Uint8Array(1024)
  private len = 0

  get length(): number {
    return this.len
  }

  reset(): this {
    this.len = 0
    return this
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + n))
    grown.set(this.buf.subarray(0, this.len))
    this.buf = grown
  }

  /** One ASCII character code. */
  char(c: number): this {
    this.room(1)
    this.buf[this.len++] = c
    return this
  }

  /** Four lower-case hex digits of a 16-bit value. */
  hex4(v: number): this {
    this.room(4)
    const b = this.buf
    const p = this.len
    b[p] = HEX[(v >> 12) & 15] ?? 0
    b[p + 1] = HEX[(v >> 8) & 15] ?? 0
    b[p + 2] = HEX[(v >> 4) & 15] ?? 0
    b[p + 3] = HEX[v & 15] ?? 0
    this.len = p + 4
    return this
  }

  /** `sep`-joined 4-hex values of the first `n` entries. */
  hexList(values: ArrayLike<number>, n: number, sep = 0x2c): this {
    return this.hexRange(values, 0, n, sep)
  }

  /** `sep`-joined 4-hex values of the entries `from` to `to` (excluded). */
  hexRange(values: ArrayLike<number>, from: number, to: number, sep = 0x2c): this {
    if (to <= from) return this
    this.room((to - from) * 5)
    const b = this.buf
    let p = this.len
    for (let i = from; i < to; i++) {
      if (i > from) b[p++] = sep
      const v = values[i] ?? 0
      b[p] = HEX[(v >> 12) & 15] ?? 0
      b[p + 1] = HEX[(v >> 8) & 15] ?? 0
      b[p + 2] = HEX[(v >> 4) & 15] ?? 0
      b[p + 3] = HEX[v & 15] ?? 0
      p += 4
    }
    this.len = p
    return this
  }

  /** Decimal digits of a non-negative integer below 2^32. */
  dec(v: number): this {
    this.room(10)
    const b = this.buf
    let p = this.len
    // Count the digits first, then write them from the right: no reversal pass.
    let digits = 1
    for (let x = v; x >= 10; x = (x / 10) >>> 0) digits++
    p += digits
    let x = v
    for (let i = p - 1; i >= this.len; i--) {
      b[i] = 0x30 + (x % 10)
      x = (x / 10) >>> 0
    }
    this.len = p
    return this
  }

  /** `sep`-joined decimals of the first `n` entries. */
  decList(values: ArrayLike<number>, n: number, sep = 0x2d): this {
    return this.decRange(values, 0, n, sep)
  }

  /** `sep`-joined decimals of the entries `from` to `to` (excluded). */
  decRange(values: ArrayLike<number>, from: number, to: number, sep = 0x2d): this {
    for (let i = from; i < to; i++) {
      if (i > from) this.char(sep)
      this.dec(values[i] ?? 0)
    }
    return this
  }

  /** The bytes from `from` to `to` (default: the end) as a flat string. */
  toString(from = 0, to = this.len): string {
    return decoder.decode(this.buf.subarray(from, to))
  }
}

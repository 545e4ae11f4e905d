/**
 * @module bytes/builder
 * Builds byte fixtures in code (`new ByteBuilder().u16(0x0303).vec16(b => …).build()`), so tests
 * state the wire format they exercise instead of pasting opaque hex.
 */

export class ByteBuilder {
  private parts: number[] = []

  u8(v: number): this {
    this.parts.push(v & 0xff)
    return this
  }

  u16(v: number): this {
    this.parts.push((v >> 8) & 0xff, v & 0xff)
    return this
  }

  u24(v: number): this {
    this.parts.push((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff)
    return this
  }

  u32(v: number): this {
    this.parts.push((v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff)
    return this
  }

  u16le(v: number): this {
    this.parts.push(v & 0xff, (v >> 8) & 0xff)
    return this
  }

  u32le(v: number): this {
    this.parts.push(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff)
    return this
  }

  bytes(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.parts.push((b[i] ?? 0) & 0xff)
    return this
  }

  ascii(s: string): this {
    for (let i = 0; i < s.length; i++) this.parts.push(s.charCodeAt(i) & 0xff)
    return this
  }

  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.parts.push(0)
    return this
  }

  /** A length-prefixed vector whose body is written by `fn`; `lenBytes` is 1, 2, 3 or 4. */
  vec(lenBytes: 1 | 2 | 3 | 4, fn: (b: ByteBuilder) => void): this {
    const inner = new ByteBuilder()
    fn(inner)
    const body = inner.build()
    if (lenBytes === 1) this.u8(body.length)
    else if (lenBytes === 2) this.u16(body.length)
    else if (lenBytes === 3) this.u24(body.length)
    else this.u32(body.length)
    return this.bytes(body)
  }

  vec8(fn: (b: ByteBuilder) => void): this {
    return this.vec(1, fn)
  }

  vec16(fn: (b: ByteBuilder) => void): this {
    return this.vec(2, fn)
  }

  vec24(fn: (b: ByteBuilder) => void): this {
    return this.vec(3, fn)
  }

  get length(): number {
    return this.parts.length
  }

  build(): Uint8Array {
    return Uint8Array.from(this.parts)
  }
}

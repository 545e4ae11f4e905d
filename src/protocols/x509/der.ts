/**
 * @module protocols/x509/der
 * A small DER walker (ITU-T X.690 §8, §10) over the one bounds-checked `ByteReader`: identifier
 * octets (low and high tag-number forms), definite lengths (short and long form), constructed vs
 * primitive, and a bounded nesting depth. Malformed encodings abort through the reader's private
 * signal, so callers wrap reads in `parseWith` and never see an exception.
 */

import { ByteReader } from '../../bytes/reader.ts'
import { toHex } from '../../bytes/hex.ts'
import {
  MAX_DER_DEPTH_LEVELS,
  MAX_DER_LENGTH_BYTES,
  MAX_DER_TAG_NUMBER_BYTES,
  MAX_OID_BYTES,
  MAX_OID_CACHE_ENTRIES,
} from './limits.ts'

/** X.690 §8.1.2.2: the two class bits of the identifier octet. */
export type DerClass = 'universal' | 'application' | 'context' | 'private'

const CLASSES: readonly DerClass[] = ['universal', 'application', 'context', 'private']

/** Universal tag numbers used by X.509 (X.680 §8.4). */
export const DerTag = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OBJECT_IDENTIFIER: 6,
  UTF8_STRING: 12,
  SEQUENCE: 16,
  SET: 17,
  NUMERIC_STRING: 18,
  PRINTABLE_STRING: 19,
  TELETEX_STRING: 20,
  IA5_STRING: 22,
  UTC_TIME: 23,
  GENERALIZED_TIME: 24,
  VISIBLE_STRING: 26,
  UNIVERSAL_STRING: 28,
  BMP_STRING: 30,
} as const

/** One TLV. Offsets are absolute in the walked buffer; views share its memory. */
export class DerTlv {
  constructor(
    private readonly buf: Uint8Array,
    readonly cls: DerClass,
    readonly constructed: boolean,
    readonly tag: number,
    /** Offset of the first identifier octet. */
    readonly offset: number,
    /** Offset of the first content octet. */
    readonly contentOffset: number,
    /** Offset just past the content. */
    readonly end: number,
  ) {}

  /** Identifier, length and content octets (a view, made on demand). */
  get raw(): Uint8Array {
    return this.buf.subarray(this.offset, this.end)
  }

  /** Content octets only (a view, made on demand). */
  get content(): Uint8Array {
    return this.buf.subarray(this.contentOffset, this.end)
  }
}

/** Walks the TLVs of one level; `children` / `encapsulated` descend one level. */
export class DerReader {
  private readonly r: ByteReader

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
    /** Nesting level of this reader (0 at the top). */
    readonly depth = 0,
  ) {
    this.r = new ByteReader(buf, start, end)
  }

  get atEnd(): boolean {
    return this.r.atEnd
  }

  /** Absolute offset of the next TLV. */
  get pos(): number {
    return this.r.pos
  }

  /** Reads the next TLV (aborts on truncation, indefinite length or an oversized header). */
  next(): DerTlv {
    const r = this.r
    const offset = r.pos
    const id = r.u8()
    const cls = CLASSES[id >> 6] ?? 'universal'
    const constructed = (id & 0x20) !== 0
    let tag = id & 0x1f
    if (tag === 0x1f) {
      // X.690 §8.1.2.4: high tag number, base-128 with continuation bits, no leading 0x80.
      tag = 0
      for (let i = 0; ; i++) {
        if (i === MAX_DER_TAG_NUMBER_BYTES) r.fail('limit_exceeded', 'der tag number too large')
        const b = r.u8()
        if (i === 0 && b === 0x80) r.fail('bad_value', 'der tag number not minimal')
        tag = tag * 128 + (b & 0x7f)
        if ((b & 0x80) === 0) break
      }
    }
    const first = r.u8()
    let length = first
    if (first === 0x80) {
      // X.690 §10.1: DER uses the definite form only.
      r.fail('unsupported', 'der indefinite length')
    } else if (first > 0x80) {
      // X.690 §8.1.3.5 long form (0xff, reserved by §8.1.3.5 c, fails the size bound). Non-minimal
      // long forms are BER, not DER; they are accepted as they do not change what the bytes mean.
      const n = first & 0x7f
      if (n > MAX_DER_LENGTH_BYTES) r.fail('limit_exceeded', 'der length too large')
      length = 0
      for (let i = 0; i < n; i++) length = length * 256 + r.u8()
    }
    const contentOffset = r.pos
    r.skip(length)
    return new DerTlv(this.buf, cls, constructed, tag, offset, contentOffset, r.pos)
  }

  /**
   * True if the next TLV has this class and low-form tag (false at the end); consumes nothing and
   * looks at the identifier octet only.
   */
  peekIs(cls: DerClass, tag: number): boolean {
    if (this.r.atEnd || tag >= 0x1f) return false
    const id = this.r.peekU8()
    return CLASSES[id >> 6] === cls && (id & 0x1f) === tag
  }

  /** Reads the next TLV and aborts with `bad_value` unless it is universal `tag`. */
  expect(tag: number, context: string): DerTlv {
    const t = this.next()
    if (t.cls !== 'universal' || t.tag !== tag) this.r.fail('bad_value', context)
    return t
  }

  /** Consumes and returns the next TLV if it has this class and tag. */
  optional(cls: DerClass, tag: number): DerTlv | undefined {
    return this.peekIs(cls, tag) ? this.next() : undefined
  }

  /** A reader over the content of a constructed TLV, one level deeper. */
  children(t: DerTlv, context: string): DerReader {
    if (!t.constructed) this.r.fail('bad_value', context)
    return this.descend(t)
  }

  /**
   * A reader over DER carried inside a primitive TLV's content (an OCTET STRING `extnValue`,
   * RFC 5280 §4.1), one level deeper.
   */
  encapsulated(t: DerTlv, context: string): DerReader {
    if (t.constructed) this.r.fail('bad_value', context)
    return this.descend(t)
  }

  /** Aborts the current parse (caught by `parseWith`). */
  fail(code: 'bad_value' | 'unsupported', context: string): never {
    this.r.fail(code, context)
  }

  private descend(t: DerTlv): DerReader {
    if (this.depth + 1 > MAX_DER_DEPTH_LEVELS) this.r.fail('limit_exceeded', 'der nesting too deep')
    return new DerReader(this.buf, t.contentOffset, t.end, this.depth + 1)
  }
}

/**
 * Dotted form of OBJECT IDENTIFIER content octets (X.690 §8.19), or `undefined` when they are
 * empty, end inside a subidentifier, have a non-minimal subidentifier (leading 0x80) or exceed
 * MAX_OID_BYTES. Arcs above 2^53 (UUID arcs under 2.25) are exact, via BigInt.
 */
export function decodeOid(content: Uint8Array): string | undefined {
  if (content.length === 0 || content.length > MAX_OID_BYTES) return undefined
  let out = ''
  let small = 0
  let big: bigint | undefined
  let startOfArc = true
  for (const b of content) {
    if (startOfArc && b === 0x80) return undefined
    startOfArc = false
    if (big !== undefined) big = (big << 7n) | BigInt(b & 0x7f)
    else {
      small = small * 128 + (b & 0x7f)
      // Stay exact: one more octet could leave the safe-integer range.
      if (small > Number.MAX_SAFE_INTEGER / 256) big = BigInt(small)
    }
    if ((b & 0x80) !== 0) continue
    if (out === '') {
      // X.690 §8.19.4: the first subidentifier packs the first two arcs as X*40 + Y.
      if (big !== undefined) out = `2.${big - 80n}`
      else out = small < 40 ? `0.${small}` : small < 80 ? `1.${small - 40}` : `2.${small - 80}`
    } else out += `.${big ?? small}`
    small = 0
    big = undefined
    startOfArc = true
  }
  return startOfArc ? out : undefined
}

/** Lower-case hex of OID content octets: the JA4X form (`2.5.4.3` → `550403`). */
export function oidHex(content: Uint8Array): string {
  return toHex(content)
}

const oidCache = new Map<string, string>()

/**
 * Hex and dotted form of OID content octets. Certificates reuse a few dozen OIDs, so dotted forms
 * are cached by hex (cleared when MAX_OID_CACHE_ENTRIES is reached).
 */
export function readOid(content: Uint8Array): { hex: string; oid: string | undefined } {
  const hex = toHex(content)
  let oid = oidCache.get(hex)
  if (oid === undefined) {
    oid = decodeOid(content)
    if (oid !== undefined) {
      if (oidCache.size >= MAX_OID_CACHE_ENTRIES) oidCache.clear()
      oidCache.set(hex, oid)
    }
  }
  return { hex, oid }
}

/** A non-negative INTEGER that fits in 31 bits, or `undefined` (X.690 §8.3). */
export function decodeSmallInteger(content: Uint8Array): number | undefined {
  if (content.length === 0 || content.length > 4) return undefined
  const first = content[0] ?? 0
  if ((first & 0x80) !== 0) return undefined
  let v = 0
  for (const b of content) v = v * 256 + b
  return v > 0x7fffffff ? undefined : v
}

/** X.690 §8.2 / §11.1: DER TRUE is 0xff; any non-zero octet is BER TRUE. */
export function decodeBoolean(content: Uint8Array): boolean | undefined {
  if (content.length !== 1) return undefined
  return content[0] !== 0
}

/**
 * @module sources/trust
 * IP addresses and CIDR lists, pure: parse IPv4 / IPv6 text (RFC 4291 §2.2, dotted IPv4 tail
 * included), write it back canonically (RFC 5952; IPv4-mapped addresses as plain IPv4), and match
 * senders against `TLSIGHT_TRUSTED_CIDRS`. Every address is held as 16 bytes with IPv4 in the
 * IPv4-mapped range (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2), so a dual-stack socket's
 * `::ffff:127.0.0.1` peer matches the rule `127.0.0.0/8`.
 */

/** Default trusted senders: loopback only. */
export const DEFAULT_TRUSTED_CIDRS = '127.0.0.0/8,::1/128'
/** Entries of one CIDR list (a longer list is a configuration mistake, not a use case). */
export const MAX_TRUSTED_CIDRS = 1_024
/** Longest address text looked at (`ffff:…` with an IPv4 tail is 45 characters). */
const MAX_IP_TEXT_CHARS = 45
/** Peers whose trust decision is remembered (UDP senders repeat). */
const TRUST_CACHE_ENTRIES = 1_024

/** Where IPv4 lives inside the 16-byte form: the IPv4-mapped prefix `::ffff:0:0/96`. */
const V4_MAPPED_PREFIX_BITS = 96

export interface Cidr {
  /** Network address, 16 bytes, host bits cleared. */
  bytes: Uint8Array
  /** Prefix length over the 16-byte form (an IPv4 `/n` is stored as `/96+n`). */
  bits: number
}

const V4_PART = /^(?:0|[1-9][0-9]{0,2})$/
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/

function parseV4Into(text: string, out: Uint8Array, at: number): boolean {
  const parts = text.split('.')
  if (parts.length !== 4) return false
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? ''
    // Leading zeros are refused: `010` is octal to inet_aton and decimal to others.
    if (!V4_PART.test(p)) return false
    const v = Number(p)
    if (v > 255) return false
    out[at + i] = v
  }
  return true
}

function parseGroups(text: string, out: number[]): boolean {
  if (text === '') return true
  for (const g of text.split(':')) {
    if (!V6_GROUP.test(g)) return false
    out.push(parseInt(g, 16))
  }
  return true
}

/**
 * An IPv4 or IPv6 address as 16 bytes (IPv4 mapped into `::ffff:0:0/96`), or undefined. No zone
 * index, brackets or port: callers strip those.
 */
export function parseIp(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length > MAX_IP_TEXT_CHARS) return undefined
  const out = new Uint8Array(16)
  if (!text.includes(':')) {
    if (!parseV4Into(text, out, 12)) return undefined
    out[10] = 0xff
    out[11] = 0xff
    return out
  }
  // RFC 4291 §2.2 form 3: the last 32 bits may be written as dotted IPv4.
  let tail: Uint8Array | undefined
  let body = text
  const lastColon = text.lastIndexOf(':')
  if (text.indexOf('.', lastColon) !== -1) {
    tail = new Uint8Array(4)
    if (!parseV4Into(text.slice(lastColon + 1), tail, 0)) return undefined
    body = text.slice(0, lastColon + 1) + '0:0'
  }
  const halves = body.split('::')
  if (halves.length > 2) return undefined
  const head: number[] = []
  const rest: number[] = []
  if (!parseGroups(halves[0] ?? '', head)) return undefined
  if (halves.length === 2) {
    if (!parseGroups(halves[1] ?? '', rest)) return undefined
    // `::` stands for one or more zero groups (RFC 4291 §2.2 form 2).
    if (head.length + rest.length > 7) return undefined
  } else if (head.length !== 8) {
    return undefined
  }
  const groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest]
  for (let i = 0; i < 8; i++) {
    const g = groups[i] ?? 0
    out[i * 2] = g >> 8
    out[i * 2 + 1] = g & 0xff
  }
  if (tail !== undefined) out.set(tail, 12)
  return out
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false
  return b[10] === 0xff && b[11] === 0xff
}

/**
 * Canonical text of a 16-byte address: dotted IPv4 for the IPv4-mapped range, else RFC 5952 §4
 * (lower case, no leading zeros, the longest run of two or more zero groups, first on a tie,
 * as `::`).
 */
export function formatIp(b: Uint8Array): string {
  if (isV4Mapped(b)) return `${b[12] ?? 0}.${b[13] ?? 0}.${b[14] ?? 0}.${b[15] ?? 0}`
  const groups: number[] = []
  for (let i = 0; i < 8; i++) groups.push(((b[i * 2] ?? 0) << 8) | (b[i * 2 + 1] ?? 0))
  let bestAt = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      bestAt = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':')
  if (bestAt < 0) return hex(0, 8)
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`
}

/**
 * The canonical form of an address as logs write it, or undefined when it is not one. Accepts
 * `[v6]` brackets and a `%zone` suffix (dropped: a zone is local to the logging host).
 * @example canonicalIp('::FFFF:192.0.2.1') // '192.0.2.1'
 */
export function canonicalIp(text: string): string | undefined {
  // Most addresses in logs are plain dotted quads, already canonical: checked without parsing.
  if (isCanonicalIpv4(text)) return text
  let t = text
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1)
  const zone = t.indexOf('%')
  if (zone > 0 && t.includes(':')) t = t.slice(0, zone)
  const b = parseIp(t)
  return b === undefined ? undefined : formatIp(b)
}

/** `a.b.c.d` with each part 0–255 written without leading zeros. */
function isCanonicalIpv4(s: string): boolean {
  if (s.length < 7 || s.length > 15) return false
  let parts = 0
  let value = 0
  let digits = 0
  for (let i = 0; i <= s.length; i++) {
    const c = i === s.length ? 0x2e : s.charCodeAt(i)
    if (c === 0x2e) {
      if (digits === 0 || value > 255) return false
      parts++
      value = 0
      digits = 0
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return false
      value = value * 10 + (c - 0x30)
      digits++
      if (digits > 3) return false
    } else return false
  }
  return parts === 4
}

export type CidrListResult = { ok: true; cidrs: Cidr[] } | { ok: false; error: string }

/**
 * A comma- or space-separated CIDR list (`10.0.0.0/8, 2001:db8::/32, 192.0.2.7`); a bare
 * address is a host route. Host bits set below the prefix are cleared.
 */
export function parseCidrList(text: string): CidrListResult {
  const cidrs: Cidr[] = []
  const items = text.split(/[\s,]+/).filter((s) => s !== '')
  if (items.length > MAX_TRUSTED_CIDRS)
    return { ok: false, error: `more than ${MAX_TRUSTED_CIDRS} entries` }
  for (const item of items) {
    const slash = item.indexOf('/')
    const addr = slash < 0 ? item : item.slice(0, slash)
    const bytes = parseIp(addr)
    if (bytes === undefined) return { ok: false, error: `not an IP address: ${item}` }
    const v4 = !addr.includes(':')
    const max = v4 ? 32 : 128
    let bits = max
    if (slash >= 0) {
      const p = item.slice(slash + 1)
      if (!/^(?:0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > max)
        return { ok: false, error: `bad prefix length in ${item} (0..${max})` }
      bits = Number(p)
    }
    if (v4) bits += V4_MAPPED_PREFIX_BITS
    cidrs.push({ bytes: mask(bytes, bits), bits })
  }
  return { ok: true, cidrs }
}

function mask(b: Uint8Array, bits: number): Uint8Array {
  const out = b.slice()
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8))
    out[i] = (out[i] ?? 0) & ((0xff << (8 - keep)) & 0xff)
  }
  return out
}

/** True if `addr` (16 bytes) lies inside `cidr`. */
export function cidrContains(cidr: Cidr, addr: Uint8Array): boolean {
  let bits = cidr.bits
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if (((addr[i] ?? 0) & m) !== (cidr.bytes[i] ?? 0)) return false
  }
  return true
}

/**
 * The senders allowed to hand us logs. Web-server logs carry client addresses and headers we
 * take as facts, so only hosts we trust may send them.
 */
export class TrustList {
  private readonly cache = new Map<string, boolean>()

  constructor(readonly cidrs: readonly Cidr[]) {}

  /** True if the socket peer `addr` (any text form, `::ffff:` mapped included) is trusted. */
  has(addr: string): boolean {
    const hit = this.cache.get(addr)
    if (hit !== undefined) return hit
    const bytes = parseIp(addr.startsWith('[') ? addr.slice(1, -1) : (addr.split('%')[0] ?? ''))
    const ok = bytes !== undefined && this.cidrs.some((c) => cidrContains(c, bytes))
    if (this.cache.size >= TRUST_CACHE_ENTRIES) this.cache.clear()
    this.cache.set(addr, ok)
    return ok
  }
}

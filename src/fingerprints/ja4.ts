/**
 * @module fingerprints/ja4
 * JA4 TLS client fingerprint (FoxIO, BSD-3-Clause) and its `_r`, `_o`, `_ro` variants, following
 * FINGERPRINTS.md §0 and §2: `a_b_c` with a = transport, version, SNI flag, cipher and extension
 * counts and ALPN; b = hash of the sorted ciphers; c = hash of the sorted extensions (without SNI
 * and ALPN) then the signature algorithms in wire order.
 */

import { hex4 } from '../bytes/hex.ts'
import { isGrease } from '../protocols/tls/registry.ts'
import type { ClientHello } from '../protocols/tls/types.ts'
import { AsciiBuilder } from './ascii.ts'
import { EMPTY_HASH12, hash12 } from './hash.ts'
import { ListCache, type CachedFingerprint } from './list-cache.ts'

/** `t` TLS over TCP, `q` QUIC, `d` DTLS: decided by the transport that carried the hello. */
export type Ja4Transport = 't' | 'q' | 'd'

export interface Ja4Result {
  ja4: string
  ja4_r: string
  ja4_o: string
  ja4_ro: string
}

const EXT_SNI = 0x0000
const UNDERSCORE = 0x5f
const scratch = new AsciiBuilder()
const EXT_ALPN = 0x0010

/** JA4 version code (FINGERPRINTS.md §2 a.2); anything unlisted, drafts included, is `00`. */
export function ja4VersionCode(v: number): string {
  switch (v) {
    case 0x0304:
      return '13'
    case 0x0303:
      return '12'
    case 0x0302:
      return '11'
    case 0x0301:
      return '10'
    case 0x0300:
      return 's3'
    case 0x0002:
      return 's2'
    case 0xfeff:
      return 'd1'
    case 0xfefd:
      return 'd2'
    case 0xfefc:
      return 'd3'
    default:
      return '00'
  }
}

/**
 * The version JA4 reports: the numerically highest non-GREASE supported_versions entry, else
 * `legacy_version` (also when the list holds only GREASE).
 * NOTE: "highest" is numeric, as in the references, even for DTLS, whose codes decrease with
 * newer versions: a DTLS 1.3 client that also offers 1.2 reads `d2`.
 */
export function ja4Version(supportedVersions: readonly number[], legacyVersion: number): number {
  let best = -1
  for (const v of supportedVersions) if (!isGrease(v) && v > best) best = v
  return best >= 0 ? best : legacyVersion
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
}

const HEX_DIGITS = '0123456789abcdef'

/**
 * ALPN characters of JA4 / JA4S from the raw first protocol name (FINGERPRINTS.md §2 a.6):
 * `00` when absent or empty; first and last byte when both are ASCII alphanumeric (a 1-byte name
 * uses its byte twice); otherwise the first and last hex digit of the whole name.
 */
export function ja4Alpn(name: Uint8Array | undefined): string {
  if (name === undefined || name.length === 0) return '00'
  const first = name[0] ?? 0
  const last = name[name.length - 1] ?? 0
  if (isAlnum(first) && isAlnum(last)) return String.fromCharCode(first, last)
  return (HEX_DIGITS[first >> 4] ?? '0') + (HEX_DIGITS[last & 15] ?? '0')
}

/** Two-digit count capped at 99 (FINGERPRINTS.md §0). */
export function count2(n: number): string {
  if (n > 99) return '99'
  return n < 10 ? '0' + String(n) : String(n)
}

/** Comma-joined 4-hex values of the first `n` entries (all by default). */
export function hexList(values: ArrayLike<number>, n = values.length): string {
  let s = ''
  for (let i = 0; i < n; i++) {
    const h = hex4(values[i] ?? 0)
    s = i === 0 ? h : s + ',' + h
  }
  return s
}

/** Reusable scratch lists (JS is single-threaded and ja4 is not re-entrant). */
class ScratchLists {
  private readonly arrays: Uint16Array[] = [
    new Uint16Array(64),
    new Uint16Array(64),
    new Uint16Array(128),
    new Uint16Array(128),
  ]

  get(i: number, n: number): Uint16Array {
    let a = this.arrays[i] ?? new Uint16Array(0)
    if (a.length < n) {
      a = new Uint16Array(Math.max(n, a.length * 2))
      this.arrays[i] = a
    }
    return a
  }
}
const lists = new ScratchLists()

/** A list's part of JA4 (sorted) and of JA4_o (wire order). */
interface Parts {
  sorted: CachedFingerprint
  wire: CachedFingerprint
}

// Keyed by wire order, so a repeated hello needs no sorting; lists that differ only in order
// (Chrome permutes its extensions) still share the sorted part through the second cache.
// Separate caches per list: lists that never repeat do not push out the stable ones.
const cipherLists = new ListCache<Parts>()
const sortedCipherLists = new ListCache()
const extLists = new ListCache<Parts>()
const sortedExtLists = new ListCache()

/**
 * Copies `n` values of `src` from `from` into `dst` from `to` (without SNI/ALPN if asked) and
 * sorts them: insertion sort for the usual short lists, the built-in sort for long ones.
 * Returns the count.
 */
function sortInto(
  dst: Uint16Array,
  to: number,
  src: Uint16Array,
  from: number,
  n: number,
  skipSniAlpn: boolean,
): number {
  let k = to
  for (let i = from; i < from + n; i++) {
    const v = src[i] ?? 0
    if (skipSniAlpn && (v === EXT_SNI || v === EXT_ALPN)) continue
    dst[k++] = v
  }
  if (k - to > 64) {
    dst.subarray(to, k).sort()
    return k - to
  }
  for (let i = to + 1; i < k; i++) {
    const v = dst[i] ?? 0
    let j = i - 1
    while (j >= to && (dst[j] ?? 0) > v) {
      dst[j + 1] = dst[j] ?? 0
      j--
    }
    dst[j + 1] = v
  }
  return k - to
}

/** The hex list of `list[0..n)` and its hash12 (zeros when empty). */
function cipherText(list: Uint16Array, n: number): CachedFingerprint {
  const text = scratch.reset().hexList(list, n).toString()
  return { text, digest: n > 0 ? hash12(text) : EMPTY_HASH12 }
}

/**
 * For a key `[n, ext × n, sig × rest]`: the extensions' hex list, then `_` and the signature
 * algorithms' when there are any; hashed when `hashed` (zeros otherwise).
 */
function extText(key: Uint16Array, len: number, hashed: boolean): CachedFingerprint {
  const n = key[0] ?? 0
  const b = scratch.reset().hexRange(key, 1, 1 + n)
  if (len > 1 + n) b.char(UNDERSCORE).hexRange(key, 1 + n, len)
  const text = b.toString()
  return { text, digest: hashed ? hash12(text) : EMPTY_HASH12 }
}

function cipherParts(wire: Uint16Array, n: number): Parts {
  const hit = cipherLists.get(wire, n)
  if (hit !== undefined) return hit
  // Fixed-width lower-case hex sorts like the numbers, so sort the numbers.
  const sorted = lists.get(1, n)
  sortInto(sorted, 0, wire, 0, n, false)
  const s =
    sortedCipherLists.get(sorted, n) ?? sortedCipherLists.set(sorted, n, cipherText(sorted, n))
  return cipherLists.set(wire, n, { sorted: s, wire: cipherText(wire, n) })
}

/** `wireKey[0..len)` is `[n, extensions in wire order × n, signature algorithms...]`. */
function extParts(wireKey: Uint16Array, len: number): Parts {
  const hit = extLists.get(wireKey, len)
  if (hit !== undefined) return hit
  const n = wireKey[0] ?? 0
  const ns = len - 1 - n
  const sortedKey = lists.get(3, len)
  const nh = sortInto(sortedKey, 1, wireKey, 1, n, true)
  sortedKey[0] = nh
  for (let i = 0; i < ns; i++) sortedKey[1 + nh + i] = wireKey[1 + n + i] ?? 0
  const sortedLen = 1 + nh + ns
  const s =
    sortedExtLists.get(sortedKey, sortedLen) ??
    sortedExtLists.set(sortedKey, sortedLen, extText(sortedKey, sortedLen, nh > 0))
  // NOTE: as in the references, `_o` is also zeros when only SNI/ALPN were sent (`_ro` still
  // lists them): emptiness is judged on the hashed list of `ja4`, not on the wire list.
  return extLists.set(wireKey, len, { sorted: s, wire: extText(wireKey, len, nh > 0) })
}

/**
 * JA4 and its variants for one ClientHello.
 * @example ja4(hello, 't').ja4 // 't13d1516h2_8daaf6152771_e5627efa2ab1'
 */
export function ja4(ch: ClientHello, transport: Ja4Transport): Ja4Result {
  const suites = ch.cipherSuites
  const extList = ch.extensions
  const sigList = ch.signatureAlgorithms
  const ciphers = lists.get(0, suites.length)
  // Extension key: [count, extensions..., signature algorithms...] (see extText).
  const extKey = lists.get(2, 1 + extList.length + sigList.length)
  let nc = 0
  for (const c of suites) if (!isGrease(c)) ciphers[nc++] = c
  let ne = 0
  let hasSni = false
  for (const e of extList) {
    const t = e.type
    if (isGrease(t)) continue
    extKey[1 + ne++] = t
    if (t === EXT_SNI) hasSni = true
  }
  extKey[0] = ne
  let ns = 0
  for (const v of sigList) if (!isGrease(v)) extKey[1 + ne + ns++] = v

  const a =
    transport +
    ja4VersionCode(ja4Version(ch.supportedVersions, ch.legacyVersion)) +
    (hasSni ? 'd' : 'i') +
    count2(nc) +
    count2(ne) +
    ja4Alpn(ch.alpn[0])
  const c = cipherParts(ciphers, nc)
  const e = extParts(extKey, 1 + ne + ns)
  return {
    ja4: a + '_' + c.sorted.digest + '_' + e.sorted.digest,
    ja4_r: a + '_' + c.sorted.text + '_' + e.sorted.text,
    ja4_o: a + '_' + c.wire.digest + '_' + e.wire.digest,
    ja4_ro: a + '_' + c.wire.text + '_' + e.wire.text,
  }
}

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
/** Up to this size the four lists are decoded as one string and sliced (one decoder call). */
const MAX_SHARED_DECODE_CHARS = 2_048
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
    new Uint16Array(64),
    new Uint16Array(64),
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

/**
 * Copies the first `n` values of `src` into `dst` (without SNI/ALPN if asked) and sorts them:
 * insertion sort for the usual short lists, the built-in sort for long ones. Returns the count.
 */
function sortInto(dst: Uint16Array, src: Uint16Array, n: number, skipSniAlpn: boolean): number {
  let k = 0
  for (let i = 0; i < n; i++) {
    const v = src[i] ?? 0
    if (skipSniAlpn && (v === EXT_SNI || v === EXT_ALPN)) continue
    dst[k++] = v
  }
  if (k > 64) {
    dst.subarray(0, k).sort()
    return k
  }
  for (let i = 1; i < k; i++) {
    const v = dst[i] ?? 0
    let j = i - 1
    while (j >= 0 && (dst[j] ?? 0) > v) {
      dst[j + 1] = dst[j] ?? 0
      j--
    }
    dst[j + 1] = v
  }
  return k
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
  const sorted = lists.get(1, Math.max(suites.length, extList.length))
  const exts = lists.get(2, extList.length)
  const sigs = lists.get(3, sigList.length)
  let nc = 0
  for (const c of suites) if (!isGrease(c)) ciphers[nc++] = c
  let ne = 0
  let hasSni = false
  for (const e of extList) {
    const t = e.type
    if (isGrease(t)) continue
    exts[ne++] = t
    if (t === EXT_SNI) hasSni = true
  }
  let ns = 0
  for (const v of sigList) if (!isGrease(v)) sigs[ns++] = v

  const a =
    transport +
    ja4VersionCode(ja4Version(ch.supportedVersions, ch.legacyVersion)) +
    (hasSni ? 'd' : 'i') +
    count2(nc) +
    count2(ne) +
    ja4Alpn(ch.alpn[0])

  // All four lists go into one buffer and come out as one flat string, then slices of it.
  const sb = scratch.reset()
  sb.hexList(ciphers, nc)
  const e1 = sb.length
  // Fixed-width lower-case hex sorts like the numbers, so sort the numbers.
  sb.hexList(sorted, sortInto(sorted, ciphers, nc, false))
  const e2 = sb.length
  sb.hexList(exts, ne)
  if (ns > 0) sb.char(UNDERSCORE).hexList(sigs, ns)
  const e3 = sb.length
  const nh = sortInto(sorted, exts, ne, true)
  sb.hexList(sorted, nh)
  if (ns > 0) sb.char(UNDERSCORE).hexList(sigs, ns)
  let cipherWire: string, cipherSorted: string, extWire: string, extSorted: string
  if (sb.length <= MAX_SHARED_DECODE_CHARS) {
    const all = sb.toString()
    cipherWire = all.slice(0, e1)
    cipherSorted = all.slice(e1, e2)
    extWire = all.slice(e2, e3)
    extSorted = all.slice(e3)
  } else {
    // NOTE: a slice keeps its parent string alive (memo keys included), so huge lists are
    // decoded one by one.
    cipherWire = sb.toString(0, e1)
    cipherSorted = sb.toString(e1, e2)
    extWire = sb.toString(e2, e3)
    extSorted = sb.toString(e3)
  }

  const b = nc > 0 ? hash12(cipherSorted) : EMPTY_HASH12
  const c = nh > 0 ? hash12(extSorted) : EMPTY_HASH12
  const bo = nc > 0 ? hash12(cipherWire) : EMPTY_HASH12
  // NOTE: as in the references, `_o` is also zeros when only SNI/ALPN were sent (`_ro` still
  // lists them): emptiness is judged on the hashed list of `ja4`, not on the wire list.
  const co = nh > 0 ? hash12(extWire) : EMPTY_HASH12
  return {
    ja4: a + '_' + b + '_' + c,
    ja4_r: a + '_' + cipherSorted + '_' + extSorted,
    ja4_o: a + '_' + bo + '_' + co,
    ja4_ro: a + '_' + cipherWire + '_' + extWire,
  }
}

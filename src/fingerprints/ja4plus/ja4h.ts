/**
 * @module fingerprints/ja4plus/ja4h
 * JA4H HTTP client fingerprint (FoxIO License 1.1, see ./LICENSE), FINGERPRINTS.md §4:
 * `a_b_c_d` with a = method, version, cookie and referer flags, header count and primary
 * Accept-Language; b = hash of the header names in wire order; c = hash of the sorted cookie
 * names; d = hash of the cookie `name=value` pairs sorted by name.
 *
 * Choices where the references differ (canonical expectations in ../shared/testdata):
 * - Method: the first two ASCII letters of the method, lower-cased, skipping other characters and
 *   padded with `0` (`GET`→`ge`, `M-SEARCH`→`ms` as the expected files have it, `X`→`x0`).
 * - Version: `HttpRequest.version` as two digits (`10`, `11`, `20`, `30`; `00` when unknown).
 * - Cookie and Referer are found by exact, case-insensitive name (not by substring: `Referrer`
 *   is an ordinary header). Both are left out of the count and of b; so are HTTP/2 and HTTP/3
 *   pseudo-headers (`:method`, …), which `HttpRequest` should already exclude.
 * - Counts are capped at 99; the hashed lists keep every name.
 * - Accept-Language (first such field): drop `-`, cut at the first `,` or `;`, lower-case ASCII,
 *   first 4 characters, right-pad with `0`; absent → `0000` (`en-US,en;q=0.9`→`enus`).
 *   HACK: characters that would break the `_`-separated format (`_`, space, control, non-ASCII)
 *   become `0`, so the `a` section stays 12 printable characters.
 * - b is hashed even when the list is empty (`e3b0c44298fc`, as the references print it); c and d
 *   are `000000000000` when there is no cookie.
 * - Cookies: every Cookie field in order (HTTP/2 sends one per cookie), split on `;`, trimmed,
 *   empty pieces dropped; name = text before the first `=` (the whole piece if there is none).
 *   Sorting is by name only and stable, so duplicate names keep their wire order.
 * - `_r`/`_ro` always have four sections (`…_User-Agent__` without cookies), no trailing `,`.
 * - Field text is Latin-1 as parsed; text that is valid UTF-8 is hashed and printed as that UTF-8
 *   text, so the hash covers the wire bytes as the references (which see decoded text) do.
 */

import type { HttpRequest } from '../../protocols/http/types.ts'
import { EMPTY_HASH12, hash12 } from '../hash.ts'

export interface Ja4hResult {
  ja4h: string
  ja4h_r: string
  ja4h_ro: string
}

interface Cookie {
  name: string
  pair: string
}

/**
 * JA4H of one HTTP request head.
 * @example ja4h(req).ja4h // 'ge11cr04da00_8ddaef5d77af_280f366eaa04_c2fb0fe53442'
 */
export function ja4h(req: HttpRequest): Ja4hResult {
  const names: string[] = []
  const cookies: Cookie[] = []
  let hasCookie = false
  let hasReferer = false
  let language: string | undefined
  for (const h of req.headers) {
    if (h.name.startsWith(':')) continue
    const lower = lowerAscii(h.name)
    if (lower === 'cookie') {
      hasCookie = true
      splitCookies(h.value, cookies)
      continue
    }
    if (lower === 'referer') {
      hasReferer = true
      continue
    }
    if (lower === 'accept-language' && language === undefined) language = h.value
    names.push(h.name)
  }

  const a =
    methodCode(req.method) +
    versionCode(req.version) +
    (hasCookie ? 'c' : 'n') +
    (hasReferer ? 'r' : 'n') +
    String(Math.min(names.length, 99)).padStart(2, '0') +
    languageCode(language)

  const headerList = wireText(names.join(','))
  const sorted = cookies.slice().sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
  const sortedNames = wireText(sorted.map((c) => c.name).join(','))
  const sortedPairs = wireText(sorted.map((c) => c.pair).join(','))
  const wireNames = wireText(cookies.map((c) => c.name).join(','))
  const wirePairs = wireText(cookies.map((c) => c.pair).join(','))
  const none = cookies.length === 0
  const c = none ? EMPTY_HASH12 : hash12(sortedNames)
  const d = none ? EMPTY_HASH12 : hash12(sortedPairs)

  return {
    // NOTE: b is hashed even for an empty list (FINGERPRINTS.md §0 exception, CROSSCHECK #16).
    ja4h: `${a}_${hash12(headerList)}_${c}_${d}`,
    ja4h_r: `${a}_${headerList}_${sortedNames}_${sortedPairs}`,
    ja4h_ro: `${a}_${headerList}_${wireNames}_${wirePairs}`,
  }
}

function splitCookies(value: string, out: Cookie[]): void {
  // RFC 6265 §4.2.1: cookie-string = cookie-pair *( ";" SP cookie-pair )
  for (const piece of value.split(';')) {
    const pair = piece.trim()
    if (pair === '') continue
    const eq = pair.indexOf('=')
    out.push({ name: eq === -1 ? pair : pair.slice(0, eq).trim(), pair })
  }
}

function methodCode(method: string): string {
  let out = ''
  for (let i = 0; i < method.length && out.length < 2; i++) {
    const c = method.charCodeAt(i) | 0x20
    if (c >= 0x61 && c <= 0x7a) out += String.fromCharCode(c)
  }
  return out.padEnd(2, '0')
}

function versionCode(version: number): string {
  return Number.isInteger(version) && version >= 0 && version <= 99
    ? String(version).padStart(2, '0')
    : '00'
}

function languageCode(value: string | undefined): string {
  if (value === undefined) return '0000'
  const primary = lowerAscii(value.replaceAll('-', '')).split(/[,;]/, 1)[0] ?? ''
  let out = ''
  for (const ch of primary.slice(0, 4)) {
    const c = ch.charCodeAt(0)
    out += c <= 0x20 || c >= 0x7f || ch === '_' ? '0' : ch
  }
  return out.padEnd(4, '0')
}

function lowerAscii(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase())
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Latin-1 text whose bytes are valid UTF-8, as that UTF-8 text; other text unchanged. */
function wireText(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(s)) return s
  const bytes = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0xff) return s
    bytes[i] = c
  }
  try {
    return utf8.decode(bytes)
  } catch {
    return s
  }
}

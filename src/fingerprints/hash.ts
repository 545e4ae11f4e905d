/**
 * @module fingerprints/hash
 * The two digests fingerprints use. Kept in this one file so a browser build can swap
 * `node:crypto` for another implementation without touching the algorithms. Repeated lists are
 * cached before they get here (see list-cache.ts).
 */

import * as crypto from 'node:crypto'

// One-shot `crypto.hash` (Node >= 20.12) is about twice as fast as createHash for short input.
const oneShot: ((algorithm: string, data: string) => string) | undefined =
  typeof crypto.hash === 'function' ? (a, d) => crypto.hash(a, d, 'hex') : undefined

function digestHex(algorithm: 'md5' | 'sha256', s: string): string {
  if (oneShot !== undefined) return oneShot(algorithm, s)
  return crypto.createHash(algorithm).update(s).digest('hex')
}

/** Lower-case hex MD5 of the UTF-8 string (JA3, JA3S). */
export function md5Hex(s: string): string {
  return digestHex('md5', s)
}

/** First 12 lower-case hex digits of SHA-256 of the UTF-8 string (JA4+ `hash12`). */
export function hash12(s: string): string {
  return digestHex('sha256', s).slice(0, 12)
}

/** What JA4+ prints instead of a hash when the list it would hash is empty (FINGERPRINTS.md §0). */
export const EMPTY_HASH12 = '000000000000'

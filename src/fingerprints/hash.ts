/**
 * @module fingerprints/hash
 * The two digests fingerprints use. Kept in this one file so a browser build can swap
 * `node:crypto` for another implementation without touching the algorithms.
 */

import * as crypto from 'node:crypto'

// One-shot `crypto.hash` (Node >= 20.12) is about twice as fast as createHash for short input.
const oneShot: ((algorithm: string, data: string) => string) | undefined =
  typeof crypto.hash === 'function' ? (a, d) => crypto.hash(a, d, 'hex') : undefined

function digestHex(algorithm: 'md5' | 'sha256', s: string): string {
  if (oneShot !== undefined) return oneShot(algorithm, s)
  return crypto.createHash(algorithm).update(s).digest('hex')
}

/** Entries per memo table; a full table is cleared, which bounds memory without LRU upkeep. */
const MEMO_ENTRIES = 2_048
/** Longer inputs are not memoized: with ja4's shared decode (<= 2 KiB) a table stays < 5 MiB. */
const MEMO_MAX_INPUT_CHARS = 512

// NOTE: a native digest call costs ~0.8 µs whatever the input size, while real traffic repeats
// the same few thousand lists; a Map hit is several times cheaper. Pure function, bounded.
const md5Memo = new Map<string, string>()
const sha12Memo = new Map<string, string>()

function memo(table: Map<string, string>, s: string, compute: (s: string) => string): string {
  if (s.length > MEMO_MAX_INPUT_CHARS) return compute(s)
  let v = table.get(s)
  if (v === undefined) {
    v = compute(s)
    if (table.size >= MEMO_ENTRIES) table.clear()
    table.set(s, v)
  }
  return v
}

const md5Raw = (s: string): string => digestHex('md5', s)
const sha12Raw = (s: string): string => digestHex('sha256', s).slice(0, 12)

/** Lower-case hex MD5 of the UTF-8 string (JA3, JA3S). */
export function md5Hex(s: string): string {
  return memo(md5Memo, s, md5Raw)
}

/** First 12 lower-case hex digits of SHA-256 of the UTF-8 string (JA4+ `hash12`). */
export function hash12(s: string): string {
  return memo(sha12Memo, s, sha12Raw)
}

/** What JA4+ prints instead of a hash when the list it would hash is empty (FINGERPRINTS.md §0). */
export const EMPTY_HASH12 = '000000000000'

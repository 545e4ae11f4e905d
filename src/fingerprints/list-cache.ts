/**
 * @module fingerprints/list-cache
 * Fingerprint parts (text and digest) per list of 16-bit values. Real traffic repeats the same
 * few thousand lists, and a digest costs more than building its text; looking the list up by its
 * numbers skips both the text and the digest, with no string hashing. Pure function, bounded.
 */

/** Longer lists are not cached (they are rare, and this bounds an entry). */
const MAX_KEY_VALUES = 256

interface Entry<V> {
  key: Uint16Array
  len: number
  value: V
}

/** A fingerprint part: the list as printed and its digest. */
export interface CachedFingerprint {
  readonly text: string
  readonly digest: string
}

/**
 * Direct-mapped: a new list replaces whatever shared its slot, so memory stays bounded
 * (`slots` entries of at most MAX_KEY_VALUES values and their strings) without LRU upkeep, and
 * lists that never repeat cost one probe each.
 */
export class ListCache<V = CachedFingerprint> {
  private readonly entries: (Entry<V> | undefined)[]
  private readonly mask: number

  /** @param slots a power of two */
  constructor(slots = 1024) {
    this.entries = Array.from({ length: slots }, () => undefined)
    this.mask = slots - 1
  }

  /** The value stored for `key[0..n)`, if any. */
  get(key: Uint16Array, n: number): V | undefined {
    if (n > MAX_KEY_VALUES) return undefined
    const e = this.entries[slotHash(key, n) & this.mask]
    if (e === undefined || e.len !== n) return undefined
    const k = e.key
    for (let i = 0; i < n; i++) if (k[i] !== key[i]) return undefined
    return e.value
  }

  /** Stores `value` for `key[0..n)`; returns it. */
  set(key: Uint16Array, n: number, value: V): V {
    if (n > MAX_KEY_VALUES) return value
    const slot = slotHash(key, n) & this.mask
    let e = this.entries[slot]
    if (e === undefined || e.key.length < n) {
      // Slots keep their key buffer: a steady state allocates only the values.
      e = { key: new Uint16Array(Math.max(64, n)), len: 0, value }
      this.entries[slot] = e
    }
    const k = e.key
    for (let i = 0; i < n; i++) k[i] = key[i] ?? 0
    e.len = n
    e.value = value
    return value
  }
}

function slotHash(key: Uint16Array, n: number): number {
  let h = Math.imul(n, 0x9e3779b1)
  for (let i = 0; i < n; i++) h = Math.imul(h ^ (key[i] ?? 0), 0x01000193)
  return (h ^ (h >>> 15)) >>> 0
}

/**
 * A growable scratch list of 16-bit values (fingerprint code is not re-entrant, and JS is
 * single-threaded per isolate, so each call site keeps one).
 */
export class KeyBuilder {
  values = new Uint16Array(128)
  length = 0

  reset(): this {
    this.length = 0
    return this
  }

  push(v: number): void {
    if (this.length === this.values.length) {
      const grown = new Uint16Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.length++] = v
  }
}

/** Structure-unaware mutations of byte strings, biased toward length fields and boundaries. */
import type { Rng } from './rng.ts'

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x16, 0x03, 0x0a, 0x2b]

export function mutate(input: Uint8Array, rng: Rng, rounds = 1 + rng.int(4)): Uint8Array {
  let b = input.slice()
  for (let r = 0; r < rounds; r++) {
    const at = b.length === 0 ? 0 : rng.int(b.length)
    switch (rng.int(9)) {
      case 0: // flip a bit
        if (b.length > 0) b[at] = (b[at] ?? 0) ^ (1 << rng.int(8))
        break
      case 1: // interesting byte
        if (b.length > 0) b[at] = rng.pick(INTERESTING)
        break
      case 2: {
        // 16-bit length-like value: small, big, off by one
        if (b.length < 2) break
        const old = ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0)
        const v = rng.pick([0, 1, 0xffff, 0x8000, old + 1, old - 1, old * 2, b.length - at])
        b[at] = (v >> 8) & 0xff
        if (at + 1 < b.length) b[at + 1] = v & 0xff
        break
      }
      case 3: // truncate
        b = b.subarray(0, at)
        break
      case 4: {
        // delete a range
        const n = Math.min(1 + rng.int(16), b.length - at)
        const out = new Uint8Array(b.length - n)
        out.set(b.subarray(0, at))
        out.set(b.subarray(Math.min(b.length, at + n)), at)
        b = out
        break
      }
      case 5: {
        // insert random bytes
        const n = 1 + rng.int(16)
        const out = new Uint8Array(b.length + n)
        out.set(b.subarray(0, at))
        for (let i = 0; i < n; i++) out[at + i] = rng.int(256)
        out.set(b.subarray(at), at + n)
        b = out
        break
      }
      case 6: {
        // duplicate a range (repeated extensions, records, blocks)
        const n = 1 + rng.int(64)
        const part = b.slice(at, at + n)
        const out = new Uint8Array(b.length + part.length)
        out.set(b.subarray(0, at + part.length))
        out.set(part, at + part.length)
        out.set(b.subarray(at + part.length), at + 2 * part.length)
        b = out
        break
      }
      case 7: // random byte
        if (b.length > 0) b[at] = rng.int(256)
        break
      default: {
        // 24-bit length-like value
        if (b.length < 3) break
        const v = rng.pick([0, 0xffffff, 0x10000, b.length - at - 3, b.length])
        b[at] = (v >> 16) & 0xff
        if (at + 1 < b.length) b[at + 1] = (v >> 8) & 0xff
        if (at + 2 < b.length) b[at + 2] = v & 0xff
      }
    }
  }
  return b
}

/** Splits bytes into random chunks (stream parsers must not care where chunks end). */
export function chunks(b: Uint8Array, rng: Rng): Uint8Array[] {
  const out: Uint8Array[] = []
  let i = 0
  while (i < b.length) {
    const n = rng.int(4) === 0 ? 1 + rng.int(4) : 1 + rng.int(Math.max(1, b.length))
    out.push(b.subarray(i, i + n))
    i += n
  }
  return out
}

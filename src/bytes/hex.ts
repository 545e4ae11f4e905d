/** @module bytes/hex — hex helpers shared by parsers, fingerprints and tests. */

const HEX = '0123456789abcdef'
const HEX4: string[] = []
for (let i = 0; i < 0x10000; i++) {
  HEX4.push(
    (HEX[(i >> 12) & 15] ?? '') +
      (HEX[(i >> 8) & 15] ?? '') +
      (HEX[(i >> 4) & 15] ?? '') +
      (HEX[i & 15] ?? ''),
  )
}

/** Lower-case 4-digit hex of a 16-bit value (`0x2f` → `002f`), from a precomputed table. */
export function hex4(v: number): string {
  return HEX4[v & 0xffff] ?? ''
}

export function toHex(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += (HEX[b >> 4] ?? '') + (HEX[b & 15] ?? '')
  return s
}

/** Parses hex, ignoring whitespace and `:` separators. Throws on odd length (test/CLI input). */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:]/g, '')
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`invalid hex string`)
  const out = new Uint8Array(clean.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16)
  return out
}

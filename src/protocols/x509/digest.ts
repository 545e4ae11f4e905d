/**
 * @module protocols/x509/digest
 * The certificate digest, kept in this one file so a browser build can swap `node:crypto` for
 * WebCrypto without touching the parser (see also fingerprints/hash.ts).
 */

import * as crypto from 'node:crypto'

// One-shot `crypto.hash` (Node >= 20.12) avoids the Hash object of createHash.
const oneShot: ((data: Uint8Array) => string) | undefined =
  typeof crypto.hash === 'function' ? (d) => crypto.hash('sha256', d, 'hex') : undefined

/** Lower-case hex SHA-256 of the bytes (what `openssl x509 -fingerprint -sha256` prints). */
export function sha256Hex(bytes: Uint8Array): string {
  if (oneShot !== undefined) return oneShot(bytes)
  return crypto.createHash('sha256').update(bytes).digest('hex')
}

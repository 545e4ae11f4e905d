/**
 * @module protocols/quic/crypto
 * The cryptography of QUIC Initial packets (RFC 9001 §5): HKDF (RFC 5869) with TLS 1.3's
 * HKDF-Expand-Label, AES-128-GCM and the AES-128-ECB header-protection mask. Every use of
 * `node:crypto` in the QUIC decoder lives in this file, so a browser build can swap it.
 */

import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto'

/** AEAD_AES_128_GCM tag length (RFC 5116 §5.1). */
export const AEAD_TAG_BYTES = 16
/** Header-protection sample length for AES-based packet protection (RFC 9001 §5.4.2). */
export const HP_SAMPLE_BYTES = 16

const SHA256_BYTES = 32

/** Owned copy as a plain Uint8Array (Node returns pooled Buffers). */
function own(b: Uint8Array): Uint8Array {
  return new Uint8Array(b)
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** RFC 5869 §2.2: PRK = HMAC-SHA256(salt, IKM). */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return own(createHmac('sha256', salt).update(ikm).digest())
}

/** RFC 5869 §2.3: T(i) = HMAC-SHA256(PRK, T(i-1) | info | i), truncated to `length`. */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (length > 255 * SHA256_BYTES) throw new RangeError(`hkdf length ${length}`)
  const out = new Uint8Array(length)
  let prev: Uint8Array = new Uint8Array(0)
  for (let i = 1, at = 0; at < length; i++) {
    prev = own(
      createHmac('sha256', prk).update(prev).update(info).update(Uint8Array.of(i)).digest(),
    )
    out.set(prev.subarray(0, Math.min(prev.length, length - at)), at)
    at += prev.length
  }
  return out
}

/**
 * RFC 8446 §7.1: HKDF-Expand-Label(Secret, Label, Context, Length) with
 * `struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255> }`.
 */
export function hkdfExpandLabel(
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const full = new TextEncoder().encode(`tls13 ${label}`)
  const info = concat([
    Uint8Array.of(length >> 8, length & 0xff, full.length),
    full,
    Uint8Array.of(context.length),
    context,
  ])
  return hkdfExpand(secret, info, length)
}

/** The packet protection keys of one direction. */
export interface QuicPacketKeys {
  /** AEAD key (16 bytes for AES-128-GCM). */
  key: Uint8Array
  /** AEAD IV (12 bytes). */
  iv: Uint8Array
  /** Header protection key (16 bytes). */
  hp: Uint8Array
}

/** Initial keys of both directions of one connection attempt. */
export interface QuicInitialKeys {
  client: QuicPacketKeys
  server: QuicPacketKeys
}

/** Salt and labels of one QUIC version (see `quicVersionParams`). */
export interface InitialKeyParams {
  salt: Uint8Array
  keyLabel: string
  ivLabel: string
  hpLabel: string
}

function packetKeys(secret: Uint8Array, p: InitialKeyParams): QuicPacketKeys {
  const none = new Uint8Array(0)
  return {
    key: hkdfExpandLabel(secret, p.keyLabel, none, 16),
    iv: hkdfExpandLabel(secret, p.ivLabel, none, 12),
    hp: hkdfExpandLabel(secret, p.hpLabel, none, 16),
  }
}

/**
 * RFC 9001 §5.2: initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id), then
 * "client in" / "server in" secrets (32 bytes) and from each the key, IV and HP key.
 */
export function deriveInitialKeys(
  params: InitialKeyParams,
  clientDcid: Uint8Array,
): QuicInitialKeys {
  const initial = hkdfExtract(params.salt, clientDcid)
  const none = new Uint8Array(0)
  return {
    client: packetKeys(hkdfExpandLabel(initial, 'client in', none, SHA256_BYTES), params),
    server: packetKeys(hkdfExpandLabel(initial, 'server in', none, SHA256_BYTES), params),
  }
}

/** RFC 9001 §5.4.3: mask = AES-ECB(hp_key, sample), 16 bytes (callers use the first 5). */
export function headerProtectionMask(hp: Uint8Array, sample: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-ecb', hp, null)
  c.setAutoPadding(false)
  return own(c.update(sample))
}

/**
 * AES-128-GCM open. Returns the plaintext, or undefined when authentication fails (a normal
 * outcome on the wire: wrong keys, corrupted or foreign packets).
 */
export function aes128GcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Uint8Array | undefined {
  if (sealed.length < AEAD_TAG_BYTES) return undefined
  const split = sealed.length - AEAD_TAG_BYTES
  const d = createDecipheriv('aes-128-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES })
  d.setAAD(aad)
  d.setAuthTag(sealed.subarray(split))
  const body = d.update(sealed.subarray(0, split))
  try {
    // Node reports a failed tag check only by throwing from final().
    d.final()
  } catch {
    return undefined
  }
  return own(body)
}

/** AES-128-GCM seal: ciphertext followed by the 16-byte tag (used to build fixtures). */
export function aes128GcmSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  const c = createCipheriv('aes-128-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES })
  c.setAAD(aad)
  return concat([c.update(plaintext), c.final(), c.getAuthTag()])
}

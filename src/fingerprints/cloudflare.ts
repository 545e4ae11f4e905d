/**
 * @module fingerprints/cloudflare
 * The ClientHello summaries Cloudflare exposes in its Rules language and on Workers
 * `request.cf`, from its field reference
 * (https://developers.cloudflare.com/ruleset-engine/rules-language/fields/reference/):
 * - `cf.tls_ciphers_sha1` (`tlsClientCiphersSha1`): "The SHA-1 fingerprint of the client TLS
 *   cipher list in received order, encoded in Base64 using big-endian format."
 * - `cf.tls_client_extensions_sha1` (`tlsClientExtensionsSha1`): "The SHA-1 fingerprint of TLS
 *   client extensions, encoded in Base64 using big-endian format", and `…_sha1_le` the
 *   little-endian version.
 * - `cf.tls_client_hello_length` (`tlsClientHelloLength`): "The length of the client hello
 *   message sent in a TLS handshake. Specifically, the length of the bytestring of the client
 *   hello." Example value 508.
 * Decisions (docs/cloudflare.md): the digest is Base64 of the raw 20 bytes (the 28-character
 * form of the cipher example; the 56-character extensions example is Base64 of the hex digest);
 * values are hashed as received, GREASE included; the length is the handshake body, without the
 * 4-byte handshake header.
 */
import * as crypto from 'node:crypto'
import type { ClientHello, TlsExtension } from '../protocols/tls/types.ts'
import { KeyBuilder, ListCache } from './list-cache.ts'

/**
 * Slots of each digest cache (ListCache: direct-mapped, lists of at most 256 values). Real
 * traffic repeats the same lists, and a digest costs far more than looking the list up.
 */
const CACHE_SLOTS = 1024

// One-shot `crypto.hash` (Node >= 20.12) skips the Hash object createHash makes per digest.
const oneShot: ((data: Uint8Array) => string) | undefined =
  typeof crypto.hash === 'function' ? (d) => crypto.hash('sha1', d, 'base64') : undefined

/** Base64 of the raw SHA-1 digest. */
function sha1Base64(bytes: Uint8Array): string {
  if (oneShot !== undefined) return oneShot(bytes)
  return crypto.createHash('sha1').update(bytes).digest('base64')
}

// The list being looked up, and its bytes on a miss: reused by every call (fingerprint code is
// not re-entrant, and JS runs one call at a time per isolate).
const key = new KeyBuilder()
let wire = new Uint8Array(512)

/**
 * Base64 SHA-1 of `key`'s values as 2 bytes each, network order unless `littleEndian`, from
 * `cache` when the same list was hashed before.
 */
function u16ListSha1(cache: ListCache<string>, littleEndian: boolean): string {
  const n = key.length
  const values = key.values
  const cached = cache.get(values, n)
  if (cached !== undefined) return cached
  if (wire.length < 2 * n) wire = new Uint8Array(2 * n)
  const hi = littleEndian ? 1 : 0
  for (let i = 0; i < n; i++) {
    const v = values[i] ?? 0
    wire[2 * i + hi] = v >> 8
    wire[2 * i + 1 - hi] = v & 0xff
  }
  return cache.set(values, n, sha1Base64(wire.subarray(0, 2 * n)))
}

function keyOfValues(values: readonly number[]): void {
  key.reset()
  for (const v of values) key.push(v)
}

function keyOfTypes(extensions: readonly TlsExtension[]): void {
  key.reset()
  for (const e of extensions) key.push(e.type)
}

const ciphersCache = new ListCache<string>(CACHE_SLOTS)
const extensionsCache = new ListCache<string>(CACHE_SLOTS)
const extensionsLeCache = new ListCache<string>(CACHE_SLOTS)

/**
 * `cf.tls_ciphers_sha1`: Base64 of SHA-1 over the cipher suites as received (2 bytes each,
 * big-endian, i.e. the `cipher_suites` vector without its length, RFC 8446 §4.1.2).
 */
export function cfCiphersSha1(hello: ClientHello): string {
  keyOfValues(hello.cipherSuites)
  return u16ListSha1(ciphersCache, false)
}

/** `cf.tls_client_extensions_sha1`: Base64 of SHA-1 over the extension types in wire order. */
export function cfExtensionsSha1(hello: ClientHello): string {
  keyOfTypes(hello.extensions)
  return u16ListSha1(extensionsCache, false)
}

/** `cf.tls_client_extensions_sha1_le`: as above with each type's two bytes swapped. */
export function cfExtensionsSha1Le(hello: ClientHello): string {
  keyOfTypes(hello.extensions)
  return u16ListSha1(extensionsLeCache, true)
}

/** `cf.tls_client_hello_length`: the ClientHello handshake body length, header excluded. */
export function helloLength(hello: ClientHello): number {
  return hello.bodyLength
}

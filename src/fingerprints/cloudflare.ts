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
import { createHash } from 'node:crypto'
import type { ClientHello } from '../protocols/tls/types.ts'

/** Base64 of the raw SHA-1 digest. */
function sha1Base64(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('base64')
}

/** The 16-bit values as 2 bytes each, network order unless `littleEndian`. */
function u16Bytes(values: readonly number[], littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(values.length * 2)
  const view = new DataView(out.buffer)
  values.forEach((v, i) => view.setUint16(i * 2, v, littleEndian))
  return out
}

/**
 * `cf.tls_ciphers_sha1`: Base64 of SHA-1 over the cipher suites as received (2 bytes each,
 * big-endian, i.e. the `cipher_suites` vector without its length, RFC 8446 §4.1.2).
 */
export function cfCiphersSha1(hello: ClientHello): string {
  return sha1Base64(u16Bytes(hello.cipherSuites, false))
}

/** `cf.tls_client_extensions_sha1`: Base64 of SHA-1 over the extension types in wire order. */
export function cfExtensionsSha1(hello: ClientHello): string {
  return sha1Base64(
    u16Bytes(
      hello.extensions.map((e) => e.type),
      false,
    ),
  )
}

/** `cf.tls_client_extensions_sha1_le`: as above with each type's two bytes swapped. */
export function cfExtensionsSha1Le(hello: ClientHello): string {
  return sha1Base64(
    u16Bytes(
      hello.extensions.map((e) => e.type),
      true,
    ),
  )
}

/** `cf.tls_client_hello_length`: the ClientHello handshake body length, header excluded. */
export function helloLength(hello: ClientHello): number {
  return hello.bodyLength
}

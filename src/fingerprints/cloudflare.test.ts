import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { parseClientHello } from '../protocols/tls/client-hello.ts'
import {
  chromeHelloSpec,
  clientHelloBody,
  ext,
  handshake,
  record,
  type ClientHelloSpec,
} from '../protocols/tls/test-helpers/fixtures.ts'
import { cfCiphersSha1, cfExtensionsSha1, cfExtensionsSha1Le, helloLength } from './cloudflare.ts'

function ch(spec: ClientHelloSpec) {
  const r = parseClientHello(clientHelloBody(spec))
  assert.ok(r.ok)
  return r.value
}

/** The values as 2-byte words, written out byte by byte. */
function words(values: number[], littleEndian = false): Uint8Array {
  const out: number[] = []
  for (const v of values) {
    const hi = (v >> 8) & 0xff
    const lo = v & 0xff
    if (littleEndian) out.push(lo, hi)
    else out.push(hi, lo)
  }
  return Uint8Array.from(out)
}

const opensslMissing = spawnSync('openssl', ['version']).status !== 0

/** `openssl dgst -sha1 -binary | openssl base64 -A` over the bytes. */
function opensslSha1Base64(bytes: Uint8Array): string {
  const r = spawnSync('sh', ['-c', 'openssl dgst -sha1 -binary | openssl base64 -A'], {
    input: bytes,
  })
  assert.equal(r.status, 0, r.stderr.toString())
  return r.stdout.toString().trim()
}

test('Cloudflare SHA-1 fields match openssl on the same bytes, GREASE included', (t) => {
  if (opensslMissing) {
    if (process.env.TLSIGHT_REQUIRE_ALL === '1') assert.fail('openssl is required')
    t.skip('openssl not found (install the Debian package "openssl")')
    return
  }
  const spec = chromeHelloSpec()
  const hello = ch(spec)
  const types = (spec.extensions ?? []).map((e) => e.type)
  assert.equal(cfCiphersSha1(hello), opensslSha1Base64(words(spec.ciphers)))
  assert.equal(cfExtensionsSha1(hello), opensslSha1Base64(words(types)))
  assert.equal(cfExtensionsSha1Le(hello), opensslSha1Base64(words(types, true)))
  assert.notEqual(cfExtensionsSha1Le(hello), cfExtensionsSha1(hello))
})

test('Cloudflare SHA-1 of an empty extension list is SHA-1 of no bytes', () => {
  // SHA-1("") = da39a3ee5e6b4b0d3255bfef95601890afd80709 (FIPS 180 / RFC 3174).
  const hello = ch({ ciphers: [0x1301] })
  assert.equal(
    cfExtensionsSha1(hello),
    Buffer.from('da39a3ee5e6b4b0d3255bfef95601890afd80709', 'hex').toString('base64'),
  )
  assert.equal(cfExtensionsSha1(hello), '2jmj7l5rSw0yVb/vlWAYkK/YBwk=')
})

test('Cloudflare examples: the cipher example is Base64 of 20 bytes, as ours', () => {
  // cf.tls_ciphers_sha1 example: 28 characters, 20 raw bytes.
  assert.equal(Buffer.from('GXSPDLP4G3X+prK73a4wBuOaHRc=', 'base64').length, 20)
  // cf.tls_client_extensions_sha1 example: 56 characters, the 40 hex digits of a digest.
  const hexDigest = Buffer.from(
    'OWFiM2I5ZDc0YWI0YWYzZmFkMGU0ZjhlYjhiYmVkMjgxNTU5YTU2Mg==',
    'base64',
  )
  assert.match(hexDigest.toString('latin1'), /^[0-9a-f]{40}$/)
  // cf.tls_client_extensions_sha1_le example: 20 raw bytes again.
  assert.equal(Buffer.from('7zIpdDU5pvFPPBI2/PCzqbaXnRA=', 'base64').length, 20)
  const ours = cfExtensionsSha1(ch(chromeHelloSpec()))
  assert.equal(ours.length, 28)
  assert.equal(Buffer.from(ours, 'base64').length, 20)
})

test('helloLength is the handshake body length (Cloudflare example 508)', () => {
  const spec = chromeHelloSpec()
  // Chrome's padding extension is 4 + 40 bytes of this body.
  const body = clientHelloBody(spec)
  // Pad the way OpenSSL and BoringSSL do: the handshake message (4-byte header + body) to 512.
  const padded: ClientHelloSpec = {
    ...spec,
    extensions: (spec.extensions ?? [])
      .filter((e) => e.type !== 0x0015)
      .concat([ext(0x0015, new Array<number>(508 - (body.length - 44) - 4).fill(0))]),
  }
  const paddedBody = clientHelloBody(padded)
  assert.equal(handshake(1, paddedBody).length, 512)
  assert.equal(helloLength(ch(padded)), 508)
  // Record framing adds 5 bytes and the handshake header 4; neither counts.
  assert.equal(record(22, handshake(1, paddedBody)).length - 9, helloLength(ch(padded)))
})

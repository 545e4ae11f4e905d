import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { HELLO_RETRY_REQUEST_RANDOM, parseServerHello } from './server-hello.ts'
import { alpnExt, ext, serverHelloBody } from './test-helpers/fixtures.ts'
import { createHash } from 'node:crypto'

test('the HRR magic random is SHA-256("HelloRetryRequest")', () => {
  const d = createHash('sha256').update('HelloRetryRequest').digest()
  assert.deepEqual([...HELLO_RETRY_REQUEST_RANDOM], [...d])
})

test('TLS 1.3 ServerHello: selected_version and the chosen ALPN', () => {
  const r = parseServerHello(
    serverHelloBody({
      sessionId: new Uint8Array(32),
      cipher: 0x1301,
      extensions: [ext(0x0033, [0, 0x1d, 0, 0]), ext(0x002b, [3, 4]), alpnExt(['h2'])],
    }),
  )
  assert.ok(r.ok)
  const h = r.value
  assert.equal(h.legacyVersion, 0x0303)
  assert.equal(h.selectedVersion, 0x0304)
  assert.equal(h.cipherSuite, 0x1301)
  assert.equal(String.fromCharCode(...(h.alpn ?? [])), 'h2')
  assert.equal(h.isHelloRetryRequest, false)
  assert.deepEqual(
    h.extensions.map((e) => e.type),
    [0x33, 0x2b, 0x10],
  )
  assert.deepEqual(h.anomalies, [])
})

test('HelloRetryRequest is recognised by its random', () => {
  const r = parseServerHello(
    serverHelloBody({
      random: HELLO_RETRY_REQUEST_RANDOM,
      cipher: 0x1302,
      extensions: [ext(0x002b, [3, 4])],
    }),
  )
  assert.ok(r.ok)
  assert.equal(r.value.isHelloRetryRequest, true)
})

test('TLS 1.0 ServerHello without extensions; server ALPN with two names is flagged', () => {
  const r = parseServerHello(serverHelloBody({ legacyVersion: 0x0301, cipher: 0x0005 }))
  assert.ok(r.ok)
  assert.deepEqual(r.value.extensions, [])
  assert.equal(r.value.selectedVersion, undefined)
  const two = parseServerHello(
    serverHelloBody({ cipher: 0xc02f, extensions: [alpnExt(['h2', 'http/1.1'])] }),
  )
  assert.ok(two.ok)
  assert.deepEqual(two.value.anomalies, ['tls.alpn_count_invalid'])
})

test('truncations fail, never throw; fuzz', () => {
  const body = serverHelloBody({ cipher: 0xc02f, extensions: [ext(0xff01, [0])] })
  for (let n = 0; n < body.length; n++) {
    const r = parseServerHello(body.subarray(0, n))
    assert.equal(r.ok, n === 2 + 32 + 1 + 3, `cut at ${n}`)
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      parseServerHello(bytes)
    }),
    { numRuns: 500 },
  )
})

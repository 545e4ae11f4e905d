import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  cipherSuiteName,
  extensionName,
  groupName,
  handshakeTypeName,
  isGrease,
  signatureAlgorithmName,
  versionName,
} from './registry.ts'

test('isGrease accepts exactly the 16 RFC 8701 values', () => {
  const grease: number[] = []
  for (let v = 0; v < 0x10000; v++) if (isGrease(v)) grease.push(v)
  assert.equal(grease.length, 16)
  assert.deepEqual(
    grease,
    Array.from({ length: 16 }, (_, i) => i * 0x1010 + 0x0a0a),
  )
  assert.equal(isGrease(0x0a1a), false)
  assert.equal(isGrease(0x1a0a), false)
})

test('names resolve, unknown values show as 0x1a2b, GREASE as GREASE', () => {
  assert.equal(cipherSuiteName(0x1301), 'TLS_AES_128_GCM_SHA256')
  assert.equal(cipherSuiteName(0x1a2b), '0x1a2b')
  assert.equal(cipherSuiteName(0x2a2a), 'GREASE')
  assert.equal(extensionName(0x0010), 'application_layer_protocol_negotiation')
  assert.equal(extensionName(0x7777), '0x7777')
  assert.equal(groupName(0x001d), 'x25519')
  assert.equal(signatureAlgorithmName(0x0804), 'rsa_pss_rsae_sha256')
  assert.equal(versionName(0x0304), 'TLS 1.3')
  assert.equal(versionName(0x7f1c), '0x7f1c')
  assert.equal(handshakeTypeName(1), 'client_hello')
  assert.equal(handshakeTypeName(0xfe), '0xfe')
})

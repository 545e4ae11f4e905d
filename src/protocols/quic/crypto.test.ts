import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  aes128GcmOpen,
  aes128GcmSeal,
  deriveInitialKeys,
  headerProtectionMask,
  hkdfExpandLabel,
  hkdfExtract,
} from './crypto.ts'
import { hex, RFC_DCID, toHex } from './test-helpers/vectors.ts'
import { quicVersionParams, QUIC_DRAFT_29, QUIC_V1, QUIC_V2 } from './versions.ts'

test('RFC 9001 A.1: initial secrets and client / server Initial keys (v1)', () => {
  const params = quicVersionParams(QUIC_V1)
  assert.ok(params)
  const initial = hkdfExtract(params.salt, RFC_DCID)
  assert.equal(toHex(initial), '7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44')
  const client = hkdfExpandLabel(initial, 'client in', new Uint8Array(0), 32)
  assert.equal(toHex(client), 'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea')
  const server = hkdfExpandLabel(initial, 'server in', new Uint8Array(0), 32)
  assert.equal(toHex(server), '3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b')
  const keys = deriveInitialKeys(params, RFC_DCID)
  assert.equal(toHex(keys.client.key), '1f369613dd76d5467730efcbe3b1a22d')
  assert.equal(toHex(keys.client.iv), 'fa044b2f42a3fd3b46fb255c')
  assert.equal(toHex(keys.client.hp), '9f50449e04a0e810283a1e9933adedd2')
  assert.equal(toHex(keys.server.key), 'cf3a5331653c364c88f0f379b6067e37')
  assert.equal(toHex(keys.server.iv), '0ac1493ca1905853b0bba03e')
  assert.equal(toHex(keys.server.hp), 'c206b8d9b9f0f37644430b490eeaa314')
})

test('RFC 9369 A.1: Initial keys (v2 salt and "quicv2" labels)', () => {
  const params = quicVersionParams(QUIC_V2)
  assert.ok(params)
  const initial = hkdfExtract(params.salt, RFC_DCID)
  assert.equal(toHex(initial), '2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba')
  const keys = deriveInitialKeys(params, RFC_DCID)
  assert.equal(toHex(keys.client.key), '8b1a0bc121284290a29e0971b5cd045d')
  assert.equal(toHex(keys.client.iv), '91f73e2351d8fa91660e909f')
  assert.equal(toHex(keys.client.hp), '45b95e15235d6f45a6b19cbcb0294ba9')
  assert.equal(toHex(keys.server.key), '82db637861d55e1d011f19ea71d5d2a7')
  assert.equal(toHex(keys.server.iv), 'dd13c276499c0249d3310652')
  assert.equal(toHex(keys.server.hp), 'edf6d05c83121201b436e16877593c3a')
})

test('draft-29 A.1: client Initial keys come from the draft-29 salt', () => {
  const params = quicVersionParams(QUIC_DRAFT_29)
  assert.ok(params)
  const keys = deriveInitialKeys(params, RFC_DCID)
  assert.equal(toHex(keys.client.key), '175257a31eb09dea9366d8bb79ad80ba')
  assert.equal(toHex(keys.client.iv), '6b26114b9cba2b63a9e8dd4f')
  assert.equal(toHex(keys.client.hp), '9ddd12c994c0698b89374a9c077a3077')
})

test('RFC 9001 A.2 / A.3: header-protection masks', () => {
  assert.equal(
    toHex(
      headerProtectionMask(
        hex('9f50449e04a0e810283a1e9933adedd2'),
        hex('d1b1c98dd7689fb8ec11d242b123dc9b'),
      ),
    ).slice(0, 10),
    '437b9aec36',
  )
  assert.equal(
    toHex(
      headerProtectionMask(
        hex('c206b8d9b9f0f37644430b490eeaa314'),
        hex('2cd0991cd25b0aac406a5816b6394100'),
      ),
    ).slice(0, 10),
    '2ec0d8356a',
  )
})

test('AES-128-GCM: seal / open round trip, and a bad tag or short input is undefined', () => {
  const key = hex('000102030405060708090a0b0c0d0e0f')
  const nonce = hex('000000000000000000000001')
  const aad = Uint8Array.of(1, 2, 3)
  const sealed = aes128GcmSeal(key, nonce, aad, Uint8Array.of(9, 8, 7))
  assert.deepEqual(aes128GcmOpen(key, nonce, aad, sealed), Uint8Array.of(9, 8, 7))
  const bad = sealed.slice()
  bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1
  assert.equal(aes128GcmOpen(key, nonce, aad, bad), undefined)
  assert.equal(aes128GcmOpen(key, nonce, Uint8Array.of(1, 2), sealed), undefined)
  assert.equal(aes128GcmOpen(key, nonce, aad, new Uint8Array(15)), undefined)
})

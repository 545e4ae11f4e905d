import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { parseClientHello } from '../tls/client-hello.ts'
import { parseServerHello } from '../tls/server-hello.ts'
import { QuicCryptoStream } from './crypto-stream.ts'
import { parseInitialFrames } from './frames.ts'
import { decodePacketNumber, decryptInitial, initialKeys, parseLongHeaders } from './initial.ts'
import { concat, cryptoFrame, longPacket } from './test-helpers/packets.ts'
import {
  CLIENT_CRYPTO_FRAME,
  hex,
  RFC_DCID,
  SERVER_PAYLOAD,
  toHex,
  V1_CLIENT_INITIAL,
  V1_SERVER_INITIAL,
  V2_CLIENT_INITIAL,
  V2_RETRY,
  V2_SERVER_INITIAL,
} from './test-helpers/vectors.ts'
import type { QuicLongHeaderPacket } from './types.ts'
import { QUIC_V1, QUIC_V2 } from './versions.ts'

function only(datagram: Uint8Array): QuicLongHeaderPacket {
  const d = parseLongHeaders(datagram)
  assert.equal(d.stop, 'end')
  assert.equal(d.packets.length, 1)
  const p = d.packets[0]
  assert.ok(p)
  return p
}

function clientHelloOf(payload: Uint8Array): string | undefined {
  const frames = parseInitialFrames(payload)
  const s = new QuicCryptoStream()
  const msgs = frames.crypto.flatMap((c) => s.push(c.offset, c.data))
  const m = msgs[0]
  assert.equal(m?.type, 1)
  const ch = parseClientHello(m.body)
  assert.ok(ch.ok)
  return ch.value.sni
}

for (const [name, version, packet, headerHex] of [
  ['RFC 9001 A.2 (v1)', QUIC_V1, V1_CLIENT_INITIAL, 'c300000001088394c8f03e5157080000449e00000002'],
  ['RFC 9369 A.2 (v2)', QUIC_V2, V2_CLIENT_INITIAL, 'd36b3343cf088394c8f03e5157080000449e00000002'],
] as const) {
  test(`${name}: the client Initial opens and its CRYPTO frame holds the ClientHello`, () => {
    const p = only(packet)
    assert.equal(p.version, version)
    assert.equal(p.type, 'initial')
    assert.equal(toHex(p.dcid), '8394c8f03e515708')
    assert.equal(p.scid.length, 0)
    assert.equal(p.token.length, 0)
    assert.equal(p.pnOffset, 18)
    assert.equal(p.bytes.length, 1200)
    const keys = initialKeys(version, p.dcid)
    assert.ok(keys)
    const r = decryptInitial(p, keys.client)
    assert.ok(r.ok)
    assert.equal(r.value.packetNumber, 2)
    assert.equal(r.value.packetNumberLength, 4)
    assert.equal(toHex(r.value.header), headerHex)
    assert.equal(r.value.reservedBitsSet, false)
    assert.equal(r.value.payload.length, 1162)
    assert.deepEqual(r.value.payload.subarray(0, CLIENT_CRYPTO_FRAME.length), CLIENT_CRYPTO_FRAME)
    assert.equal(clientHelloOf(r.value.payload), 'example.com')
    // The other direction's keys fail authentication: a normal outcome, not an exception.
    assert.deepEqual(decryptInitial(p, keys.server), { ok: false, error: 'auth_failed' })
  })
}

for (const [name, version, packet] of [
  ['RFC 9001 A.3 (v1)', QUIC_V1, V1_SERVER_INITIAL],
  ['RFC 9369 A.3 (v2)', QUIC_V2, V2_SERVER_INITIAL],
] as const) {
  test(`${name}: the server Initial opens with keys from the client's DCID`, () => {
    const p = only(packet)
    assert.equal(p.type, 'initial')
    assert.equal(p.dcid.length, 0)
    assert.equal(toHex(p.scid), 'f067a5502a4262b5')
    const keys = initialKeys(version, RFC_DCID)
    assert.ok(keys)
    const r = decryptInitial(p, keys.server)
    assert.ok(r.ok)
    assert.equal(r.value.packetNumber, 1)
    assert.equal(r.value.packetNumberLength, 2)
    assert.deepEqual(r.value.payload, SERVER_PAYLOAD)
    const frames = parseInitialFrames(r.value.payload)
    assert.deepEqual(frames.frameTypes, [0x02, 0x06])
    const msgs = new QuicCryptoStream().push(
      frames.crypto[0]?.offset ?? -1,
      frames.crypto[0]?.data ?? new Uint8Array(0),
    )
    assert.equal(msgs[0]?.type, 2)
    const sh = parseServerHello(msgs[0]?.body ?? new Uint8Array(0))
    assert.ok(sh.ok)
    assert.equal(sh.value.cipherSuite, 0x1301)
    assert.equal(sh.value.selectedVersion, 0x0304)
    assert.deepEqual(decryptInitial(p, keys.client), { ok: false, error: 'auth_failed' })
  })
}

test('RFC 9369 A.4: a v2 Retry (type bits 0b00) fills the datagram', () => {
  const p = only(V2_RETRY)
  assert.equal(p.type, 'retry')
  assert.equal(p.pnOffset, -1)
  assert.equal(toHex(p.scid), 'f067a5502a4262b5')
  assert.equal(decryptInitial(p, initialKeys(QUIC_V2, RFC_DCID)!.client).ok, false)
})

test('packet types are version-aware: the same type bits mean different packets', () => {
  const dcid = hex('0102030405060708')
  const payload = new Uint8Array(24)
  const types = (version: number) =>
    [0, 1, 2].map(
      (bits) =>
        only(
          longPacket({
            version,
            typeBits: bits,
            dcid,
            packetNumber: 0,
            payload,
            token: bits === (version === QUIC_V2 ? 1 : 0) ? new Uint8Array(0) : undefined,
          }),
        ).type,
    )
  assert.deepEqual(types(QUIC_V1), ['initial', '0rtt', 'handshake'])
  assert.deepEqual(types(QUIC_V2), ['retry', 'initial', '0rtt'])
})

test('coalesced Initial + Handshake + short header: each packet found, Initial opened', () => {
  const dcid = hex('0011223344556677')
  const keys = initialKeys(QUIC_V1, dcid)
  assert.ok(keys)
  const hello = concat(Uint8Array.of(1, 0, 0, 3), Uint8Array.of(7, 8, 9))
  const initial = longPacket(
    {
      version: QUIC_V1,
      typeBits: 0,
      dcid,
      scid: hex('aabb'),
      token: hex('5a5a5a'),
      packetNumber: 0,
      payload: concat(cryptoFrame(0, hello), new Uint8Array(40)),
    },
    keys.client,
  )
  const handshake = longPacket({
    version: QUIC_V1,
    typeBits: 2,
    dcid,
    packetNumber: 0,
    payload: new Uint8Array(30),
  })
  const short = Uint8Array.of(0x40, 1, 2, 3, 4)
  const datagram = concat(initial, handshake, short)
  const d = parseLongHeaders(datagram)
  assert.deepEqual(
    d.packets.map((p) => [p.type, p.offset, p.bytes.length]),
    [
      ['initial', 0, initial.length],
      ['handshake', initial.length, handshake.length],
    ],
  )
  assert.equal(d.stop, 'short_header')
  assert.equal(d.stopOffset, initial.length + handshake.length)
  assert.equal(toHex(d.packets[0]?.token ?? new Uint8Array(0)), '5a5a5a')
  const r = decryptInitial(d.packets[0]!, keys.client)
  assert.ok(r.ok)
  const s = new QuicCryptoStream()
  const msgs = parseInitialFrames(r.value.payload).crypto.flatMap((c) => s.push(c.offset, c.data))
  assert.deepEqual(
    msgs.map((m) => [m.type, [...m.body]]),
    [[1, [7, 8, 9]]],
  )
  // Zero padding after the last packet is reported as such, not as a short header.
  assert.equal(parseLongHeaders(concat(initial, new Uint8Array(20))).stop, 'padding')
})

test('stops: truncated Length, over-long connection IDs, unknown versions, version negotiation', () => {
  const dcid = hex('0102030405060708')
  const pkt = longPacket({
    version: QUIC_V1,
    typeBits: 0,
    dcid,
    token: new Uint8Array(0),
    packetNumber: 0,
    payload: new Uint8Array(30),
  })
  const cut = parseLongHeaders(pkt.subarray(0, pkt.length - 1))
  assert.deepEqual([cut.packets.length, cut.stop, cut.stopOffset], [0, 'truncated', 0])
  const longCid = concat(Uint8Array.of(0xc0, 0, 0, 0, 1, 21), new Uint8Array(40))
  assert.equal(parseLongHeaders(longCid).stop, 'malformed')
  // RFC 8999: an unknown version still has a readable DCID / SCID, up to 255 bytes each.
  const unknown = concat(
    Uint8Array.of(0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 21),
    new Uint8Array(21),
    Uint8Array.of(0),
    new Uint8Array(9),
  )
  const u = only(unknown)
  assert.deepEqual([u.type, u.dcid.length, u.bytes.length], ['unknown_version', 21, unknown.length])
  assert.equal(initialKeys(0x1a2a3a4a, u.dcid), undefined)
  const vn = concat(
    Uint8Array.of(0x80, 0, 0, 0, 0, 0, 4),
    hex('01020304'),
    Uint8Array.of(0, 0, 0, 1),
  )
  assert.equal(only(vn).type, 'version_negotiation')
  assert.deepEqual(parseLongHeaders(new Uint8Array(0)), { packets: [], stop: 'end', stopOffset: 0 })
})

test('decryptInitial: too short for the sample, not an Initial, tampered bytes', () => {
  const p = only(V1_CLIENT_INITIAL)
  const keys = initialKeys(QUIC_V1, RFC_DCID)!
  assert.deepEqual(decryptInitial({ ...p, bytes: p.bytes.subarray(0, 37) }, keys.client), {
    ok: false,
    error: 'too_short',
  })
  assert.deepEqual(decryptInitial({ ...p, type: 'handshake' }, keys.client), {
    ok: false,
    error: 'not_initial',
  })
  const tampered = V1_CLIENT_INITIAL.slice()
  tampered[100] = (tampered[100] ?? 0) ^ 0xff
  assert.deepEqual(decryptInitial(only(tampered), keys.client), { ok: false, error: 'auth_failed' })
  // The input datagram is left untouched.
  assert.equal(toHex(V1_CLIENT_INITIAL.subarray(0, 4)), 'c0000000')
})

test('initialKeys caches per (version, DCID)', () => {
  assert.equal(initialKeys(QUIC_V1, RFC_DCID), initialKeys(QUIC_V1, RFC_DCID.slice()))
  assert.notEqual(initialKeys(QUIC_V1, RFC_DCID), initialKeys(QUIC_V2, RFC_DCID))
})

test('decodePacketNumber: RFC 9000 A.3 example and the window edges', () => {
  assert.equal(decodePacketNumber(0xa82f30ea, 0x9b32, 16), 0xa82f9b32)
  assert.equal(decodePacketNumber(-1, 2, 32), 2)
  assert.equal(decodePacketNumber(255, 0, 8), 256)
  assert.equal(decodePacketNumber(300, 0xff, 8), 255)
})

test('parseLongHeaders and decryptInitial never throw on arbitrary bytes', () => {
  const keys = initialKeys(QUIC_V1, RFC_DCID)!
  const longish = fc
    .uint8Array({ maxLength: 300 })
    .map((b) => concat(Uint8Array.of(0xc0, 0, 0, 0, 1), b))
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), longish), (bytes) => {
      const d = parseLongHeaders(bytes)
      for (const p of d.packets) decryptInitial(p, keys.client)
      assert.ok(d.stopOffset <= bytes.length)
    }),
    { numRuns: 2_000 },
  )
  // Every truncation of a real packet is a clean stop.
  for (let n = 0; n < V1_CLIENT_INITIAL.length; n++) {
    const d = parseLongHeaders(V1_CLIENT_INITIAL.subarray(0, n))
    assert.equal(d.packets.length, 0)
  }
})

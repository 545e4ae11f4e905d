import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { MAX_DTLS_PENDING_MESSAGES } from '../limits.ts'
import { parseClientHello } from './client-hello.ts'
import { DtlsHandshakeStream, looksLikeDtls } from './dtls.ts'
import { parseServerHello } from './server-hello.ts'
import {
  clientHelloBody,
  concat,
  dtlsHandshake,
  dtlsRecord,
  ext,
  serverHelloBody,
} from './test-helpers/fixtures.ts'
import type { HandshakeMessage } from './types.ts'

const ch1 = clientHelloBody({
  legacyVersion: 0xfefd,
  cookie: new Uint8Array(0),
  ciphers: [0xc02b, 0xc02f],
  extensions: [ext(0x0017)],
})
const ch2 = clientHelloBody({
  legacyVersion: 0xfefd,
  cookie: Uint8Array.of(1, 2, 3, 4),
  ciphers: [0xc02b, 0xc02f],
  extensions: [ext(0x0017)],
})
const hvr = Uint8Array.of(0xfe, 0xff, 4, 1, 2, 3, 4)

function types(msgs: HandshakeMessage[]): number[] {
  return msgs.map((m) => m.type)
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((v, i) => v === b[i])
}

test('looksLikeDtls: handshake type, DTLS versions, epoch 0, length within the datagram', () => {
  for (const v of [0xfeff, 0xfefd, 0xfefc, 0x0100]) {
    assert.equal(looksLikeDtls(dtlsRecord(22, dtlsHandshake(1, 0, ch1), { version: v })), true)
  }
  assert.equal(looksLikeDtls(dtlsRecord(22, dtlsHandshake(1, 0, ch1), { version: 0x0303 })), false)
  assert.equal(looksLikeDtls(dtlsRecord(22, dtlsHandshake(1, 0, ch1), { epoch: 1 })), false)
  assert.equal(looksLikeDtls(dtlsRecord(23, dtlsHandshake(1, 0, ch1))), false)
  assert.equal(looksLikeDtls(dtlsRecord(22, dtlsHandshake(1, 0, ch1)).subarray(0, 40)), false)
  assert.equal(looksLikeDtls(new Uint8Array(0)), false)
})

test('a ClientHello comes out in TLS form and parses with { dtls: true }', () => {
  const s = new DtlsHandshakeStream()
  const msgs = s.push(dtlsRecord(22, dtlsHandshake(1, 0, ch1), { version: 0xfeff }))
  assert.deepEqual(types(msgs), [1])
  assert.ok(sameBytes(msgs[0]?.body, ch1))
  assert.equal(msgs[0]?.recordVersion, 0xfeff)
  const r = parseClientHello(msgs[0]?.body ?? new Uint8Array(0), { dtls: true })
  assert.ok(r.ok)
  assert.deepEqual(r.value.cipherSuites, [0xc02b, 0xc02f])
})

test('HelloVerifyRequest, then the 2nd ClientHello with the cookie; retransmissions once', () => {
  const client = new DtlsHandshakeStream()
  const server = new DtlsHandshakeStream()
  const first = dtlsRecord(22, dtlsHandshake(1, 0, ch1))
  assert.deepEqual(types(client.push(first)), [1])
  assert.deepEqual(client.push(first), [], 'retransmitted hello is not delivered twice')
  assert.deepEqual(
    types(server.push(dtlsRecord(22, dtlsHandshake(3, 0, hvr), { version: 0xfeff }))),
    [3],
  )
  const second = client.push(dtlsRecord(22, dtlsHandshake(1, 1, ch2), { seq: 1 }))
  assert.deepEqual(types(second), [1])
  const r = parseClientHello(second[0]?.body ?? new Uint8Array(0), { dtls: true })
  assert.ok(r.ok)
  assert.deepEqual([...(r.value.cookie ?? [])], [1, 2, 3, 4])
})

test('several records and messages per datagram; server flight', () => {
  const sh = serverHelloBody({
    legacyVersion: 0xfefd,
    cipher: 0xc02b,
    extensions: [ext(0xff01, [0])],
  })
  const dgram = concat(
    dtlsRecord(22, dtlsHandshake(2, 1, sh), { seq: 1 }),
    dtlsRecord(
      22,
      concat(dtlsHandshake(11, 2, new Uint8Array(20)), dtlsHandshake(14, 3, new Uint8Array(0))),
      { seq: 2 },
    ),
  )
  const msgs = new DtlsHandshakeStream().push(dgram)
  assert.deepEqual(types(msgs), [2, 11, 14])
  assert.ok(parseServerHello(msgs[0]?.body ?? new Uint8Array(0), { dtls: true }).ok)
})

test('fragments reassemble in any order, overlaps and duplicates included', () => {
  const big = clientHelloBody({
    legacyVersion: 0xfefd,
    cookie: new Uint8Array(0),
    ciphers: Array.from({ length: 100 }, (_, i) => 0xc000 + i),
  })
  const cuts = [0, 37, 90, 150, big.length]
  const frags = cuts
    .slice(0, -1)
    .map((o, i) => dtlsRecord(22, dtlsHandshake(1, 0, big, o, (cuts[i + 1] ?? 0) - o), { seq: i }))
  for (const order of [
    [0, 1, 2, 3],
    [3, 2, 1, 0],
    [1, 3, 0, 2],
    [2, 2, 0, 1, 0, 3, 3],
  ]) {
    const s = new DtlsHandshakeStream()
    const msgs: HandshakeMessage[] = []
    for (const i of order) msgs.push(...s.push(frags[i] ?? new Uint8Array(0)))
    assert.deepEqual(types(msgs), [1], `order ${order.join(',')}`)
    assert.ok(sameBytes(msgs[0]?.body, big))
    assert.deepEqual(s.anomalies, [])
  }
  // An overlapping fragment with the same bytes is fine; different bytes are flagged.
  const s = new DtlsHandshakeStream()
  s.push(dtlsRecord(22, dtlsHandshake(1, 0, big, 0, 60)))
  const tampered = big.slice()
  tampered[50] = (tampered[50] ?? 0) ^ 0xff
  s.push(dtlsRecord(22, dtlsHandshake(1, 0, tampered, 40, 40)))
  const done = s.push(dtlsRecord(22, dtlsHandshake(1, 0, big, 80)))
  assert.deepEqual(types(done), [1])
  assert.ok(sameBytes(done[0]?.body, big), 'first copy of a byte wins')
  assert.deepEqual(s.anomalies, ['dtls.fragment_overlap_mismatch'])
})

test('bad fragments and the pending-message bound', () => {
  const s = new DtlsHandshakeStream()
  // fragment_offset + fragment_length beyond the message length.
  const bad = concat(Uint8Array.of(1, 0, 0, 10, 0, 0, 0, 0, 8, 0, 0, 4), new Uint8Array(4))
  assert.deepEqual(s.push(dtlsRecord(22, bad)), [])
  assert.deepEqual(s.anomalies, ['dtls.bad_fragment'])
  const p = new DtlsHandshakeStream()
  for (let seq = 0; seq <= MAX_DTLS_PENDING_MESSAGES; seq++)
    p.push(dtlsRecord(22, dtlsHandshake(11, seq, new Uint8Array(100), 0, 10)))
  assert.deepEqual(p.anomalies, ['dtls.too_many_pending_messages'])
})

test('epoch 1, tls12_cid and DTLS 1.3 unified-header records end the plaintext handshake', () => {
  const a = new DtlsHandshakeStream()
  const msgs = a.push(
    concat(
      dtlsRecord(22, dtlsHandshake(16, 2, new Uint8Array(10))),
      dtlsRecord(20, Uint8Array.of(1)),
      dtlsRecord(22, new Uint8Array(40), { epoch: 1 }),
    ),
  )
  assert.deepEqual(types(msgs), [16])
  assert.equal(a.state, 'encrypted')
  assert.deepEqual(a.push(dtlsRecord(22, dtlsHandshake(1, 0, ch1))), [])
  const b = new DtlsHandshakeStream()
  const sh = serverHelloBody({
    legacyVersion: 0xfefd,
    cipher: 0x1301,
    extensions: [ext(0x2b, [0xfe, 0xfc])],
  })
  const out = b.push(
    concat(
      dtlsRecord(22, dtlsHandshake(2, 0, sh)),
      Uint8Array.of(0x2c, 0x00, 0x01, 0x00, 0x10),
      new Uint8Array(16),
    ),
  )
  assert.deepEqual(types(out), [2])
  assert.equal(b.state, 'encrypted')
})

test('a record longer than its datagram is flagged and the datagram dropped', () => {
  const s = new DtlsHandshakeStream()
  const rec = dtlsRecord(22, dtlsHandshake(1, 0, ch1))
  assert.deepEqual(s.push(rec.subarray(0, rec.length - 1)), [])
  assert.deepEqual(s.anomalies, ['tls.record_length_mismatch'])
  assert.deepEqual(types(s.push(rec)), [1])
})

test('fuzz: any datagram never throws', () => {
  const base = dtlsRecord(22, dtlsHandshake(1, 0, ch1))
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 6 }), (dgrams) => {
      const s = new DtlsHandshakeStream()
      for (const d of dgrams) s.push(d)
    }),
    { numRuns: 500 },
  )
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), {
        maxLength: 6,
      }),
      (muts) => {
        const b = base.slice()
        for (const [i, v] of muts) b[i] = v
        const s = new DtlsHandshakeStream()
        for (const m of s.push(b)) parseClientHello(m.body, { dtls: true })
      },
    ),
    { numRuns: 500 },
  )
})

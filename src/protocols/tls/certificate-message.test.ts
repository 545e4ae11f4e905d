import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ByteBuilder } from '../../bytes/builder.ts'
import { MAX_CERT_CHAIN_LENGTH } from '../limits.ts'
import { parseCertificateMessage, type CertificateMessage } from './certificate-message.ts'

// Stand-ins for DER certificates: this parser only frames them.
const certA = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)
const certB = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01)

function ok(body: Uint8Array, tls13: boolean): CertificateMessage {
  const r = parseCertificateMessage(body, { tls13 })
  assert.ok(r.ok, JSON.stringify(r.ok ? '' : r.error))
  return r.value
}

/** RFC 5246 §7.4.2: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>. */
function tls12Body(certs: Uint8Array[]): Uint8Array {
  return new ByteBuilder()
    .vec24((l) => {
      for (const c of certs) l.vec24((b) => b.bytes(c))
    })
    .build()
}

/** RFC 8446 §4.4.2: request context, then CertificateEntry { cert_data, extensions }. */
function tls13Body(context: number[], entries: { cert: Uint8Array; ext: number[] }[]): Uint8Array {
  return new ByteBuilder()
    .vec8((b) => b.bytes(context))
    .vec24((l) => {
      for (const e of entries) l.vec24((b) => b.bytes(e.cert)).vec16((b) => b.bytes(e.ext))
    })
    .build()
}

test('TLS 1.2 chain: certificates in order, as views into the body', () => {
  const body = tls12Body([certA, certB])
  const m = ok(body, false)
  assert.deepEqual(m.certificates, [certA, certB])
  assert.equal(m.certificates[0]?.buffer, body.buffer)
  assert.deepEqual(m.anomalies, [])
  assert.equal(m.requestContext.length, 0)
})

test('TLS 1.2 empty list (a client with no certificate, RFC 5246 §7.4.6)', () => {
  assert.deepEqual(ok(Uint8Array.of(0, 0, 0), false), {
    certificates: [],
    requestContext: new Uint8Array(0),
    anomalies: [],
  })
})

test('TLS 1.3: request context and per-entry extensions skipped', () => {
  // status_request (5) extension carrying a short OCSP response stand-in.
  const ocsp = [0x00, 0x05, 0x00, 0x03, 0x01, 0x02, 0x03]
  const m = ok(
    tls13Body(
      [9, 9],
      [
        { cert: certA, ext: ocsp },
        { cert: certB, ext: [] },
      ],
    ),
    true,
  )
  assert.deepEqual(m.certificates, [certA, certB])
  assert.deepEqual([...m.requestContext], [9, 9])
  assert.deepEqual(m.anomalies, [])
})

test('list length disagreeing with the body: what fits is read', () => {
  const body = tls12Body([certA, certB])
  // Body cut inside the second certificate: the list claims more than there is.
  const cut = ok(body.subarray(0, body.length - 2), false)
  assert.deepEqual(cut.certificates, [certA])
  assert.deepEqual(cut.anomalies, [
    'tls.certificate_list_length_mismatch',
    'tls.certificate_truncated',
  ])
  // Bytes after the list.
  const extra = ok(Uint8Array.from([...body, 0xff]), false)
  assert.deepEqual(extra.certificates, [certA, certB])
  assert.deepEqual(extra.anomalies, ['tls.certificate_list_length_mismatch'])
})

test('zero-length certificate and broken TLS 1.3 extensions are anomalies', () => {
  const empty = ok(tls12Body([new Uint8Array(0), certB]), false)
  assert.deepEqual(empty.certificates, [certB])
  assert.deepEqual(empty.anomalies, ['tls.certificate_empty'])
  // The entry's extensions length claims 0x0100 bytes, but only 1 follows.
  const body = new ByteBuilder()
    .u8(0)
    .vec24((l) =>
      l
        .vec24((b) => b.bytes(certB))
        .u16(0x0100)
        .u8(0),
    )
    .build()
  const m = ok(body, true)
  assert.deepEqual(m.certificates, [certB])
  assert.deepEqual(m.anomalies, ['tls.certificate_extensions_malformed'])
})

test('chains longer than MAX_CERT_CHAIN_LENGTH are cut with an anomaly', () => {
  const certs = Array.from({ length: MAX_CERT_CHAIN_LENGTH + 3 }, (_, i) => Uint8Array.of(i + 1))
  const m = ok(tls12Body(certs), false)
  assert.equal(m.certificates.length, MAX_CERT_CHAIN_LENGTH)
  assert.deepEqual(m.certificates.at(-1), certs[MAX_CERT_CHAIN_LENGTH - 1])
  assert.deepEqual(m.anomalies, ['tls.certificate_chain_too_long'])
})

test('unreadable list header: ok false; every prefix of a valid body is handled', () => {
  for (const body of [new Uint8Array(0), Uint8Array.of(0, 0)]) {
    assert.equal(parseCertificateMessage(body, { tls13: false }).ok, false)
  }
  assert.equal(parseCertificateMessage(Uint8Array.of(5, 1), { tls13: true }).ok, false)
  const full = tls13Body(
    [],
    [
      { cert: certA, ext: [0, 5, 0, 0] },
      { cert: certB, ext: [] },
    ],
  )
  for (let n = 0; n <= full.length; n++) {
    const r = parseCertificateMessage(full.subarray(0, n), { tls13: true })
    if (n < 4) assert.equal(r.ok, false)
    else {
      assert.ok(r.ok)
      const complete = n === full.length
      assert.equal(r.value.anomalies.length === 0, complete, `prefix ${n}`)
    }
  }
})

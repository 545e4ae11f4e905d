import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseCertificate, type Certificate } from './certificate.ts'
import {
  makeTestCertificates,
  openssl,
  opensslView,
  toolSkip,
  type TestCert,
  type TestCertName,
} from './test-helpers/openssl.ts'

function parsed(der: Uint8Array): Certificate {
  const r = parseCertificate(der)
  assert.ok(r.ok, `parse failed: ${JSON.stringify(r.ok ? '' : r.error)}`)
  return r.value
}

const skip = toolSkip('openssl', 'openssl')

test(
  'openssl-made certificates: every field equals what openssl x509 prints',
  { skip },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tlsight-x509-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const certs = makeTestCertificates(dir)
    for (const [name, cert] of Object.entries(certs) as [TestCertName, TestCert][]) {
      await t.test(name, () => {
        const c = parsed(cert.der)
        const want = opensslView(cert, dir)
        assert.equal(c.serial, want.serial)
        assert.equal(c.subject, want.subject)
        assert.equal(c.issuer, want.issuer)
        assert.equal(c.not_before, want.not_before)
        assert.equal(c.not_after, want.not_after)
        assert.deepEqual(
          c.sans.map((s) => `${s.type}:${s.value}`),
          want.sans,
        )
        assert.equal(c.sha256, want.sha256)
        const expectedAnomalies = name === 'negative' ? ['x509.serial_not_positive'] : []
        assert.deepEqual(c.anomalies, expectedAnomalies)
      })
    }

    await t.test('self-signed vs CA-signed, versions, extensions and algorithms', () => {
      const leaf = parsed(certs.leaf.der)
      const ca = parsed(certs.ca.der)
      assert.equal(ca.self_signed, true)
      assert.equal(parsed(certs.self.der).self_signed, true)
      assert.equal(leaf.self_signed, false)
      assert.equal(leaf.issuer, ca.subject)
      assert.equal(leaf.version, 3)
      assert.equal(parsed(certs.v1.der).version, 1)
      assert.deepEqual(parsed(certs.v1.der).extensions, [])
      // leaf.ext order: basicConstraints, keyUsage, extendedKeyUsage, subjectAltName, SKI, AKI
      assert.deepEqual(
        leaf.extensions.map((e) => [e.oid, e.oidHex, e.critical]),
        [
          ['2.5.29.19', '551d13', false],
          ['2.5.29.15', '551d0f', true],
          ['2.5.29.37', '551d25', false],
          ['2.5.29.17', '551d11', false],
          ['2.5.29.14', '551d0e', false],
          ['2.5.29.35', '551d23', false],
        ],
      )
      // RFC 5758 §3.2 ecdsa-with-SHA256 (req default for an EC key); RFC 4055 sha384WithRSA.
      assert.equal(ca.signature_algorithm, '1.2.840.113549.1.1.11')
      assert.equal(leaf.signature_algorithm, '1.2.840.113549.1.1.12')
      assert.equal(parsed(certs.self.der).signature_algorithm, '1.2.840.10045.4.3.2')
      assert.deepEqual(
        leaf.subject_attributes.map((a) => [a.oid, a.oidHex, a.value]),
        [
          ['2.5.4.6', '550406', 'DE'],
          ['2.5.4.8', '550408', 'Berlin'],
          ['2.5.4.7', '550407', 'Berlin'],
          ['2.5.4.10', '55040a', 'tlsight tests'],
          // DER sorts SET OF by encoding (X.690 §11.6): OU's is shorter (30 0b …) than CN's (30 13 …).
          ['2.5.4.11', '55040b', 'Edge'],
          ['2.5.4.3', '550403', 'leaf.example'],
        ],
      )
      assert.equal(leaf.subject_cn, 'leaf.example')
      assert.equal(leaf.issuer_cn, 'tlsight Test Root CA')
      assert.equal(parsed(certs.v1.der).subject_cn, 'v1')
    })

    await t.test(
      'string types: UTF8String, BMPString, TeletexString as openssl encoded them',
      () => {
        const types = (name: TestCertName): string[] => {
          const out = openssl(['asn1parse', '-in', certs[name].path], dir)
          return [...out.matchAll(/prim: (UTF8STRING|BMPSTRING|T61STRING)/g)].map((m) => m[1] ?? '')
        }
        // The fixtures use the string types they are meant to (issuer and subject: twice each).
        assert.deepEqual(types('bmp'), ['BMPSTRING', 'BMPSTRING', 'BMPSTRING', 'BMPSTRING'])
        assert.deepEqual(types('t61'), ['T61STRING', 'T61STRING', 'T61STRING', 'T61STRING'])
        assert.equal(parsed(certs.bmp.der).subject_cn, 'Café ☃')
        assert.equal(parsed(certs.t61.der).subject_cn, 'Café')
        assert.equal(parsed(certs.utf8.der).subject_cn, 'Zoë Ünïcødé 日本 ☃')
      },
    )

    await t.test('GeneralizedTime from 2050 on, UTCTime before', () => {
      const c = parsed(certs.future.der)
      assert.ok(c.not_after !== null && c.not_after >= '2050')
      const out = openssl(['asn1parse', '-in', certs.future.path], dir)
      assert.match(out, /prim: UTCTIME/)
      assert.match(out, /prim: GENERALIZEDTIME/)
    })

    await t.test('truncated at every offset: never throws, fails or flags', () => {
      const der = certs.leaf.der
      for (let n = 0; n < der.length; n++) {
        const r = parseCertificate(der.subarray(0, n))
        assert.equal(r.ok, false, `prefix ${n} parsed`)
      }
    })
  },
)

// Hand-built DER: tiny, so the expected values are read off the bytes.
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'))
/** One DER TLV in hex; the length (short or 2-octet long form) is computed. */
const tlv = (tag: string, body: string): string => {
  const n = body.length / 2
  const len = n < 0x80 ? n.toString(16).padStart(2, '0') : `82${n.toString(16).padStart(4, '0')}`
  return tag + len + body
}

/** A minimal v3 certificate around the given TBS parts (no key, no real signature). */
function certWith(parts: {
  version?: string
  serial?: string
  issuer?: string
  validity?: string
  subject?: string
  extensions?: string
  algorithm?: string
}): Uint8Array {
  const alg = parts.algorithm ?? tlv('30', tlv('06', '2a8648ce3d040302'))
  const name = tlv('30', tlv('31', tlv('30', tlv('06', '550403') + tlv('0c', '41'))))
  const tbs = tlv(
    '30',
    (parts.version ?? tlv('a0', tlv('02', '02'))) +
      (parts.serial ?? tlv('02', '01')) +
      alg +
      (parts.issuer ?? name) +
      (parts.validity ??
        tlv(
          '30',
          tlv('17', '3234303133313132303030305a') + tlv('17', '3234303133313132303030305a'),
        )) +
      (parts.subject ?? name) +
      tlv('30', tlv('30', tlv('06', '2a8648ce3d0201')) + tlv('03', '0000')) +
      (parts.extensions ?? ''),
  )
  return hex(tlv('30', tbs + alg + tlv('03', '00')))
}

test('hand-built certificate: minimal fields', () => {
  const c = parsed(certWith({}))
  assert.equal(c.version, 3)
  assert.equal(c.serial, '01')
  assert.equal(c.subject, 'CN=A')
  assert.equal(c.not_before, '2024-01-31T12:00:00Z')
  assert.equal(c.self_signed, true)
  assert.deepEqual(c.anomalies, [])
})

test('serial: leading sign octet dropped, negatives and long serials flagged', () => {
  assert.equal(parsed(certWith({ serial: '020300ff01' })).serial, 'ff01')
  const neg = parsed(certWith({ serial: '0201fb' }))
  assert.equal(neg.serial, '-05')
  assert.deepEqual(neg.anomalies, ['x509.serial_not_positive'])
  const big = parsed(certWith({ serial: '0215' + '01'.repeat(21) }))
  assert.deepEqual(big.anomalies, ['x509.serial_too_long'])
  assert.deepEqual(parsed(certWith({ serial: '02020001' })).anomalies, ['x509.bad_serial'])
})

test('bad times are anomalies; the rest of the certificate is kept', () => {
  // UTCTime "240230120000Z": February 30th.
  const feb30 = tlv('17', Buffer.from('240230120000Z').toString('hex'))
  const jan31 = tlv('17', Buffer.from('240131120000Z').toString('hex'))
  const c = parsed(certWith({ validity: tlv('30', feb30 + jan31) }))
  assert.equal(c.not_before, null)
  assert.equal(c.not_after, '2024-01-31T12:00:00Z')
  assert.deepEqual(c.anomalies, ['x509.bad_time'])
  assert.equal(c.subject, 'CN=A')
  // Only one time in Validity.
  const one = parsed(certWith({ validity: tlv('30', jan31) }))
  assert.equal(one.not_before, '2024-01-31T12:00:00Z')
  assert.equal(one.not_after, null)
  assert.deepEqual(one.anomalies, ['x509.bad_validity'])
})

test('subjectAltName: malformed entries are anomalies, readable ones kept', () => {
  // GeneralNames: [2] "a", [7] 01020304, [7] 010203 (bad length), [8] registeredID (not read)
  const gns = tlv('30', '820161' + '870401020304' + '8703010203' + '88032a0304')
  const ext = tlv('30', tlv('06', '551d11') + tlv('04', gns))
  const c = parsed(certWith({ extensions: tlv('a3', tlv('30', ext)) }))
  assert.deepEqual(c.sans, [
    { type: 'dns', value: 'a' },
    { type: 'ip', value: '1.2.3.4' },
  ])
  assert.deepEqual(c.anomalies, ['x509.bad_san'])
  assert.deepEqual(
    c.extensions.map((e) => e.oidHex),
    ['551d11'],
  )
})

test('duplicate and malformed extensions: OIDs kept in order, anomalies set', () => {
  // keyUsage (critical) twice, then an Extension whose value is an INTEGER, not an OCTET STRING.
  const ku = tlv('30', tlv('06', '551d0f') + '0101ff' + tlv('04', '030205a0'))
  const bad = tlv('30', tlv('06', '551d13') + '0201ff')
  const c = parsed(certWith({ extensions: tlv('a3', tlv('30', ku + ku + bad)) }))
  assert.deepEqual(
    c.extensions.map((e) => [e.oidHex, e.critical]),
    [
      ['551d0f', true],
      ['551d0f', true],
      ['551d13', false],
    ],
  )
  assert.deepEqual(c.anomalies, ['x509.duplicate_extension', 'x509.bad_extension'])
})

test('unknown attribute value type, unknown attribute OID: #hex forms (RFC 4514 §2.4)', () => {
  // RDN 1: 1.2.3.4 = UTF8String "x"; RDN 2: CN = OCTET STRING 00
  const rdn1 = tlv('31', tlv('30', tlv('06', '2a0304') + tlv('0c', '78')))
  const rdn2 = tlv('31', tlv('30', tlv('06', '550403') + tlv('04', '00')))
  const c = parsed(certWith({ subject: tlv('30', rdn1 + rdn2) }))
  assert.equal(c.subject, 'CN=#040100,1.2.3.4=#0c0178')
  assert.deepEqual(
    c.subject_attributes.map((a) => [a.oid, a.value]),
    [
      ['1.2.3.4', 'x'],
      ['2.5.4.3', '#040100'],
    ],
  )
  assert.deepEqual(c.anomalies, ['x509.unknown_string_type'])
  assert.equal(c.self_signed, false)
})

test('broken Name inside a framed SEQUENCE: attributes before the break are kept', () => {
  // The second RDN's SET holds 7 bytes, but its AttributeTypeAndValue claims 9.
  const rdn1 = tlv('31', tlv('30', tlv('06', '550406') + tlv('13', '58')))
  const rdn2 = tlv('31', '3009' + tlv('06', '550403'))
  const c = parsed(certWith({ issuer: tlv('30', rdn1 + rdn2) }))
  assert.deepEqual(
    c.issuer_attributes.map((a) => a.oidHex),
    ['550406'],
  )
  assert.deepEqual(c.anomalies, ['x509.bad_name'])
})

test('outer structure unreadable: ok false, never a throw', () => {
  for (const bad of ['', '30', '3080', '300100', '0500', '3003020101', '30843b9aca00']) {
    const r = parseCertificate(hex(bad))
    assert.equal(r.ok, false, bad)
  }
  // Indefinite length is BER only (X.690 §10.1).
  const r = parseCertificate(hex('30800000'))
  assert.ok(!r.ok && r.error.code === 'unsupported')
})

test('signatureAlgorithm differing from TBSCertificate.signature is flagged', () => {
  const der = certWith({})
  // Patch the outer algorithm's last OID byte (ecdsa-with-SHA256 → SHA384).
  const copy = der.slice()
  const at = copy.length - 4
  assert.equal(copy[at], 0x02)
  copy[at] = 0x03
  const c = parsed(copy)
  assert.equal(c.signature_algorithm, '1.2.840.10045.4.3.3')
  assert.deepEqual(c.anomalies, ['x509.signature_algorithm_mismatch'])
})

test('trailing bytes after the Certificate are flagged, the certificate still parsed', () => {
  const der = certWith({})
  const c = parsed(Uint8Array.from([...der, 0]))
  assert.deepEqual(c.anomalies, ['x509.trailing_bytes'])
})

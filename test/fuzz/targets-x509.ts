/**
 * Fuzz targets for certificates: the DER / X.509 parser with JA4X on top, and the TLS Certificate
 * message framing feeding it. Seeds are real openssl-made certificates (seeds-x509.ts).
 */
import { ByteBuilder } from '../../src/bytes/builder.ts'
import { parseCertificate } from '../../src/protocols/x509/certificate.ts'
import { parseCertificateMessage } from '../../src/protocols/tls/certificate-message.ts'
import { ja4x } from '../../src/fingerprints/ja4plus/ja4x.ts'
import { X509_SEED_DERS } from './seeds-x509.ts'
import type { Target } from './targets.ts'

const JA4X = /^[0-9a-f]{12}_[0-9a-f]{12}_[0-9a-f]{12}$/

/** Parses one certificate and fingerprints it; checks invariants any accepted input must keep. */
function certificate(der: Uint8Array): void {
  const r = parseCertificate(der)
  if (!r.ok) return
  const c = r.value
  const fp = ja4x(c)
  if (!JA4X.test(fp.ja4x)) throw new Error(`malformed ja4x ${fp.ja4x}`)
  if (fp.ja4x_r.split('_').length !== 3) throw new Error(`malformed ja4x_r ${fp.ja4x_r}`)
  if (c.anomalies.length !== new Set(c.anomalies).size) throw new Error('duplicate anomaly codes')
  for (const t of [c.not_before, c.not_after]) {
    if (t !== null && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(t)) throw new Error(`bad time ${t}`)
  }
}

function certificateMessage(body: Uint8Array, tls13: boolean): void {
  const r = parseCertificateMessage(body, { tls13 })
  if (r.ok) for (const der of r.value.certificates) certificate(der)
}

// Certificate handshake bodies around the seed chain (RFC 5246 §7.4.2, RFC 8446 §4.4.2).
const tls12Body = new ByteBuilder()
  .vec24((l) => {
    for (const der of X509_SEED_DERS.slice(0, 2)) l.vec24((b) => b.bytes(der))
  })
  .build()
const tls13Body = new ByteBuilder()
  .vec8(() => {})
  .vec24((l) => {
    for (const der of X509_SEED_DERS.slice(0, 2))
      l.vec24((b) => b.bytes(der)).vec16((b) => b.u16(5).vec16((o) => o.bytes([1, 2, 3])))
  })
  .build()

export const x509Targets: Target[] = [
  {
    name: 'x509-certificate',
    seeds: [...X509_SEED_DERS],
    run: (input) => certificate(input),
  },
  {
    name: 'tls-certificate-message',
    seeds: [tls12Body, tls13Body],
    run: (input) => {
      certificateMessage(input, false)
      certificateMessage(input, true)
    },
  },
]

/**
 * @module fingerprints/ja4plus/ja4x
 * JA4X X.509 certificate fingerprint (FoxIO License 1.1, see ./LICENSE), FINGERPRINTS.md §6:
 * `a_b_c` with a = hash of the issuer attribute-type OIDs, b = the same for the subject, c = hash
 * of the extension OIDs; each list in wire order, each OID as the hex of its DER content octets.
 * Values never count, only which OIDs appear and in what order.
 */

import type { Certificate } from '../../protocols/x509/certificate.ts'
import { EMPTY_HASH12, hash12 } from '../hash.ts'

export interface Ja4xResult {
  ja4x: string
  /** `<issuer oids>_<subject oids>_<extension oids>`, each comma-joined, empty when absent. */
  ja4x_r: string
}

function section(oids: readonly { oidHex: string }[]): { text: string; digest: string } {
  const text = oids.map((o) => o.oidHex).join(',')
  // FINGERPRINTS.md §0: an empty list prints zeros, not the hash of "".
  return { text, digest: oids.length === 0 ? EMPTY_HASH12 : hash12(text) }
}

/**
 * JA4X of one parsed certificate.
 * @example ja4x(cert).ja4x // 'a373a9f83c6b_2bab15409345_0f2217ba412e'
 */
export function ja4x(cert: Certificate): Ja4xResult {
  const a = section(cert.issuer_attributes)
  const b = section(cert.subject_attributes)
  const c = section(cert.extensions)
  return {
    ja4x: `${a.digest}_${b.digest}_${c.digest}`,
    ja4x_r: `${a.text}_${b.text}_${c.text}`,
  }
}

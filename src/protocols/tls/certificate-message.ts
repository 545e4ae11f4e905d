/**
 * @module protocols/tls/certificate-message
 * The Certificate handshake message body (handshake type 11): the chain as DER views, not yet
 * parsed as X.509 (see `protocols/x509`). DTLS uses the TLS layout.
 */

import { ByteReader, parseWith, type ParseResult } from '../../bytes/reader.ts'
import { MAX_CERT_CHAIN_LENGTH } from '../limits.ts'

/** What can be wrong with a Certificate message that still yields certificates. */
export type CertificateMessageAnomaly =
  | 'tls.certificate_list_length_mismatch'
  | 'tls.certificate_truncated'
  | 'tls.certificate_empty'
  | 'tls.certificate_chain_too_long'
  | 'tls.certificate_extensions_malformed'

export const CERTIFICATE_MESSAGE_ANOMALIES: Readonly<Record<CertificateMessageAnomaly, string>> = {
  'tls.certificate_list_length_mismatch':
    'certificate_list length disagrees with the message body; what fits was read.',
  'tls.certificate_truncated': 'A certificate entry runs past certificate_list; it was dropped.',
  'tls.certificate_empty':
    'A zero-length certificate (RFC 5246 §7.4.2, RFC 8446 §4.4.2: <1..2^24-1>).',
  'tls.certificate_chain_too_long':
    'More than MAX_CERT_CHAIN_LENGTH certificates; the rest were ignored.',
  'tls.certificate_extensions_malformed':
    'A TLS 1.3 CertificateEntry extensions block overruns the list (RFC 8446 §4.4.2).',
}

export interface CertificateMessage {
  /** DER certificates in chain order (sender's certificate first), views into the body. */
  certificates: Uint8Array[]
  /** TLS 1.3 certificate_request_context (empty for a server's certificate); empty before 1.3. */
  requestContext: Uint8Array
  anomalies: CertificateMessageAnomaly[]
}

export interface CertificateMessageOptions {
  /** The TLS 1.3 layout (RFC 8446 §4.4.2) instead of TLS ≤ 1.2 (RFC 5246 §7.4.2). */
  tls13: boolean
}

function add(list: CertificateMessageAnomaly[], code: CertificateMessageAnomaly): void {
  if (!list.includes(code)) list.push(code)
}

/**
 * Parses a Certificate handshake body (without the 4-byte handshake header). `{ ok: false }` only
 * when the list header itself is unreadable; a list longer or shorter than the body, a broken
 * entry or an overlong chain are anomalies, and every complete certificate before them is kept.
 */
export function parseCertificateMessage(
  body: Uint8Array,
  opts: CertificateMessageOptions,
): ParseResult<CertificateMessage> {
  return parseWith('tls.certificate', () => {
    const r = new ByteReader(body)
    const anomalies: CertificateMessageAnomaly[] = []
    // RFC 8446 §4.4.2: opaque certificate_request_context<0..2^8-1>
    const requestContext = opts.tls13 ? r.vec8().rest() : new Uint8Array(0)
    // RFC 5246 §7.4.2 / RFC 8446 §4.4.2: certificate_list<0..2^24-1>
    const declared = r.u24()
    if (declared !== r.remaining) add(anomalies, 'tls.certificate_list_length_mismatch')
    const list = r.sub(Math.min(declared, r.remaining))
    const certificates: Uint8Array[] = []
    while (!list.atEnd) {
      if (certificates.length === MAX_CERT_CHAIN_LENGTH) {
        add(anomalies, 'tls.certificate_chain_too_long')
        break
      }
      // opaque ASN1Cert<1..2^24-1> (TLS 1.3: CertificateEntry.cert_data, same bounds)
      if (list.remaining < 3) {
        add(anomalies, 'tls.certificate_truncated')
        break
      }
      const len = list.u24()
      if (len > list.remaining) {
        add(anomalies, 'tls.certificate_truncated')
        break
      }
      const cert = list.bytes(len)
      if (len === 0) add(anomalies, 'tls.certificate_empty')
      else certificates.push(cert)
      if (opts.tls13) {
        // Extension extensions<0..2^16-1>; their content (OCSP, SCT) is not read here.
        if (list.remaining < 2 || list.peekU16() + 2 > list.remaining) {
          add(anomalies, 'tls.certificate_extensions_malformed')
          break
        }
        list.skip(list.u16())
      }
    }
    return { certificates, requestContext, anomalies }
  })
}

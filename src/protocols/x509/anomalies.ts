/**
 * @module protocols/x509/anomalies
 * What each X.509 anomaly code means. The `Record` type keeps the list exhaustive: a code added to
 * `X509Anomaly` without a description fails to compile.
 */

export type X509Anomaly =
  | 'x509.trailing_bytes'
  | 'x509.bad_version'
  | 'x509.extensions_not_v3'
  | 'x509.bad_serial'
  | 'x509.serial_not_positive'
  | 'x509.serial_too_long'
  | 'x509.bad_algorithm'
  | 'x509.signature_algorithm_mismatch'
  | 'x509.bad_name'
  | 'x509.empty_issuer'
  | 'x509.bad_oid'
  | 'x509.unknown_string_type'
  | 'x509.bad_string'
  | 'x509.too_many_name_attributes'
  | 'x509.bad_validity'
  | 'x509.bad_time'
  | 'x509.time_not_rfc5280'
  | 'x509.validity_inverted'
  | 'x509.bad_extensions'
  | 'x509.bad_extension'
  | 'x509.duplicate_extension'
  | 'x509.too_many_extensions'
  | 'x509.bad_san'
  | 'x509.too_many_sans'

export const X509_ANOMALIES: Readonly<Record<X509Anomaly, string>> = {
  'x509.trailing_bytes': 'Bytes follow a complete Certificate, TBSCertificate or field.',
  'x509.bad_version': 'The version is not INTEGER 0, 1 or 2 (RFC 5280 §4.1.2.1).',
  'x509.extensions_not_v3':
    'Extensions are present in a certificate that is not v3 (RFC 5280 §4.1.2.1).',
  'x509.bad_serial': 'The serial number is empty or not minimally encoded (X.690 §8.3.2).',
  'x509.serial_not_positive': 'The serial number is zero or negative (RFC 5280 §4.1.2.2).',
  'x509.serial_too_long': 'The serial number is longer than 20 octets (RFC 5280 §4.1.2.2).',
  'x509.bad_algorithm': 'An AlgorithmIdentifier does not start with an OBJECT IDENTIFIER.',
  'x509.signature_algorithm_mismatch':
    'signatureAlgorithm differs from TBSCertificate.signature (RFC 5280 §4.1.1.2).',
  'x509.bad_name': 'An issuer or subject Name is malformed; the attributes before it are kept.',
  'x509.empty_issuer': 'The issuer Name is empty (RFC 5280 §4.1.2.4).',
  'x509.bad_oid': 'An OBJECT IDENTIFIER cannot be decoded; its hex form is still used.',
  'x509.unknown_string_type': 'An attribute value is not a known string type; shown as #hex.',
  'x509.bad_string': 'A string holds characters or octets its type does not allow.',
  'x509.too_many_name_attributes': 'A Name has more than MAX_X509_NAME_ATTRIBUTES attributes.',
  'x509.bad_validity': 'The Validity sequence does not hold two times.',
  'x509.bad_time': 'A validity time cannot be decoded.',
  'x509.time_not_rfc5280':
    'A validity time is decodable but not in the RFC 5280 §4.1.2.5 form (seconds, Z, UTCTime until 2049).',
  'x509.validity_inverted': 'notBefore is later than notAfter.',
  'x509.bad_extensions': 'The extensions block is malformed; the extensions before it are kept.',
  'x509.bad_extension': 'One Extension is malformed (its OID is kept when readable).',
  'x509.duplicate_extension': 'An extension OID appears twice (RFC 5280 §4.2).',
  'x509.too_many_extensions': 'More than MAX_X509_EXTENSIONS extensions; the rest were ignored.',
  'x509.bad_san': 'subjectAltName is malformed or holds an unreadable entry (RFC 5280 §4.2.1.6).',
  'x509.too_many_sans':
    'More than MAX_X509_SAN_ENTRIES subjectAltName entries; the rest were ignored.',
}

/** Appends `code` once. */
export function addX509Anomaly(list: X509Anomaly[], code: X509Anomaly): void {
  if (!list.includes(code)) list.push(code)
}

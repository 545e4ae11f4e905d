/**
 * @module protocols/x509
 * X.509 certificates from the wire: a bounded DER walker and `parseCertificate` (RFC 5280 §4.1)
 * giving names, validity, serial, extension OIDs and subjectAltName as typed values with anomaly
 * codes. Pure and non-throwing; only the SHA-256 digest uses `node:crypto` (digest.ts).
 */
export {
  parseCertificate,
  type Certificate,
  type CertificateExtension,
  type SubjectAltName,
} from './certificate.ts'
export type { NameAttribute } from './name.ts'
export { X509_ANOMALIES, type X509Anomaly } from './anomalies.ts'
export {
  DerReader,
  DerTag,
  decodeBoolean,
  decodeOid,
  decodeSmallInteger,
  oidHex,
  readOid,
  type DerClass,
  type DerTlv,
} from './der.ts'
export { decodeTime, type DecodedTime } from './time.ts'
export { escapeRfc4514 } from './name.ts'
export * from './limits.ts'

/**
 * @module protocols/tls
 * TLS and DTLS handshake decoding, pure and bounded: `TlsHandshakeStream` (one TCP direction,
 * finds TLS behind STARTTLS / SOCKS / CONNECT prefixes, frames records, reassembles handshake
 * messages), `DtlsHandshakeStream` (one UDP direction), `parseClientHello` / `parseServerHello`
 * (typed results with anomaly codes) and the IANA name tables.
 */
export type * from './types.ts'
export {
  TlsHandshakeStream,
  type TlsHandshakeStreamOptions,
  type TlsStreamState,
} from './stream.ts'
export { DtlsHandshakeStream, looksLikeDtls, isDtlsVersion, type DtlsStreamState } from './dtls.ts'
export {
  ContentType,
  HandshakeType,
  TlsRecordFramer,
  looksLikeSslv2Hello,
  type FramerOutput,
  type TlsRecord,
} from './record.ts'
export { parseClientHello, type HelloParseOptions } from './client-hello.ts'
export { parseServerHello, HELLO_RETRY_REQUEST_RANDOM } from './server-hello.ts'
export { ExtensionType, isDnsName } from './extensions.ts'
export {
  isGrease,
  hexName,
  versionName,
  cipherSuiteName,
  extensionName,
  groupName,
  signatureAlgorithmName,
  handshakeTypeName,
} from './registry.ts'
export { TLS_ANOMALIES } from './anomalies.ts'

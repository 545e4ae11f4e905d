/** @module protocols/tls/types — normalized TLS / DTLS handshake records. */

/** Typed anomaly codes; detection rules match on them. Protocol code adds to this union. */
export type TlsAnomaly =
  | 'tls.record_length_mismatch'
  | 'tls.record_too_long'
  | 'tls.bad_record_version'
  | 'tls.handshake_too_long'
  | 'tls.handshake_truncated'
  | 'tls.hello_length_mismatch'
  | 'tls.trailing_bytes'
  | 'tls.duplicate_extension'
  | 'tls.too_many_extensions'
  | 'tls.extension_length_mismatch'
  | 'tls.sni_not_hostname'
  | 'tls.sni_malformed'
  | 'tls.alpn_malformed'
  | 'tls.alpn_empty_protocol'
  | 'tls.supported_versions_malformed'
  | 'tls.supported_versions_only_grease'
  | 'tls.supported_groups_malformed'
  | 'tls.signature_algorithms_malformed'
  | 'tls.ec_point_formats_malformed'
  | 'tls.no_cipher_suites'
  | 'tls.odd_cipher_suites_length'
  | 'tls.no_compression_methods'
  | 'tls.session_id_too_long'
  | 'tls.sslv2_hello'
  | 'tls.session_id_overrun'
  | 'tls.client_hello_not_seen'
  | 'tls.probe_limit'
  | 'tls.direction_limit'
  | 'tls.bad_content_type'
  | 'tls.empty_record'
  | 'tls.handshake_interleaved'
  | 'tls.alpn_count_invalid'
  | 'dtls.bad_record'
  | 'dtls.fragment_overlap_mismatch'
  | 'dtls.too_many_pending_messages'
  | 'dtls.bad_fragment'

export interface TlsExtension {
  type: number
  /** Extension body (view into the hello). */
  data: Uint8Array
}

/** A ClientHello as on the wire: every list in wire order, GREASE kept. */
export interface ClientHello {
  /** `legacy_version` of the hello body (RFC 8446 §4.1.2), not the record version. */
  legacyVersion: number
  random: Uint8Array
  sessionId: Uint8Array
  /** DTLS only (RFC 6347 §4.2.1). */
  cookie: Uint8Array | undefined
  cipherSuites: number[]
  compressionMethods: number[]
  extensions: TlsExtension[]
  /** Decoded from the extensions above (undefined/empty when absent or malformed). */
  sni: string | undefined
  /** ALPN protocol names, raw bytes, in offer order. */
  alpn: Uint8Array[]
  /** supported_versions (0x002b) list, GREASE kept; empty when absent. */
  supportedVersions: number[]
  /** supported_groups (0x000a), GREASE kept. */
  supportedGroups: number[]
  /** ec_point_formats (0x000b). */
  ecPointFormats: number[]
  /** signature_algorithms (0x000d) only, GREASE kept. */
  signatureAlgorithms: number[]
  /** Handshake body length (without the 4-byte handshake header). */
  bodyLength: number
  anomalies: TlsAnomaly[]
}

/** A ServerHello or HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4). */
export interface ServerHello {
  legacyVersion: number
  random: Uint8Array
  sessionId: Uint8Array
  cipherSuite: number
  compressionMethod: number
  extensions: TlsExtension[]
  /** selected_version from supported_versions (0x002b), when present. */
  selectedVersion: number | undefined
  /** ALPN protocol chosen by the server (raw bytes), when present. */
  alpn: Uint8Array | undefined
  /** The random equals SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3). */
  isHelloRetryRequest: boolean
  bodyLength: number
  anomalies: TlsAnomaly[]
}

/** A complete, defragmented handshake message. */
export interface HandshakeMessage {
  /** HandshakeType (1 client_hello, 2 server_hello, 11 certificate, …). */
  type: number
  /** Message body without the 4-byte (TLS) or 12-byte (DTLS) header. Owned copy or stable view. */
  body: Uint8Array
  /** Version field of the record that started the message. */
  recordVersion: number
  /** Byte offset of the message start within the direction's stream (TLS) or 0 (DTLS). */
  streamOffset: number
  /**
   * ServerHello only: up to `MAX_FOLLOWING_BYTES` of the stream right after the message, from
   * the same delivered chunk (see `parseServerHello`'s session-id overrun rule).
   */
  following?: Uint8Array
}

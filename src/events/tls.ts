/** @module events/tls — the `tls` event: one per ClientHello, with the answering ServerHello. */

export type Transport = 'tcp' | 'quic' | 'dtls'

/**
 * A certificate seen in cleartext (TLS <= 1.2 Certificate messages, server chain and client
 * certificates; TLS 1.3 and QUIC send them encrypted).
 */
export interface CertInfo {
  /** Who sent it. */
  role: 'server' | 'client'
  /** Position in its Certificate message (0 = leaf). */
  index: number
  /** Distinguished names as RFC 4514 text, and their common names (null when absent). */
  subject: string
  subject_cn: string | null
  issuer: string
  issuer_cn: string | null
  /** subjectAltName entries: DNS names, IP addresses, e-mail addresses and URIs as text. */
  sans: string[]
  /** Validity, ISO 8601 UTC; null when the DER time does not parse. */
  not_before: string | null
  not_after: string | null
  /** Serial number, lower-case hex. */
  serial: string
  /** SHA-256 of the DER certificate, lower-case hex. */
  sha256: string
  /** Issuer and subject names are byte-identical (the signature is not verified). */
  self_signed: boolean
  /** JA4X (FoxIO License 1.1): null when turned off. */
  ja4x: string | null
  ja4x_r: string | null
  /** Parser anomaly codes (`x509.*`). */
  anomalies: string[]
}

export interface TlsEvent {
  type: 'tls'
  /** Time of the packet that completed the ClientHello, ISO 8601 UTC with microseconds. */
  ts: string
  /** Sensor that saw it (NODE_NAME, else the host name). */
  sensor: string
  /** Client (sender of the ClientHello) and server endpoints, innermost headers. */
  src_ip: string
  src_port: number
  dst_ip: string
  dst_port: number
  transport: Transport
  /** 1-based index of this ClientHello on its flow (2 after a HelloRetryRequest); 0 if unseen. */
  hello_index: number
  sni: string | null
  /** ALPN protocols the client offers, in order (non-printable names as `0x…` hex). */
  alpn: string[]
  /**
   * Highest version the client offers (`1.3`, `1.2`, `dtls1.2`, `0x7f1c` for unknown); `ssl2`
   * for an SSLv2-format hello, null when the ClientHello was not seen.
   */
  tls_version: string | null
  /** Version the server selected, when its hello was seen. */
  tls_version_negotiated: string | null
  /**
   * Client fingerprints; null for an SSLv2-format hello (never fingerprinted) or when only the
   * ServerHello was captured (`hello_index` 0, anomaly `tls.client_hello_not_seen`).
   */
  ja3: string | null
  ja3_str: string | null
  ja4: string | null
  ja4_r: string | null
  ja4_o: string | null
  ja4_ro: string | null
  /**
   * JA4 without padding, pre_shared_key and early_data (a tlsight variant, see
   * docs/fingerprints.md): one value per client whether or not it resumes a session.
   */
  ja4_stable: string | null
  /** Resumption the client attempts: `session_ticket`, `psk`, `early_data`, `session_id`. */
  resumption: string[]
  ja3s: string | null
  ja3s_str: string | null
  /** JA4+ (FoxIO License 1.1): null when turned off or no ServerHello was seen. */
  ja4s: string | null
  ja4s_r: string | null
  /**
   * JA4+ of the TCP handshake (FoxIO License 1.1; null when turned off, for QUIC/DTLS, or when the
   * SYN / SYN-ACK was not captured): JA4T of the client SYN, JA4TS of the SYN-ACK, JA4L client
   * and server latency (`µs_ttl`).
   */
  ja4t: string | null
  ja4ts: string | null
  ja4l_c: string | null
  ja4l_s: string | null
  /**
   * Tempesta FW's TFt of the ClientHello (docs/tempesta.md), and `tft_stable`, its variant without
   * GREASE and resumption-dependent extensions (a tlsight variant).
   */
  tft: string | null
  tft_stable: string | null
  /**
   * Cloudflare's `cf.tls_ciphers_sha1`, `cf.tls_client_extensions_sha1` (Base64 SHA-1 of the
   * big-endian cipher-suite / extension-type values as sent) and `cf.tls_client_hello_length`
   * (docs/cloudflare.md).
   */
  cf_ciphers_sha1: string | null
  cf_extensions_sha1: string | null
  hello_length: number | null
  /** Certificates seen in cleartext on the connection, in order. */
  certs: CertInfo[]
  /** Anomaly codes of the flow's parsers (hello, stream, server hello), deduplicated. */
  anomalies: string[]
}

/** Field order of a `tls` event, shared by the JSON schema, table output and stores. */
export const TLS_EVENT_FIELDS = [
  'type',
  'ts',
  'sensor',
  'src_ip',
  'src_port',
  'dst_ip',
  'dst_port',
  'transport',
  'hello_index',
  'sni',
  'alpn',
  'tls_version',
  'tls_version_negotiated',
  'ja3',
  'ja3_str',
  'ja4',
  'ja4_r',
  'ja4_o',
  'ja4_ro',
  'ja4_stable',
  'resumption',
  'ja3s',
  'ja3s_str',
  'ja4s',
  'ja4s_r',
  'ja4t',
  'ja4ts',
  'ja4l_c',
  'ja4l_s',
  'tft',
  'tft_stable',
  'cf_ciphers_sha1',
  'cf_extensions_sha1',
  'hello_length',
  'certs',
  'anomalies',
] as const satisfies readonly (keyof TlsEvent)[]

const nullableString = { type: ['string', 'null'] }

/** Field order of a certificate entry. */
export const CERT_FIELDS = [
  'role',
  'index',
  'subject',
  'subject_cn',
  'issuer',
  'issuer_cn',
  'sans',
  'not_before',
  'not_after',
  'serial',
  'sha256',
  'self_signed',
  'ja4x',
  'ja4x_r',
  'anomalies',
] as const satisfies readonly (keyof CertInfo)[]

/** JSON Schema (draft 2020-12) of the `tls` event. */
export const tlsEventSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://tlsight.dev/schema/tls-event.json',
  title: 'tlsight tls event',
  type: 'object',
  additionalProperties: false,
  required: [...TLS_EVENT_FIELDS],
  properties: {
    type: { const: 'tls' },
    ts: { type: 'string', format: 'date-time' },
    sensor: { type: 'string' },
    src_ip: { type: 'string' },
    src_port: { type: 'integer', minimum: 0, maximum: 65535 },
    dst_ip: { type: 'string' },
    dst_port: { type: 'integer', minimum: 0, maximum: 65535 },
    transport: { enum: ['tcp', 'quic', 'dtls'] },
    hello_index: { type: 'integer', minimum: 0 },
    sni: nullableString,
    alpn: { type: 'array', items: { type: 'string' } },
    tls_version: nullableString,
    tls_version_negotiated: nullableString,
    ja3: { type: ['string', 'null'], pattern: '^[0-9a-f]{32}$' },
    ja3_str: nullableString,
    ja4: nullableString,
    ja4_r: nullableString,
    ja4_o: nullableString,
    ja4_ro: nullableString,
    ja4_stable: nullableString,
    resumption: {
      type: 'array',
      items: { enum: ['session_ticket', 'psk', 'early_data', 'session_id'] },
    },
    ja3s: nullableString,
    ja3s_str: nullableString,
    ja4s: nullableString,
    ja4s_r: nullableString,
    ja4t: nullableString,
    ja4ts: nullableString,
    ja4l_c: nullableString,
    ja4l_s: nullableString,
    tft: { type: ['string', 'null'], pattern: '^[0-9a-f]{1,16}$' },
    tft_stable: { type: ['string', 'null'], pattern: '^[0-9a-f]{1,16}$' },
    cf_ciphers_sha1: nullableString,
    cf_extensions_sha1: nullableString,
    hello_length: { type: ['integer', 'null'], minimum: 0 },
    certs: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: [...CERT_FIELDS],
        properties: {
          role: { enum: ['server', 'client'] },
          index: { type: 'integer', minimum: 0 },
          subject: { type: 'string' },
          subject_cn: nullableString,
          issuer: { type: 'string' },
          issuer_cn: nullableString,
          sans: { type: 'array', items: { type: 'string' } },
          not_before: { type: ['string', 'null'], format: 'date-time' },
          not_after: { type: ['string', 'null'], format: 'date-time' },
          serial: { type: 'string', pattern: '^[0-9a-f]*$' },
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          self_signed: { type: 'boolean' },
          ja4x: nullableString,
          ja4x_r: nullableString,
          anomalies: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    anomalies: { type: 'array', items: { type: 'string' } },
  },
} as const

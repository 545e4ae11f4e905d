/**
 * @module protocols/tls/anomalies
 * What each TLS / DTLS anomaly code means. The `Record` type makes this list exhaustive: a code
 * added to `TlsAnomaly` without a description fails to compile.
 */

import type { TlsAnomaly } from './types.ts'

export const TLS_ANOMALIES: Readonly<Record<TlsAnomaly, string>> = {
  'tls.record_length_mismatch': 'A record length runs past the bytes that carry it.',
  'tls.record_too_long': 'A record is longer than 2^14 + 2048 bytes (RFC 5246 §6.2.3).',
  'tls.bad_record_version': 'A record version is not 0x0300..0x0304.',
  'tls.bad_content_type': 'A record has an unknown content type; the stream lost sync.',
  'tls.empty_record': 'A zero-length handshake record (RFC 8446 §5.1 forbids it).',
  'tls.handshake_too_long': 'A handshake message exceeds MAX_HANDSHAKE_BYTES and was skipped.',
  'tls.handshake_truncated': 'A handshake message ends before its declared length.',
  'tls.handshake_interleaved': 'Another record type arrived inside a fragmented handshake message.',
  'tls.hello_length_mismatch': 'A hello length disagrees with its contents.',
  'tls.trailing_bytes': 'Bytes follow the extension block inside a hello.',
  'tls.duplicate_extension': 'An extension type appears twice in one hello (RFC 8446 §4.2).',
  'tls.too_many_extensions': 'More than MAX_EXTENSIONS extensions; the rest were ignored.',
  'tls.extension_length_mismatch': 'An extension length disagrees with its block.',
  'tls.sni_not_hostname': 'The server_name is not a DNS host name (RFC 6066 §3).',
  'tls.sni_malformed': 'The server_name extension body is malformed.',
  'tls.alpn_malformed': 'The ALPN extension body is malformed.',
  'tls.alpn_empty_protocol': 'An ALPN protocol name is empty (RFC 7301 §3.1).',
  'tls.alpn_count_invalid': 'A server ALPN list does not hold exactly one name (RFC 7301 §3.1).',
  'tls.supported_versions_malformed': 'The supported_versions extension body is malformed.',
  'tls.supported_versions_only_grease': 'supported_versions lists only GREASE values.',
  'tls.supported_groups_malformed': 'The supported_groups extension body is malformed.',
  'tls.signature_algorithms_malformed': 'The signature_algorithms extension body is malformed.',
  'tls.ec_point_formats_malformed': 'The ec_point_formats extension body is malformed.',
  'tls.no_cipher_suites': 'The ClientHello offers no cipher suite.',
  'tls.odd_cipher_suites_length': 'The cipher suite list has an odd byte length.',
  'tls.no_compression_methods': 'The ClientHello offers no compression method.',
  'tls.session_id_too_long': 'The session id is longer than 32 bytes (RFC 8446 §4.1.2).',
  'tls.session_id_overrun':
    'The ServerHello session id runs past the message; fields read from the bytes after it, as Wireshark does.',
  'tls.client_hello_not_seen':
    'A ServerHello with no ClientHello before it on the flow (capture began mid-handshake, or an SSLv2 hello).',
  'tls.sslv2_hello': 'An SSL 2.0-format ClientHello (not fingerprinted).',
  'tls.probe_limit': 'No TLS start found within MAX_TLS_PROBE_BYTES.',
  'tls.direction_limit': 'MAX_TLS_DIRECTION_BYTES reached; the direction is no longer followed.',
  'dtls.bad_record': 'A datagram holds bytes that are not a DTLS record.',
  'dtls.fragment_overlap_mismatch': 'Overlapping DTLS handshake fragments disagree.',
  'dtls.too_many_pending_messages': 'More than MAX_DTLS_PENDING_MESSAGES partial messages.',
  'dtls.bad_fragment': 'A DTLS handshake fragment header is inconsistent.',
}

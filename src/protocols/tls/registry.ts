/**
 * @module protocols/tls/registry
 * Names for TLS registry values, from the IANA "Transport Layer Security (TLS) Parameters" and
 * "TLS ExtensionType Values" registries:
 * https://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml
 * https://www.iana.org/assignments/tls-extensiontype-values/tls-extensiontype-values.xhtml
 * Values are open enums: parsers keep every number, and an unknown one is shown as `0x1a2b`.
 * The tables hold the values seen in practice, not the whole registry.
 */

import { hex4 } from '../../bytes/hex.ts'

/** RFC 8701 §2: GREASE values are 0x?a?a with both bytes equal (0x0a0a, 0x1a1a, … 0xfafa). */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff)
}

/** `0x1a2b` form used for any value without a registered name. */
export function hexName(v: number): string {
  return '0x' + hex4(v)
}

function table(entries: [number, string][]): Map<number, string> {
  return new Map(entries)
}

const VERSIONS = table([
  [0x0002, 'SSL 2.0'],
  [0x0300, 'SSL 3.0'],
  [0x0301, 'TLS 1.0'],
  [0x0302, 'TLS 1.1'],
  [0x0303, 'TLS 1.2'],
  [0x0304, 'TLS 1.3'],
  [0x0100, 'DTLS 1.0 (OpenSSL pre-RFC)'],
  [0xfeff, 'DTLS 1.0'],
  [0xfefd, 'DTLS 1.2'],
  [0xfefc, 'DTLS 1.3'],
])

const CIPHER_SUITES = table([
  [0x0000, 'TLS_NULL_WITH_NULL_NULL'],
  [0x0004, 'TLS_RSA_WITH_RC4_128_MD5'],
  [0x0005, 'TLS_RSA_WITH_RC4_128_SHA'],
  [0x000a, 'TLS_RSA_WITH_3DES_EDE_CBC_SHA'],
  [0x0016, 'TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA'],
  [0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA'],
  [0x0032, 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA'],
  [0x0033, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA'],
  [0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA'],
  [0x0038, 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA'],
  [0x0039, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA'],
  [0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256'],
  [0x003d, 'TLS_RSA_WITH_AES_256_CBC_SHA256'],
  [0x0067, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256'],
  [0x006b, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256'],
  [0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256'],
  [0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384'],
  [0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256'],
  [0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384'],
  [0x00ff, 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV'],
  [0x1301, 'TLS_AES_128_GCM_SHA256'],
  [0x1302, 'TLS_AES_256_GCM_SHA384'],
  [0x1303, 'TLS_CHACHA20_POLY1305_SHA256'],
  [0x1304, 'TLS_AES_128_CCM_SHA256'],
  [0x1305, 'TLS_AES_128_CCM_8_SHA256'],
  [0x5600, 'TLS_FALLBACK_SCSV'],
  [0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA'],
  [0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA'],
  [0xc011, 'TLS_ECDHE_RSA_WITH_RC4_128_SHA'],
  [0xc012, 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA'],
  [0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'],
  [0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA'],
  [0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256'],
  [0xc024, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384'],
  [0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256'],
  [0xc028, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384'],
  [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
  [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
  [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
  [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
  [0xc09c, 'TLS_RSA_WITH_AES_128_CCM'],
  [0xc09d, 'TLS_RSA_WITH_AES_256_CCM'],
  [0xc0ac, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM'],
  [0xc0ad, 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM'],
  [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
])

const EXTENSIONS = table([
  [0x0000, 'server_name'],
  [0x0001, 'max_fragment_length'],
  [0x0005, 'status_request'],
  [0x000a, 'supported_groups'],
  [0x000b, 'ec_point_formats'],
  [0x000d, 'signature_algorithms'],
  [0x000e, 'use_srtp'],
  [0x000f, 'heartbeat'],
  [0x0010, 'application_layer_protocol_negotiation'],
  [0x0012, 'signed_certificate_timestamp'],
  [0x0015, 'padding'],
  [0x0016, 'encrypt_then_mac'],
  [0x0017, 'extended_master_secret'],
  [0x001b, 'compress_certificate'],
  [0x001c, 'record_size_limit'],
  [0x0022, 'delegated_credential'],
  [0x0023, 'session_ticket'],
  [0x0029, 'pre_shared_key'],
  [0x002a, 'early_data'],
  [0x002b, 'supported_versions'],
  [0x002c, 'cookie'],
  [0x002d, 'psk_key_exchange_modes'],
  [0x002f, 'certificate_authorities'],
  [0x0031, 'post_handshake_auth'],
  [0x0032, 'signature_algorithms_cert'],
  [0x0033, 'key_share'],
  [0x0039, 'quic_transport_parameters'],
  [0x4469, 'application_settings (draft)'],
  [0x44cd, 'application_settings'],
  [0xfe0d, 'encrypted_client_hello'],
  [0xff01, 'renegotiation_info'],
])

const GROUPS = table([
  [0x0017, 'secp256r1'],
  [0x0018, 'secp384r1'],
  [0x0019, 'secp521r1'],
  [0x001d, 'x25519'],
  [0x001e, 'x448'],
  [0x0100, 'ffdhe2048'],
  [0x0101, 'ffdhe3072'],
  [0x0102, 'ffdhe4096'],
  [0x0103, 'ffdhe6144'],
  [0x0104, 'ffdhe8192'],
  [0x11ec, 'X25519MLKEM768'],
  [0x6399, 'X25519Kyber768Draft00'],
])

const SIGNATURE_ALGORITHMS = table([
  [0x0201, 'rsa_pkcs1_sha1'],
  [0x0203, 'ecdsa_sha1'],
  [0x0401, 'rsa_pkcs1_sha256'],
  [0x0403, 'ecdsa_secp256r1_sha256'],
  [0x0501, 'rsa_pkcs1_sha384'],
  [0x0503, 'ecdsa_secp384r1_sha384'],
  [0x0601, 'rsa_pkcs1_sha512'],
  [0x0603, 'ecdsa_secp521r1_sha512'],
  [0x0804, 'rsa_pss_rsae_sha256'],
  [0x0805, 'rsa_pss_rsae_sha384'],
  [0x0806, 'rsa_pss_rsae_sha512'],
  [0x0807, 'ed25519'],
  [0x0808, 'ed448'],
  [0x0809, 'rsa_pss_pss_sha256'],
  [0x080a, 'rsa_pss_pss_sha384'],
  [0x080b, 'rsa_pss_pss_sha512'],
])

const HANDSHAKE_TYPES = table([
  [0, 'hello_request'],
  [1, 'client_hello'],
  [2, 'server_hello'],
  [3, 'hello_verify_request'],
  [4, 'new_session_ticket'],
  [8, 'encrypted_extensions'],
  [11, 'certificate'],
  [12, 'server_key_exchange'],
  [13, 'certificate_request'],
  [14, 'server_hello_done'],
  [15, 'certificate_verify'],
  [16, 'client_key_exchange'],
  [20, 'finished'],
  [22, 'certificate_status'],
  [24, 'key_update'],
])

function lookup(t: Map<number, string>, v: number): string {
  if (isGrease(v)) return 'GREASE'
  return t.get(v) ?? hexName(v)
}

/** `TLS 1.2`, `DTLS 1.3`, or `0x7f1c` for anything unregistered (drafts included). */
export function versionName(v: number): string {
  return lookup(VERSIONS, v)
}

export function cipherSuiteName(v: number): string {
  return lookup(CIPHER_SUITES, v)
}

export function extensionName(v: number): string {
  return lookup(EXTENSIONS, v)
}

export function groupName(v: number): string {
  return lookup(GROUPS, v)
}

export function signatureAlgorithmName(v: number): string {
  return lookup(SIGNATURE_ALGORITHMS, v)
}

/** Handshake message types (RFC 8446 §4, RFC 6347 §4.3.2); not a 16-bit registry, no GREASE. */
export function handshakeTypeName(v: number): string {
  return HANDSHAKE_TYPES.get(v) ?? '0x' + hex4(v).slice(2)
}

/**
 * @module protocols/limits
 * Every hard limit of the decoders, in one place, with its unit in the name. Crossing one yields
 * an anomaly and never unbounded memory.
 */

// Capture files (pcap / pcapng)
/** Largest captured packet we accept; pcapng blocks and pcap records above this are skipped. */
export const MAX_PACKET_BYTES = 262_144
/**
 * A pcap record above MAX_PACKET_BYTES but at most this size is skipped (streamed past, never
 * buffered); anything larger means the record headers are garbage and the file is corrupt.
 */
export const MAX_PCAP_SKIP_RECORD_BYTES = 16_777_216
/** Largest pcapng block of any type (an SHB with huge options, an unknown block). */
export const MAX_PCAPNG_BLOCK_BYTES = 16_777_216
/** Interfaces per pcapng section. */
export const MAX_PCAPNG_INTERFACES = 1_024

// Link / network layer
/** Nested encapsulations (VLAN, GRE, VXLAN, …) unwrapped before giving up. */
export const MAX_ENCAP_DEPTH = 8
/** IPv6 extension headers walked before giving up. */
export const MAX_IPV6_EXT_HEADERS = 16
/** IPv4 datagrams being reassembled at once. */
export const MAX_IP_FRAGMENT_DATAGRAMS = 4_096
/** Bytes of one reassembled IPv4 datagram (the IPv4 total-length ceiling). */
export const MAX_IP_DATAGRAM_BYTES = 65_535
/** Fragments of one datagram. */
export const MAX_IP_FRAGMENTS_PER_DATAGRAM = 64
/** Incomplete fragment sets are dropped after this long (RFC 791 suggests 15 s; Linux uses 30 s). */
export const IP_FRAGMENT_TIMEOUT_US = 30_000_000

// TCP / UDP flows
/** Flows tracked at once; the oldest idle flow is evicted when full. */
export const MAX_FLOWS_TRACKED = 1_000_000
/** A flow with no packet for this long is forgotten. */
export const FLOW_IDLE_TIMEOUT_US = 300_000_000
/**
 * A TCP connection whose handshakes are over is remembered (as a few bytes) this long after its
 * last packet unless its FINs or RST end it first, so its encrypted data is not taken for a new
 * flow. Linux keeps established-but-idle conntrack entries far longer; data after a longer pause
 * is probed again, which costs time but not correctness.
 */
export const FINISHED_FLOW_TIMEOUT_US = 120_000_000
/**
 * Connections closed by both FINs are remembered this long (Linux TIME-WAIT), so a late
 * retransmission is not taken for a new connection seen mid-stream…
 */
export const CLOSED_FLOW_TIMEOUT_US = 60_000_000
/** …and at most this many of them (the oldest is forgotten first). */
export const MAX_CLOSED_FLOWS_REMEMBERED = 16_384
/** Bytes of each TCP direction reassembled from its first byte: enough for hellos and chains. */
export const MAX_TCP_STREAM_BYTES = 262_144
/** Out-of-order segments held per direction while waiting for a gap to fill. */
export const MAX_TCP_PENDING_SEGMENTS = 256

// TLS
/** One handshake message (a ClientHello with huge padding or PQ key shares stays far below). */
export const MAX_HANDSHAKE_BYTES = 65_536
/** Handshake bytes inspected per direction before we stop following it. */
export const MAX_TLS_DIRECTION_BYTES = 262_144
/** Bytes scanned for a TLS record start when a stream does not begin with one (STARTTLS, …). */
export const MAX_TLS_PROBE_BYTES = 16_384
/** One TLS record's fragment (RFC 5246 §6.2.3: TLSCiphertext.length <= 2^14 + 2048). */
export const MAX_TLS_RECORD_BYTES = 18_432
/** Stream bytes kept after a ServerHello for the session-id overrun rule (Wireshark compatibility). */
export const MAX_FOLLOWING_BYTES = 300
/** Extensions in one hello. */
export const MAX_EXTENSIONS = 256
/** Certificates in one Certificate message. */
export const MAX_CERT_CHAIN_LENGTH = 10
/** Parsed certificates kept for reuse (most connections repeat a few chains). */
export const MAX_CACHED_CERTIFICATES = 1_024
/** DTLS handshake messages being reassembled per flow direction. */
export const MAX_DTLS_PENDING_MESSAGES = 8

// QUIC
/** Bytes of one direction's CRYPTO stream reassembled from offset 0 (Initial hellos sit far below). */
export const MAX_QUIC_CRYPTO_BYTES = 65_536
/** Disjoint byte ranges held per CRYPTO stream while waiting for gaps to fill. */
export const MAX_QUIC_CRYPTO_PENDING_CHUNKS = 64
/** Initial key sets cached by (version, client DCID); the cache is cleared when full. */
export const MAX_QUIC_INITIAL_KEY_CACHE_ENTRIES = 4_096

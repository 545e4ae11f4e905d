/** @module protocols/link/types — a packet decoded down to its innermost transport header. */

export type LinkAnomaly =
  | 'link.truncated'
  | 'link.unsupported_linktype'
  | 'link.unsupported_ethertype'
  | 'link.encap_too_deep'
  | 'ip.bad_header'
  | 'ip.bad_checksum'
  | 'ip.truncated'
  | 'ip.fragment_overlap'
  | 'ip.fragment_limit'
  | 'ip.fragment_timeout'
  | 'ipv6.too_many_ext_headers'
  | 'tcp.bad_header'
  | 'udp.bad_header'

export interface TcpHeader {
  seq: number
  ack: number
  /** The 8 flag bits (CWR ECE URG ACK PSH RST SYN FIN) plus NS in bit 8. */
  flags: number
  window: number
  /** Raw options bytes (after the 20-byte header, up to the data offset). */
  options: Uint8Array
}

export interface DecodedPacket {
  /** Innermost IP version. */
  ipVersion: 4 | 6
  /** Innermost addresses, 4 or 16 bytes (views). */
  srcIp: Uint8Array
  dstIp: Uint8Array
  /** TTL / hop limit of the outermost IP header (what JA4L uses when tunnelled). */
  ttl: number
  /** Innermost transport protocol number: 6 TCP or 17 UDP (other protocols are `ignored`). */
  protocol: number
  srcPort: number
  dstPort: number
  /** Set for TCP. */
  tcp: TcpHeader | undefined
  /** Transport payload (view, or a reassembled IPv4 datagram's bytes). */
  payload: Uint8Array
  /** At least one tunnel / encapsulation (GRE, VXLAN, Geneve, PPPoE, ERSPAN) was removed. */
  tunnelled: boolean
}

export type DecodeOutcome =
  | { kind: 'packet'; packet: DecodedPacket; anomalies: LinkAnomaly[] }
  /** An IPv4 fragment was stored; the datagram is not complete yet. */
  | { kind: 'fragment_held'; anomalies: LinkAnomaly[] }
  /** Not IP, or not a protocol we follow (ARP, LLDP, …); not an error. */
  | { kind: 'ignored'; anomalies: LinkAnomaly[] }
  | { kind: 'error'; anomalies: LinkAnomaly[] }

/**
 * @module protocols/link
 * Link and network decoding: from a captured frame (Ethernet, SLL, raw IP, loopback) through
 * VLAN/MPLS/PPPoE, IPv4/IPv6 with fragment reassembly and tunnels (GRE, ERSPAN, IP-in-IP, VXLAN,
 * Geneve, GTP-U) to the innermost TCP/UDP header. `formatIp` renders addresses for output.
 */
export { PacketDecoder, formatIp } from './decode.ts'
export type { PacketDecoderOptions } from './decode.ts'
export type { DecodeOutcome, DecodedPacket, LinkAnomaly, TcpHeader } from './types.ts'

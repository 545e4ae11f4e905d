/**
 * @module protocols/link/decode
 * Decodes a captured frame down to its innermost TCP/UDP header: link layers, VLAN/MPLS/PPPoE,
 * IPv4/IPv6 (with extension headers and fragment reassembly) and tunnels (GRE, ERSPAN, IP-in-IP,
 * VXLAN, Geneve, GTP-U). Works on views of the record and reuses its result objects, so a plain
 * TCP packet costs one allocation (the payload view).
 */
import {
  IP_FRAGMENT_TIMEOUT_US,
  MAX_ENCAP_DEPTH,
  MAX_IP_FRAGMENT_DATAGRAMS,
  MAX_IPV6_EXT_HEADERS,
} from '../limits.ts'
import { LinkType } from '../pcap/types.ts'
import { CapturedPacket } from '../pcap/reader.ts'
import type { PacketRecord } from '../pcap/types.ts'
import { FragmentTable } from './fragments.ts'
import { flowHashAt } from '../tcp/flows.ts'
import type { DecodeOutcome, DecodedPacket, LinkAnomaly, TcpHeader } from './types.ts'

// IEEE 802 EtherTypes (https://www.iana.org/assignments/ieee-802-numbers).
const ETH_IPV4 = 0x0800
const ETH_IPV6 = 0x86dd
const ETH_VLAN = 0x8100
const ETH_QINQ = 0x88a8
const ETH_QINQ_OLD = 0x9100
const ETH_MPLS_UC = 0x8847
const ETH_MPLS_MC = 0x8848
const ETH_PPPOE_SESSION = 0x8864
const ETH_TEB = 0x6558
const ETH_ERSPAN_2 = 0x88be
const ETH_ERSPAN_3 = 0x22eb
/** IEEE 802.3 §3.2.6: values up to 1500 are a length (802.3 + LLC), not an EtherType. */
const ETH_MAX_LENGTH = 0x05dc

// IANA protocol numbers.
const IPPROTO_HOPOPTS = 0
const IPPROTO_IPIP = 4
const IPPROTO_TCP = 6
const IPPROTO_UDP = 17
const IPPROTO_IPV6 = 41
const IPPROTO_ROUTING = 43
const IPPROTO_FRAGMENT = 44
const IPPROTO_GRE = 47
const IPPROTO_AH = 51
const IPPROTO_NONE = 59
const IPPROTO_DSTOPTS = 60
const IPPROTO_MOBILITY = 135

const UDP_VXLAN = 4789
const UDP_GENEVE = 6081
const UDP_GTPU = 2152

/** Shared by every TCP header without options (read-only by contract: views are not kept). */
const NO_OPTIONS = new Uint8Array(0)
/** Shared by every packet without payload. */
const NO_PAYLOAD = new Uint8Array(0)
/**
 * Shared by every outcome without anomalies (read-only by contract). Not frozen: iterating a
 * frozen array is several times slower in V8.
 */
const NO_ANOMALIES: LinkAnomaly[] = []

/** ARPHRD_NETLINK: SLL frames carrying netlink messages, whose protocol field is no EtherType. */
const ARPHRD_NETLINK = 824

export interface PacketDecoderOptions {
  /** Incomplete fragmented datagrams kept at once (default MAX_IP_FRAGMENT_DATAGRAMS). */
  maxFragmentDatagrams?: number
  /** Incomplete datagrams are dropped this long after their first fragment. */
  fragmentTimeoutUs?: number
}

function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0)
}

function u32(b: Uint8Array, o: number): number {
  return (
    (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0
  )
}

/** Endpoints of a plain IPv4 segment read by `peekPureAck` (addresses as unsigned 32-bit). */
export interface Ipv4Peek {
  src: number
  dst: number
  srcPort: number
  dstPort: number
}

/** The decoder's reused TCP header: the options view is made only when asked for. */
class ReusedTcpHeader implements TcpHeader {
  seq = 0
  ack = 0
  flags = 0
  window = 0
  #bytes: Uint8Array = NO_OPTIONS
  #start = 0
  #end = 0

  get options(): Uint8Array {
    return this.#end > this.#start ? this.#bytes.subarray(this.#start, this.#end) : NO_OPTIONS
  }

  setOptions(bytes: Uint8Array, start: number, end: number): void {
    this.#bytes = bytes
    this.#start = start
    this.#end = end
  }
}

/**
 * Stateful only for IP fragment reassembly; everything else is per call.
 *
 * NOTE: a `packet` outcome, its `DecodedPacket` and the views it holds (into the record, a
 * reassembled datagram or the decoder's own address buffers) are reused: they are valid only
 * until the next call, so consumers copy what they keep. Outcomes' `anomalies` are read-only.
 */
export class PacketDecoder {
  private readonly fragments: FragmentTable
  // Per-call state, reset by `decode` (fields rather than a context object: no allocation).
  private anomalies: LinkAnomaly[] = NO_ANOMALIES
  private ttl = -1
  private tunnelled = false
  private depth = 0
  private snapCut = false
  private tsUs = 0

  // Reused results (see the class note). Addresses are copied into fixed buffers: cheaper than
  // two views per packet.
  private readonly src4 = new Uint8Array(4)
  private readonly dst4 = new Uint8Array(4)
  private readonly src6 = new Uint8Array(16)
  private readonly dst6 = new Uint8Array(16)
  private readonly tcpHeader = new ReusedTcpHeader()
  private readonly pkt: DecodedPacket = {
    ipVersion: 4,
    srcIp: this.src4,
    dstIp: this.dst4,
    ttl: 0,
    protocol: 0,
    srcPort: 0,
    dstPort: 0,
    tcp: undefined,
    payload: NO_PAYLOAD,
    tunnelled: false,
  }
  private readonly packetOut: Extract<DecodeOutcome, { kind: 'packet' }> = {
    kind: 'packet',
    packet: this.pkt,
    anomalies: NO_ANOMALIES,
  }

  constructor(opts: PacketDecoderOptions = {}) {
    this.fragments = new FragmentTable(
      opts.maxFragmentDatagrams ?? MAX_IP_FRAGMENT_DATAGRAMS,
      opts.fragmentTimeoutUs ?? IP_FRAGMENT_TIMEOUT_US,
    )
  }

  /** Incomplete fragmented datagrams held right now. */
  get pendingFragmentDatagrams(): number {
    return this.fragments.size
  }

  // The record's bytes as buffer + bounds, set by `bind` (fields, not a returned object: no
  // allocation per packet).
  private rb: Uint8Array = new Uint8Array(0)
  private roff = 0
  private rend = 0

  /** A reader's record is read in place (no view of it is made); any other record by its data. */
  private bind(rec: PacketRecord): void {
    if (rec instanceof CapturedPacket) {
      this.rb = rec.bytes
      this.roff = rec.start
      this.rend = rec.end
    } else {
      this.rb = rec.data
      this.roff = 0
      this.rend = this.rb.length
    }
  }

  /**
   * The flow hash (`flowHash`) of a plain Ethernet / IPv4 / TCP-or-UDP packet, read without
   * decoding it, or -1 when the packet needs the full decoder (VLAN, IPv6, fragments, tunnels,
   * odd lengths). Lets a shard skip other shards' packets cheaply; for a packet it accepts,
   * `decode` would report no anomaly, so skipping loses no count.
   */
  quickFlowHash(rec: PacketRecord): number {
    const t = this.plainIpv4Transport(rec)
    if (t < 0) return -1
    const b = this.rb
    const ip = this.roff + 14
    return flowHashAt(b, ip + 12, ip + 16, 4, u16(b, t), u16(b, t + 2))
  }

  /**
   * Whether a record is a plain Ethernet / IPv4 TCP segment (as `quickFlowHash` accepts it)
   * with only the ACK flag and no payload; then `out` holds its endpoints. Such segments make
   * up a large share of every capture and carry nothing to parse.
   */
  peekPureAck(rec: PacketRecord, out: Ipv4Peek): boolean {
    const t = this.plainIpv4Transport(rec)
    if (t < 0) return false
    const b = this.rb
    const ip = this.roff + 14
    if (b[ip + 9] !== IPPROTO_TCP || b[t + 13] !== 0x10 || ((b[t + 12] ?? 0) & 1) !== 0)
      return false
    const payload = u16(b, ip + 2) - ((b[ip] ?? 0) & 15) * 4 - ((b[t + 12] ?? 0) >> 4) * 4
    if (payload !== 0) return false
    out.src = u32(b, ip + 12)
    out.dst = u32(b, ip + 16)
    out.srcPort = u16(b, t)
    out.dstPort = u16(b, t + 2)
    return true
  }

  /**
   * Offset of the TCP or UDP header of a plain Ethernet / IPv4 packet with sane lengths (no
   * VLAN, fragment, tunnel port or odd length), or -1; binds the record.
   */
  private plainIpv4Transport(rec: PacketRecord): number {
    if (rec.linkType !== LinkType.ETHERNET) return -1
    this.bind(rec)
    const b = this.rb
    const off = this.roff
    const end = this.rend
    const ip = off + 14
    if (end - ip < 20 || u16(b, off + 12) !== ETH_IPV4) return -1
    const vihl = b[ip] ?? 0
    const hl = (vihl & 15) * 4
    const total = u16(b, ip + 2)
    if (vihl >> 4 !== 4 || hl < 20 || total < hl || ip + total > end) return -1
    if ((u16(b, ip + 6) & 0x3fff) !== 0) return -1
    const proto = b[ip + 9] ?? 0
    const t = ip + hl
    if (proto === IPPROTO_TCP) {
      if (total - hl < 20) return -1
      const dataOff = ((b[t + 12] ?? 0) >> 4) * 4
      if (dataOff < 20 || dataOff > total - hl) return -1
    } else if (proto === IPPROTO_UDP) {
      if (total - hl < 8) return -1
      const len = u16(b, t + 4)
      if (len < 8 || len > total - hl) return -1
      if (isTunnelPort(u16(b, t)) || isTunnelPort(u16(b, t + 2))) return -1
    } else return -1
    return t
  }

  /** Decodes one record. Never throws. */
  decode(rec: PacketRecord): DecodeOutcome {
    this.anomalies = NO_ANOMALIES
    this.ttl = -1
    this.tunnelled = false
    this.depth = 0
    this.tsUs = rec.tsUs
    this.bind(rec)
    const b = this.rb
    const off = this.roff
    const end = this.rend
    this.snapCut = end - off < rec.origLen
    switch (rec.linkType) {
      case LinkType.ETHERNET:
        return this.ethernet(b, off, end)
      case LinkType.RAW:
        return this.ipByNibble(b, off, end)
      case LinkType.IPV4:
        return this.ipv4(b, off, end)
      case LinkType.IPV6:
        return this.ipv6(b, off, end)
      case LinkType.LINUX_SLL:
        return this.sll(b, off, end)
      case LinkType.LINUX_SLL2:
        return this.sll2(b, off, end)
      case LinkType.NULL:
        return this.loopback(b, off, end, false)
      case LinkType.LOOP:
        return this.loopback(b, off, end, true)
      default:
        this.anomaly('link.unsupported_linktype')
        return this.ignored()
    }
  }

  /** The call's anomaly list, allocated on first use (most packets have none). */
  private ownAnomalies(): LinkAnomaly[] {
    if (this.anomalies === NO_ANOMALIES) this.anomalies = []
    return this.anomalies
  }

  private anomaly(a: LinkAnomaly): void {
    this.ownAnomalies().push(a)
  }

  private ignored(): DecodeOutcome {
    return { kind: 'ignored', anomalies: this.anomalies }
  }

  private error(a: LinkAnomaly): DecodeOutcome {
    this.anomaly(a)
    return { kind: 'error', anomalies: this.anomalies }
  }

  /** Counts one encapsulation layer; false once MAX_ENCAP_DEPTH is crossed. */
  private deeper(): boolean {
    return ++this.depth <= MAX_ENCAP_DEPTH
  }

  // ---- link layers ---------------------------------------------------------------------------

  /** IEEE 802.3 / DIX Ethernet II: destination, source, EtherType. */
  private ethernet(b: Uint8Array, off: number, end: number): DecodeOutcome {
    if (end - off < 14) return this.error('link.truncated')
    const type = u16(b, off + 12)
    if (type <= ETH_MAX_LENGTH) return this.ignored()
    return this.etherType(type, b, off + 14, end)
  }

  /** Linux cooked capture v1 (LINKTYPE_LINUX_SLL): protocol at offset 14 of a 16-byte header. */
  private sll(b: Uint8Array, off: number, end: number): DecodeOutcome {
    if (end - off < 16) return this.error('link.truncated')
    if (u16(b, off + 2) === ARPHRD_NETLINK) return this.ignored()
    return this.etherType(u16(b, off + 14), b, off + 16, end)
  }

  /** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2): protocol first, 20-byte header. */
  private sll2(b: Uint8Array, off: number, end: number): DecodeOutcome {
    if (end - off < 20) return this.error('link.truncated')
    if (u16(b, off + 8) === ARPHRD_NETLINK) return this.ignored()
    return this.etherType(u16(b, off), b, off + 20, end)
  }

  /**
   * LINKTYPE_NULL: a 4-byte address family in the capturing host's byte order; LINKTYPE_LOOP:
   * the same in network order. AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD),
   * 28 (FreeBSD) or 30 (Darwin).
   */
  private loopback(b: Uint8Array, off: number, end: number, networkOrder: boolean): DecodeOutcome {
    if (end - off < 4) return this.error('link.truncated')
    let family = networkOrder
      ? u32(b, off)
      : ((b[off] ?? 0) |
          ((b[off + 1] ?? 0) << 8) |
          ((b[off + 2] ?? 0) << 16) |
          ((b[off + 3] ?? 0) << 24)) >>>
        0
    // HACK: the writer's byte order is unknown; a family never uses the upper 16 bits, so if
    // they are set the header was written big-endian.
    if (!networkOrder && (family & 0xffff0000) !== 0) family = u32(b, off)
    if (family === 2) return this.ipv4(b, off + 4, end)
    if (family === 24 || family === 28 || family === 30) return this.ipv6(b, off + 4, end)
    return this.ignored()
  }

  private etherType(type: number, b: Uint8Array, off: number, end: number): DecodeOutcome {
    switch (type) {
      case ETH_IPV4:
        return this.ipv4(b, off, end)
      case ETH_IPV6:
        return this.ipv6(b, off, end)
      case ETH_VLAN:
      case ETH_QINQ:
      case ETH_QINQ_OLD:
        // IEEE 802.1Q tag: TCI (PCP, DEI, VID), then the next EtherType; 802.1ad stacks them.
        if (!this.deeper()) return this.error('link.encap_too_deep')
        if (end - off < 4) return this.error('link.truncated')
        return this.etherType(u16(b, off + 2), b, off + 4, end)
      case ETH_MPLS_UC:
      case ETH_MPLS_MC:
        return this.mpls(b, off, end)
      case ETH_PPPOE_SESSION:
        return this.pppoe(b, off, end)
      case ETH_TEB:
        // Transparent Ethernet Bridging (GRE, Geneve): a whole Ethernet frame follows.
        if (!this.deeper()) return this.error('link.encap_too_deep')
        return this.ethernet(b, off, end)
      default:
        return this.ignored()
    }
  }

  /**
   * RFC 3032 §2.1: 4-byte label stack entries, S bit marks the bottom. The payload type is not
   * signalled, so it is guessed from the IP version nibble.
   */
  private mpls(b: Uint8Array, off: number, end: number): DecodeOutcome {
    let p = off
    while (true) {
      if (!this.deeper()) return this.error('link.encap_too_deep')
      if (end - p < 4) return this.error('link.truncated')
      const bottom = ((b[p + 2] ?? 0) & 1) !== 0
      p += 4
      if (bottom) break
    }
    // HACK: a first nibble of 0 is a pseudowire control word (RFC 4385); those are not followed.
    return this.ipByNibble(b, p, end)
  }

  /** RFC 2516 §4: PPPoE session header (ver/type, code, session id, length), then PPP. */
  private pppoe(b: Uint8Array, off: number, end: number): DecodeOutcome {
    if (end - off < 8) return this.error('link.truncated')
    if (!this.deeper()) return this.error('link.encap_too_deep')
    const payloadEnd = Math.min(end, off + 6 + u16(b, off + 4))
    // RFC 1661 §2: the PPP Protocol field; 0x0021 IPv4 (RFC 1332), 0x0057 IPv6 (RFC 5072).
    const proto = u16(b, off + 6)
    this.tunnelled = true
    if (proto === 0x0021) return this.ipv4(b, off + 8, payloadEnd)
    if (proto === 0x0057) return this.ipv6(b, off + 8, payloadEnd)
    return this.ignored()
  }

  // ---- IP ------------------------------------------------------------------------------------

  private ipByNibble(b: Uint8Array, off: number, end: number): DecodeOutcome {
    if (off >= end) return this.error('link.truncated')
    const version = (b[off] ?? 0) >> 4
    if (version === 4) return this.ipv4(b, off, end)
    if (version === 6) return this.ipv6(b, off, end)
    return this.ignored()
  }

  /** RFC 791 §3.1. The header checksum is not verified (offloaded captures often lack it). */
  private ipv4(b: Uint8Array, off: number, end: number): DecodeOutcome {
    if (end - off < 20) return this.error('ip.truncated')
    const vihl = b[off] ?? 0
    const hl = (vihl & 15) * 4
    if (vihl >> 4 !== 4 || hl < 20) return this.error('ip.bad_header')
    if (end - off < hl) return this.error('ip.truncated')
    const total = u16(b, off + 2)
    let ipEnd: number
    // HACK: total length 0 is what TCP segmentation offload leaves in captures; use what we have.
    if (total === 0) ipEnd = end
    else if (total < hl) return this.error('ip.bad_header')
    else ipEnd = off + total
    const cut = ipEnd > end
    ipEnd = this.clampIpEnd(ipEnd, end)
    // Total length also trims Ethernet padding and trailers (ipEnd < end).
    if (this.ttl < 0) this.ttl = b[off + 8] ?? 0
    const proto = b[off + 9] ?? 0
    // NOTE: an inner header of a tunnel overwrites the outer addresses; only the innermost are
    // ever returned.
    const src = copy4(this.src4, b, off + 12)
    const dst = copy4(this.dst4, b, off + 16)
    // RFC 791: flags (reserved, DF, MF) and a 13-bit fragment offset in 8-byte units.
    const frag = u16(b, off + 6)
    if ((frag & 0x3fff) !== 0) {
      if (cut) return this.ignored()
      const key = `4:${u32(b, off + 12)}:${u32(b, off + 16)}:${u16(b, off + 4)}:${proto}`
      const more = (frag & 0x2000) !== 0
      return this.fragment(4, src, dst, proto, key, (frag & 0x1fff) * 8, more, b, off + hl, ipEnd)
    }
    return this.transport(4, src, dst, proto, b, off + hl, ipEnd)
  }

  /**
   * The end of an IP datagram within the captured bytes: a declared length past them is a cut
   * (an anomaly unless the snap length explains it).
   */
  private clampIpEnd(declaredEnd: number, end: number): number {
    if (declaredEnd <= end) return declaredEnd
    if (!this.snapCut) this.anomaly('ip.truncated')
    return end
  }

  /** RFC 8200 §3 header, §4 extension headers. */
  private ipv6(b: Uint8Array, off: number, end: number): DecodeOutcome {
    if (end - off < 40) return this.error('ip.truncated')
    if ((b[off] ?? 0) >> 4 !== 6) return this.error('ip.bad_header')
    const plen = u16(b, off + 4)
    // HACK: payload length 0 is a jumbogram (RFC 2675) or segmentation offload; use what we have.
    const declaredEnd = plen === 0 ? end : off + 40 + plen
    const cut = declaredEnd > end
    const ipEnd = this.clampIpEnd(declaredEnd, end)
    if (this.ttl < 0) this.ttl = b[off + 7] ?? 0
    const src = copyInto(this.src6, b, off + 8)
    const dst = copyInto(this.dst6, b, off + 24)
    let next = b[off + 6] ?? 0
    let p = off + 40
    for (let n = 0; ; n++) {
      switch (next) {
        case IPPROTO_HOPOPTS:
        case IPPROTO_ROUTING:
        case IPPROTO_DSTOPTS:
        case IPPROTO_MOBILITY:
        case IPPROTO_AH:
        case IPPROTO_FRAGMENT:
          break
        case IPPROTO_NONE:
          return this.ignored()
        default:
          return this.transport(6, src, dst, next, b, p, ipEnd)
      }
      if (n >= MAX_IPV6_EXT_HEADERS) return this.error('ipv6.too_many_ext_headers')
      if (ipEnd - p < 8) return this.error('ip.truncated')
      const hdrNext = b[p] ?? 0
      if (next === IPPROTO_FRAGMENT) {
        // RFC 8200 §4.5: offset in 8-byte units (13 bits), M flag, 32-bit identification.
        const field = u16(b, p + 2)
        const fragOff = field & 0xfff8
        const more = (field & 1) !== 0
        p += 8
        // RFC 6946: an "atomic fragment" (offset 0, M = 0) is a whole datagram.
        if (fragOff === 0 && !more) {
          next = hdrNext
          continue
        }
        if (cut) return this.ignored()
        const key = `6:${latin1(src)}:${latin1(dst)}:${u32(b, p - 4)}:${hdrNext}`
        return this.fragment(6, src, dst, hdrNext, key, fragOff, more, b, p, ipEnd)
      }
      // RFC 4302 §2.2: AH length is in 4-byte units minus 2; the others in 8-byte units minus 1.
      p += next === IPPROTO_AH ? ((b[p + 1] ?? 0) + 2) * 4 : ((b[p + 1] ?? 0) + 1) * 8
      next = hdrNext
      if (p > ipEnd) return this.error('ip.truncated')
    }
  }

  private fragment(
    version: 4 | 6,
    src: Uint8Array,
    dst: Uint8Array,
    proto: number,
    key: string,
    offset: number,
    more: boolean,
    b: Uint8Array,
    off: number,
    end: number,
  ): DecodeOutcome {
    const anomalies = this.ownAnomalies()
    const r = this.fragments.add(key, this.tsUs, offset, more, b.subarray(off, end), anomalies)
    if (r === 'held') return { kind: 'fragment_held', anomalies }
    if (r === 'dropped') return this.ignored()
    return this.transport(version, src, dst, proto, r, 0, r.length)
  }

  private transport(
    version: 4 | 6,
    src: Uint8Array,
    dst: Uint8Array,
    proto: number,
    b: Uint8Array,
    off: number,
    end: number,
  ): DecodeOutcome {
    switch (proto) {
      case IPPROTO_TCP:
        return this.tcp(version, src, dst, b, off, end)
      case IPPROTO_UDP:
        return this.udp(version, src, dst, b, off, end)
      case IPPROTO_IPIP:
      case IPPROTO_IPV6:
        // RFC 2003 IPv4-in-IP, RFC 2473 / RFC 4213 IPv6-in-IP.
        if (!this.deeper()) return this.error('link.encap_too_deep')
        this.tunnelled = true
        return proto === IPPROTO_IPIP ? this.ipv4(b, off, end) : this.ipv6(b, off, end)
      case IPPROTO_GRE:
        return this.gre(b, off, end)
      default:
        return this.ignored()
    }
  }

  // ---- transport -----------------------------------------------------------------------------

  /** RFC 9293 §3.1. */
  private tcp(
    version: 4 | 6,
    src: Uint8Array,
    dst: Uint8Array,
    b: Uint8Array,
    off: number,
    end: number,
  ): DecodeOutcome {
    if (end - off < 20) return this.error('tcp.bad_header')
    const dataOff = ((b[off + 12] ?? 0) >> 4) * 4
    if (dataOff < 20 || off + dataOff > end) return this.error('tcp.bad_header')
    const t = this.tcpHeader
    t.seq = u32(b, off + 4)
    t.ack = u32(b, off + 8)
    // NS (RFC 3540, now reserved) is the low bit of byte 12.
    t.flags = (((b[off + 12] ?? 0) & 1) << 8) | (b[off + 13] ?? 0)
    t.window = u16(b, off + 14)
    t.setOptions(b, off + 20, off + dataOff)
    return this.packet(
      version,
      src,
      dst,
      IPPROTO_TCP,
      u16(b, off),
      u16(b, off + 2),
      t,
      b,
      off + dataOff,
      end,
    )
  }

  private packet(
    version: 4 | 6,
    src: Uint8Array,
    dst: Uint8Array,
    protocol: number,
    srcPort: number,
    dstPort: number,
    tcp: TcpHeader | undefined,
    b: Uint8Array,
    from: number,
    to: number,
  ): DecodeOutcome {
    const p = this.pkt
    p.ipVersion = version
    p.srcIp = src
    p.dstIp = dst
    p.ttl = this.ttl
    p.protocol = protocol
    p.srcPort = srcPort
    p.dstPort = dstPort
    p.tcp = tcp
    p.payload = from < to ? b.subarray(from, to) : NO_PAYLOAD
    p.tunnelled = this.tunnelled
    this.packetOut.anomalies = this.anomalies
    return this.packetOut
  }

  /** RFC 768. UDP tunnels are recognised by their well-known port and a plausible header. */
  private udp(
    version: 4 | 6,
    src: Uint8Array,
    dst: Uint8Array,
    b: Uint8Array,
    off: number,
    end: number,
  ): DecodeOutcome {
    if (end - off < 8) return this.error('udp.bad_header')
    const len = u16(b, off + 4)
    let udpEnd = end
    // RFC 2675 §4: length 0 in an IPv6 jumbogram; otherwise at least the 8-byte header.
    if (len !== 0) {
      if (len < 8) return this.error('udp.bad_header')
      if (off + len <= end) udpEnd = off + len
      else if (!this.snapCut) this.anomaly('udp.bad_header')
    }
    const srcPort = u16(b, off)
    const dstPort = u16(b, off + 2)
    const p = off + 8
    // The tunnel port is normally the destination, but senders may use it as source too (some
    // VXLAN encapsulators send from 4789 to another port), so both are tried, destination first.
    if (isTunnelPort(dstPort) || isTunnelPort(srcPort)) {
      const port = isTunnelPort(dstPort) ? dstPort : srcPort
      const inner = this.udpTunnel(port, b, p, udpEnd)
      if (inner !== undefined) return inner
      if (port === dstPort && isTunnelPort(srcPort) && srcPort !== dstPort) {
        const other = this.udpTunnel(srcPort, b, p, udpEnd)
        if (other !== undefined) return other
      }
    }
    return this.packet(version, src, dst, IPPROTO_UDP, srcPort, dstPort, undefined, b, p, udpEnd)
  }

  // ---- tunnels -------------------------------------------------------------------------------

  /** Returns undefined when the payload does not look like the tunnel (then it is plain UDP). */
  private udpTunnel(
    port: number,
    b: Uint8Array,
    p: number,
    end: number,
  ): DecodeOutcome | undefined {
    if (port === UDP_VXLAN) {
      // RFC 7348 §5: flags (I bit 0x08 = VNI valid), 24 reserved bits, VNI, 8 reserved bits.
      if (end - p < 8 || ((b[p] ?? 0) & 0x08) === 0) return undefined
      return this.enterTunnel() ?? this.ethernet(b, p + 8, end)
    }
    if (port === UDP_GENEVE) {
      // RFC 8926 §3.4: Ver(2) Opt Len(6, 4-byte units), O C Rsvd, Protocol Type, VNI, Reserved.
      if (end - p < 8 || (b[p] ?? 0) >> 6 !== 0) return undefined
      const inner = p + 8 + ((b[p] ?? 0) & 0x3f) * 4
      const proto = u16(b, p + 2)
      if (inner > end) return undefined
      if (proto === ETH_TEB) return this.enterTunnel() ?? this.ethernet(b, inner, end)
      if (proto === ETH_IPV4) return this.enterTunnel() ?? this.ipv4(b, inner, end)
      if (proto === ETH_IPV6) return this.enterTunnel() ?? this.ipv6(b, inner, end)
      return undefined
    }
    return this.gtpu(b, p, end)
  }

  /**
   * 3GPP TS 29.281 §5.1: GTP-U v1 header: flags (version 3 bits, PT, spare, E, S, PN), message
   * type, length, TEID; when any of E/S/PN is set, a 4-byte sequence / N-PDU / next-extension
   * field follows, then extension headers (§5.2: length in 4-byte units, last byte = next type).
   * Only G-PDU (type 255) carries user IP packets.
   */
  private gtpu(b: Uint8Array, p: number, end: number): DecodeOutcome | undefined {
    if (end - p < 8) return undefined
    const flags = b[p] ?? 0
    if (flags >> 5 !== 1 || (flags & 0x10) === 0 || b[p + 1] !== 0xff) return undefined
    const gtpEnd = Math.min(end, p + 8 + u16(b, p + 2))
    let q = p + 8
    if ((flags & 0x07) !== 0) {
      if (gtpEnd - q < 4) return undefined
      let nextExt = b[q + 3] ?? 0
      q += 4
      // Each extension is at least 4 bytes, so this loop is bounded by the packet length.
      while ((flags & 0x04) !== 0 && nextExt !== 0) {
        const len = (b[q] ?? 0) * 4
        if (len === 0 || q + len > gtpEnd) return undefined
        nextExt = b[q + len - 1] ?? 0
        q += len
      }
    }
    return this.enterTunnel() ?? this.ipByNibble(b, q, gtpEnd)
  }

  /** Marks a tunnel; returns an error outcome when nesting is too deep. */
  private enterTunnel(): DecodeOutcome | undefined {
    if (!this.deeper()) return this.error('link.encap_too_deep')
    this.tunnelled = true
    return undefined
  }

  /**
   * RFC 2784 §2 / RFC 2890 §2: C, K, S flags, version 0; optional checksum + reserved, key and
   * sequence number words. Version 1 (PPTP, RFC 2637) and source routing (RFC 1701) are not
   * followed.
   */
  private gre(b: Uint8Array, off: number, end: number): DecodeOutcome {
    if (end - off < 4) return this.error('link.truncated')
    const flags = u16(b, off)
    if ((flags & 0x0007) !== 0 || (flags & 0x4000) !== 0) return this.ignored()
    const proto = u16(b, off + 2)
    let p = off + 4
    if ((flags & 0x8000) !== 0) p += 4
    if ((flags & 0x2000) !== 0) p += 4
    const seq = (flags & 0x1000) !== 0
    if (seq) p += 4
    if (p > end) return this.error('link.truncated')
    const t = this.enterTunnel()
    if (t !== undefined) return t
    if (proto === ETH_ERSPAN_2) {
      // ERSPAN type II (draft-foschiano-erspan §4.1) has an 8-byte header and always sets S;
      // type I has neither the sequence number nor any header.
      if (!seq) return this.ethernet(b, p, end)
      if (end - p < 8) return this.error('link.truncated')
      return this.ethernet(b, p + 8, end)
    }
    if (proto === ETH_ERSPAN_3) {
      // draft-foschiano-erspan §4.2: 12-byte header; the last bit (O) announces an 8-byte
      // platform-specific subheader; FT (frame type) 0 = Ethernet, 2 = IP.
      if (end - p < 12) return this.error('link.truncated')
      const ft = ((b[p + 10] ?? 0) >> 2) & 0x1f
      const q = p + 12 + (((b[p + 11] ?? 0) & 1) !== 0 ? 8 : 0)
      if (ft === 0) return this.ethernet(b, q, end)
      if (ft === 2) return this.ipByNibble(b, q, end)
      return this.ignored()
    }
    return this.etherType(proto, b, p, end)
  }
}

function isTunnelPort(port: number): boolean {
  return port === UDP_VXLAN || port === UDP_GENEVE || port === UDP_GTPU
}

/** Copies the 4 bytes of `b` at `off` into `dst` (an IPv4 address buffer); returns `dst`. */
function copy4(dst: Uint8Array, b: Uint8Array, off: number): Uint8Array {
  dst[0] = b[off] ?? 0
  dst[1] = b[off + 1] ?? 0
  dst[2] = b[off + 2] ?? 0
  dst[3] = b[off + 3] ?? 0
  return dst
}

/** Copies `dst.length` bytes of `b` from `off` into `dst` (an address buffer); returns `dst`. */
function copyInto(dst: Uint8Array, b: Uint8Array, off: number): Uint8Array {
  for (let i = 0; i < dst.length; i++) dst[i] = b[off + i] ?? 0
  return dst
}

function latin1(b: Uint8Array): string {
  return String.fromCharCode(...b)
}

/**
 * Formats a 4-byte IPv4 (dotted quad) or 16-byte IPv6 address (RFC 5952: lower-case, leading
 * zeros dropped, the longest run of two or more zero groups, leftmost on ties, as `::`; IPv4-
 * mapped addresses in mixed notation, §5). Other lengths are written as hex.
 */
export function formatIp(ip: Uint8Array): string {
  if (ip.length === 4) return `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`
  if (ip.length !== 16) {
    let s = ''
    for (const x of ip) s += x.toString(16).padStart(2, '0')
    return s
  }
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push(u16(ip, i))
  // RFC 5952 §5 / RFC 4291 §2.5.5.2: ::ffff:a.b.c.d
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`
  }
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    // RFC 5952 §4.2.2: a single zero group is not shortened; §4.2.3: the first longest run wins.
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart < 0) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`
}

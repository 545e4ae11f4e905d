import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ByteBuilder } from '../../bytes/builder.ts'
import { fromHex, toHex } from '../../bytes/hex.ts'
import { MAX_ENCAP_DEPTH, MAX_IPV6_EXT_HEADERS } from '../limits.ts'
import { LinkType } from '../pcap/types.ts'
import type { PacketRecord } from '../pcap/types.ts'
import { PacketDecoder, formatIp } from './decode.ts'
import type { DecodeOutcome, DecodedPacket } from './types.ts'

// ---- frame builders --------------------------------------------------------------------------

const MAC_A = [0x02, 0, 0, 0, 0, 1]
const MAC_B = [0x02, 0, 0, 0, 0, 2]
const V4_A = [192, 0, 2, 1]
const V4_B = [198, 51, 100, 7]
const V6_A = fromHex('20010db8000000000000000000000001')
const V6_B = fromHex('20010db8000100000000000000000002')

const build = (fn: (b: ByteBuilder) => void) => {
  const b = new ByteBuilder()
  fn(b)
  return b.build()
}

function ether(type: number, payload: Uint8Array): Uint8Array {
  return build((b) => b.bytes(MAC_A).bytes(MAC_B).u16(type).bytes(payload))
}

function vlan(type: number, payload: Uint8Array, vid = 100): Uint8Array {
  return build((b) => b.u16(vid).u16(type).bytes(payload))
}

/** RFC 1071 one's-complement sum over a header. */
function checksum(h: Uint8Array): number {
  let sum = 0
  for (let i = 0; i < h.length; i += 2) sum += ((h[i] ?? 0) << 8) | (h[i + 1] ?? 0)
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16)
  return ~sum & 0xffff
}

interface V4Opts {
  proto: number
  payload: Uint8Array
  src?: number[]
  dst?: number[]
  ttl?: number
  id?: number
  more?: boolean
  fragOffset?: number
  options?: number[]
  totalLength?: number
}

function ipv4(o: V4Opts): Uint8Array {
  const opts = o.options ?? []
  const hl = 20 + opts.length
  const header = build((b) =>
    b
      .u8(0x40 | (hl / 4))
      .u8(0)
      .u16(o.totalLength ?? hl + o.payload.length)
      .u16(o.id ?? 0x1234)
      .u16((o.more === true ? 0x2000 : 0) | ((o.fragOffset ?? 0) / 8))
      .u8(o.ttl ?? 64)
      .u8(o.proto)
      .u16(0)
      .bytes(o.src ?? V4_A)
      .bytes(o.dst ?? V4_B)
      .bytes(opts),
  )
  const sum = checksum(header)
  header[10] = sum >> 8
  header[11] = sum & 0xff
  return build((b) => b.bytes(header).bytes(o.payload))
}

function ipv6(next: number, payload: Uint8Array, hop = 61, src = V6_A, dst = V6_B): Uint8Array {
  return build((b) =>
    b.u32(0x60000000).u16(payload.length).u8(next).u8(hop).bytes(src).bytes(dst).bytes(payload),
  )
}

/** A generic IPv6 extension header (8-byte units) carrying `next`. */
function ext6(next: number, payload: Uint8Array, units = 0): Uint8Array {
  return build((b) =>
    b
      .u8(next)
      .u8(units)
      .zeros(6 + units * 8)
      .bytes(payload),
  )
}

interface TcpOpts {
  sport?: number
  dport?: number
  seq?: number
  ack?: number
  flags?: number
  window?: number
  options?: number[]
  payload?: Uint8Array
}

function tcp(o: TcpOpts = {}): Uint8Array {
  const opts = o.options ?? []
  const flags = o.flags ?? 0x18
  return build((b) =>
    b
      .u16(o.sport ?? 50000)
      .u16(o.dport ?? 443)
      .u32(o.seq ?? 1000)
      .u32(o.ack ?? 2000)
      .u8((((20 + opts.length) / 4) << 4) | ((flags >> 8) & 1))
      .u8(flags & 0xff)
      .u16(o.window ?? 502)
      .u16(0)
      .u16(0)
      .bytes(opts)
      .bytes(o.payload ?? new Uint8Array(0)),
  )
}

function udp(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return build((b) =>
    b
      .u16(sport)
      .u16(dport)
      .u16(8 + payload.length)
      .u16(0)
      .bytes(payload),
  )
}

const HELLO = new ByteBuilder().bytes([0x16, 0x03, 0x01, 0x00, 0x05]).ascii('hello').build()

/** The standard inner packet: IPv4 10.0.0.1 → 10.0.0.2, TTL 33, TCP 40000 → 443 carrying HELLO. */
const INNER_V4 = ipv4({
  proto: 6,
  src: [10, 0, 0, 1],
  dst: [10, 0, 0, 2],
  ttl: 33,
  payload: tcp({ sport: 40000, payload: HELLO }),
})

function rec(
  data: Uint8Array,
  linkType: number = LinkType.ETHERNET,
  tsUs = 1_000_000,
): PacketRecord {
  return { tsUs, linkType, interfaceId: 0, data, origLen: data.length }
}

function decode(data: Uint8Array, linkType: number = LinkType.ETHERNET): DecodeOutcome {
  return new PacketDecoder().decode(rec(data, linkType))
}

function packet(out: DecodeOutcome): DecodedPacket {
  assert.equal(out.kind, 'packet', `expected a packet, got ${out.kind} ${out.anomalies.join(',')}`)
  if (out.kind !== 'packet') throw new Error('unreachable')
  return out.packet
}

/** Summary of the fields most tests check. */
function brief(out: DecodeOutcome) {
  const p = packet(out)
  return {
    v: p.ipVersion,
    src: formatIp(p.srcIp),
    dst: formatIp(p.dstIp),
    ttl: p.ttl,
    proto: p.protocol,
    sport: p.srcPort,
    dport: p.dstPort,
    payload: toHex(p.payload),
    tunnelled: p.tunnelled,
    anomalies: out.anomalies,
  }
}

const INNER_BRIEF = {
  v: 4,
  src: '10.0.0.1',
  dst: '10.0.0.2',
  ttl: 33,
  proto: 6,
  sport: 40000,
  dport: 443,
  payload: toHex(HELLO),
  tunnelled: false,
  anomalies: [],
}

// ---- Ethernet, IPv4, TCP ---------------------------------------------------------------------

test('Ethernet / IPv4 / TCP: every header field', () => {
  const seg = tcp({
    sport: 51000,
    dport: 8443,
    seq: 0xfedcba98,
    ack: 0x01020304,
    flags: 0x1c2,
    window: 64240,
    options: [2, 4, 5, 0xb4, 1, 1, 4, 2],
    payload: HELLO,
  })
  const p = packet(decode(ether(0x0800, ipv4({ proto: 6, ttl: 128, payload: seg }))))
  assert.equal(p.ipVersion, 4)
  assert.equal(formatIp(p.srcIp), '192.0.2.1')
  assert.equal(formatIp(p.dstIp), '198.51.100.7')
  assert.equal(p.ttl, 128)
  assert.equal(p.protocol, 6)
  assert.equal(p.srcPort, 51000)
  assert.equal(p.dstPort, 8443)
  assert.deepEqual(
    { ...p.tcp, options: toHex(p.tcp?.options ?? new Uint8Array()) },
    {
      seq: 0xfedcba98,
      ack: 0x01020304,
      flags: 0x1c2,
      window: 64240,
      options: '020405b401010402',
    },
  )
  assert.equal(toHex(p.payload), toHex(HELLO))
  assert.equal(p.tunnelled, false)
})

test('IPv4 total length trims Ethernet padding; options are skipped; checksum not required', () => {
  const ip = ipv4({ proto: 6, options: [1, 1, 1, 0], payload: tcp() })
  ip[10] = (ip[10] ?? 0) ^ 0xff // break the header checksum
  const frame = build((b) => b.bytes(ether(0x0800, ip)).zeros(6))
  const out = decode(frame)
  assert.equal(packet(out).payload.length, 0)
  assert.deepEqual(out.anomalies, [])
})

test('IPv4 total length 0 (segmentation offload) uses the captured bytes', () => {
  const out = decode(
    ether(0x0800, ipv4({ proto: 6, totalLength: 0, payload: tcp({ payload: HELLO }) })),
  )
  assert.equal(toHex(packet(out).payload), toHex(HELLO))
})

test('IPv4 longer than captured: anomaly unless the snap length cut it', () => {
  const frame = ether(0x0800, ipv4({ proto: 6, payload: tcp({ payload: HELLO }) }))
  const cut = frame.subarray(0, frame.length - 3)
  const out = new PacketDecoder().decode(rec(cut))
  assert.deepEqual(out.anomalies, ['ip.truncated'])
  assert.equal(packet(out).payload.length, HELLO.length - 3)
  const snapped = new PacketDecoder().decode({ ...rec(cut), origLen: frame.length })
  assert.deepEqual(snapped.anomalies, [])
  assert.equal(packet(snapped).payload.length, HELLO.length - 3)
})

test('malformed IPv4 and TCP headers are errors with anomalies', () => {
  const cases: [Uint8Array, string][] = [
    [ether(0x0800, ipv4({ proto: 6, payload: tcp() }).subarray(0, 19)), 'ip.truncated'],
    [
      ether(
        0x0800,
        build((b) => b.u8(0x44).zeros(40)),
      ),
      'ip.bad_header',
    ],
    [
      ether(
        0x0800,
        build((b) => b.u8(0x65).zeros(40)),
      ),
      'ip.bad_header',
    ],
    [ether(0x0800, ipv4({ proto: 6, totalLength: 12, payload: tcp() })), 'ip.bad_header'],
    [ether(0x0800, ipv4({ proto: 6, payload: tcp().subarray(0, 12) })), 'tcp.bad_header'],
    [
      ether(0x0800, ipv4({ proto: 6, payload: build((b) => b.zeros(12).u8(0x40).zeros(7)) })),
      'tcp.bad_header',
    ],
    [
      ether(0x0800, ipv4({ proto: 6, payload: build((b) => b.zeros(12).u8(0xf0).zeros(7)) })),
      'tcp.bad_header',
    ],
    [ether(0x0800, ipv4({ proto: 17, payload: fromHex('0001000200040000') })), 'udp.bad_header'],
    [ether(0x0800, ipv4({ proto: 17, payload: fromHex('00010002') })), 'udp.bad_header'],
    [fromHex('0102030405060708090a0b'), 'link.truncated'],
  ]
  for (const [frame, anomaly] of cases) {
    const out = decode(frame)
    assert.equal(out.kind, 'error', anomaly)
    assert.deepEqual(out.anomalies, [anomaly])
  }
})

test('non-IP frames and other IP protocols are ignored, not errors', () => {
  assert.equal(decode(ether(0x0806, new Uint8Array(28))).kind, 'ignored')
  // IEEE 802.3 length field (LLC frame).
  assert.equal(decode(ether(46, new Uint8Array(46))).kind, 'ignored')
  const icmp = decode(ether(0x0800, ipv4({ proto: 1, payload: new Uint8Array(8) })))
  assert.deepEqual(icmp, { kind: 'ignored', anomalies: [] })
  const unknown = decode(ether(0x0800, INNER_V4), 147)
  assert.deepEqual(unknown, { kind: 'ignored', anomalies: ['link.unsupported_linktype'] })
})

test('UDP: ports and payload trimmed to the UDP length', () => {
  const dgram = build((b) => b.bytes(udp(5353, 53, HELLO)).zeros(4))
  const out = decode(ether(0x0800, ipv4({ proto: 17, payload: dgram })))
  const p = packet(out)
  assert.deepEqual([p.protocol, p.srcPort, p.dstPort, p.tcp], [17, 5353, 53, undefined])
  assert.equal(toHex(p.payload), toHex(HELLO))
})

// ---- VLAN, MPLS, PPPoE -----------------------------------------------------------------------

test('VLAN 802.1Q, QinQ 802.1ad and 0x9100 stacks', () => {
  assert.deepEqual(brief(decode(ether(0x8100, vlan(0x0800, INNER_V4)))), INNER_BRIEF)
  const qinq = ether(0x88a8, vlan(0x8100, vlan(0x0800, INNER_V4, 20), 10))
  assert.deepEqual(brief(decode(qinq)), INNER_BRIEF)
  const old = ether(0x9100, vlan(0x9100, vlan(0x8100, vlan(0x0800, INNER_V4))))
  assert.deepEqual(brief(decode(old)), INNER_BRIEF)
})

test('a VLAN stack deeper than MAX_ENCAP_DEPTH is an error', () => {
  let inner = vlan(0x0800, INNER_V4)
  for (let i = 0; i < MAX_ENCAP_DEPTH; i++) inner = vlan(0x8100, inner)
  const out = decode(ether(0x8100, inner))
  assert.deepEqual(out, { kind: 'error', anomalies: ['link.encap_too_deep'] })
})

test('MPLS: labels popped to the bottom of stack, then IPv4 or IPv6 by version nibble', () => {
  const label = (bottom: boolean) => [0x00, 0x01, 0x40 | (bottom ? 1 : 0), 0x3f]
  const two = build((b) => b.bytes(label(false)).bytes(label(true)).bytes(INNER_V4))
  assert.deepEqual(brief(decode(ether(0x8847, two))), INNER_BRIEF)
  const v6 = ipv6(6, tcp({ payload: HELLO }))
  const p6 = packet(
    decode(
      ether(
        0x8847,
        build((b) => b.bytes(label(true)).bytes(v6)),
      ),
    ),
  )
  assert.equal(formatIp(p6.srcIp), '2001:db8::1')
  // A pseudowire control word (first nibble 0) is not followed.
  const pw = build((b) => b.bytes(label(true)).u32(0).bytes(ether(0x0800, INNER_V4)))
  assert.equal(decode(ether(0x8847, pw)).kind, 'ignored')
  const noBottom = build((b) => b.bytes(label(false)).bytes(label(false)))
  assert.equal(decode(ether(0x8847, noBottom)).kind, 'error')
})

test('PPPoE session: IPv4 (0x0021), IPv6 (0x0057), LCP ignored', () => {
  const pppoe = (proto: number, payload: Uint8Array) =>
    build((b) =>
      b
        .u8(0x11)
        .u8(0)
        .u16(0x0042)
        .u16(payload.length + 2)
        .u16(proto)
        .bytes(payload),
    )
  const v4 = brief(decode(ether(0x8864, pppoe(0x0021, INNER_V4))))
  assert.deepEqual(v4, { ...INNER_BRIEF, tunnelled: true })
  const v6 = packet(decode(ether(0x8864, pppoe(0x0057, ipv6(6, tcp())))))
  assert.equal(v6.ipVersion, 6)
  assert.equal(decode(ether(0x8864, pppoe(0xc021, new Uint8Array(4)))).kind, 'ignored')
})

// ---- other link types ------------------------------------------------------------------------

test('Linux SLL and SLL2', () => {
  const sll = build((b) => b.u16(0).u16(1).u16(6).bytes(MAC_A).zeros(2).u16(0x0800).bytes(INNER_V4))
  assert.deepEqual(brief(decode(sll, LinkType.LINUX_SLL)), INNER_BRIEF)
  const sll2 = build((b) =>
    b.u16(0x0800).u16(0).u32(3).u16(1).u8(4).u8(6).bytes(MAC_A).zeros(2).bytes(INNER_V4),
  )
  assert.deepEqual(brief(decode(sll2, LinkType.LINUX_SLL2)), INNER_BRIEF)
  const netlink = build((b) => b.u16(0).u16(824).u16(0).zeros(8).u16(0x0800).bytes(INNER_V4))
  assert.equal(decode(netlink, LinkType.LINUX_SLL).kind, 'ignored')
  assert.equal(decode(sll.subarray(0, 15), LinkType.LINUX_SLL).kind, 'error')
})

test('raw IP link types: RAW (by version), IPV4, IPV6', () => {
  assert.deepEqual(brief(decode(INNER_V4, LinkType.RAW)), INNER_BRIEF)
  assert.deepEqual(brief(decode(INNER_V4, LinkType.IPV4)), INNER_BRIEF)
  const v6 = ipv6(6, tcp({ payload: HELLO }))
  assert.equal(packet(decode(v6, LinkType.RAW)).ipVersion, 6)
  assert.equal(packet(decode(v6, LinkType.IPV6)).ttl, 61)
  // IPV4 link type with an IPv6 packet: the version check catches it.
  assert.equal(decode(v6, LinkType.IPV4).kind, 'error')
})

test('BSD NULL (either host byte order) and LOOP (network order)', () => {
  const v6 = ipv6(6, tcp({ payload: HELLO }))
  for (const [family, body, version] of [
    [2, INNER_V4, 4],
    [24, v6, 6],
    [28, v6, 6],
    [30, v6, 6],
  ] as const) {
    const le = build((b) => b.u32le(family).bytes(body))
    const be = build((b) => b.u32(family).bytes(body))
    assert.equal(packet(decode(le, LinkType.NULL)).ipVersion, version)
    assert.equal(packet(decode(be, LinkType.NULL)).ipVersion, version)
    assert.equal(packet(decode(be, LinkType.LOOP)).ipVersion, version)
  }
  assert.equal(
    decode(
      build((b) => b.u32le(7).bytes(INNER_V4)),
      LinkType.NULL,
    ).kind,
    'ignored',
  )
})

// ---- IPv6 ------------------------------------------------------------------------------------

test('IPv6 extension headers: hop-by-hop, routing, destination options, AH', () => {
  const ah = build((b) =>
    b
      .u8(6)
      .u8(4)
      .zeros(4 * 6 - 2)
      .bytes(tcp({ payload: HELLO })),
  )
  const chain = ext6(43, ext6(60, ext6(51, ah), 1), 0)
  const out = decode(
    ether(
      0x86dd,
      ipv6(
        0,
        build((b) => b.u8(43).bytes(chain.subarray(1))),
      ),
    ),
  )
  const p = packet(out)
  assert.deepEqual(
    [p.ipVersion, formatIp(p.srcIp), formatIp(p.dstIp), p.ttl, p.protocol, toHex(p.payload)],
    [6, '2001:db8::1', '2001:db8:1::2', 61, 6, toHex(HELLO)],
  )
})

test('IPv6: too many extension headers, no next header, truncated extension', () => {
  let chain = tcp()
  for (let i = 0; i <= MAX_IPV6_EXT_HEADERS; i++) chain = ext6(i === 0 ? 6 : 60, chain)
  const deep = decode(ether(0x86dd, ipv6(60, chain)))
  assert.deepEqual(deep, { kind: 'error', anomalies: ['ipv6.too_many_ext_headers'] })
  assert.equal(decode(ether(0x86dd, ipv6(59, new Uint8Array(0)))).kind, 'ignored')
  const cut = decode(ether(0x86dd, ipv6(60, fromHex('0605000000000000'))))
  assert.equal(cut.kind, 'error')
  assert.ok(cut.anomalies.includes('ip.truncated'))
})

test('IPv6 atomic fragment (offset 0, M = 0) is a whole datagram', () => {
  const frag = build((b) =>
    b
      .u8(6)
      .u8(0)
      .u16(0)
      .u32(77)
      .bytes(tcp({ payload: HELLO })),
  )
  const p = packet(decode(ether(0x86dd, ipv6(44, frag))))
  assert.equal(toHex(p.payload), toHex(HELLO))
})

// ---- tunnels ---------------------------------------------------------------------------------

/** Outer Ethernet / IPv4 (TTL 250) around `payload`. */
function outer(proto: number, payload: Uint8Array): Uint8Array {
  return ether(
    0x0800,
    ipv4({ proto, ttl: 250, src: [172, 16, 0, 1], dst: [172, 16, 0, 2], payload }),
  )
}

const TUNNELLED = { ...INNER_BRIEF, ttl: 250, tunnelled: true }

function gre(flags: number, proto: number, payload: Uint8Array, words = 0): Uint8Array {
  return build((b) =>
    b
      .u16(flags)
      .u16(proto)
      .zeros(words * 4)
      .bytes(payload),
  )
}

test('GRE: plain, with checksum / key / sequence, transparent Ethernet; TTL stays outermost', () => {
  assert.deepEqual(brief(decode(outer(47, gre(0, 0x0800, INNER_V4)))), TUNNELLED)
  assert.deepEqual(brief(decode(outer(47, gre(0xb000, 0x0800, INNER_V4, 3)))), TUNNELLED)
  assert.deepEqual(brief(decode(outer(47, gre(0x2000, 0x0800, INNER_V4, 1)))), TUNNELLED)
  const teb = gre(0x2000, 0x6558, ether(0x0800, INNER_V4), 1)
  assert.deepEqual(brief(decode(outer(47, teb))), TUNNELLED)
  const v6 = packet(decode(outer(47, gre(0, 0x86dd, ipv6(6, tcp())))))
  assert.deepEqual([v6.ipVersion, v6.ttl, v6.tunnelled], [6, 250, true])
  // PPTP's enhanced GRE (version 1) is not followed.
  assert.equal(decode(outer(47, gre(0x3001, 0x880b, new Uint8Array(12), 2))).kind, 'ignored')
  assert.equal(decode(outer(47, gre(0xb000, 0x0800, new Uint8Array(0)))).kind, 'error')
})

test('ERSPAN type I (no header), II (8 bytes) and III (12 bytes, optional subheader)', () => {
  const frame = ether(0x0800, INNER_V4)
  assert.deepEqual(brief(decode(outer(47, gre(0, 0x88be, frame)))), TUNNELLED)
  const typeII = build((b) => b.u32(0x10640001).u32(0x00000007).bytes(frame))
  assert.deepEqual(brief(decode(outer(47, gre(0x1000, 0x88be, typeII, 1)))), TUNNELLED)
  const typeIII = (o: boolean, ft = 0) =>
    build((b) => {
      b.u32(0x20640001)
        .u32(0x12345678)
        .u16(0)
        .u8(ft << 2)
        .u8(o ? 1 : 0)
      if (o) b.u32(0x0d000000).u32(0)
      b.bytes(ft === 0 ? frame : INNER_V4)
    })
  assert.deepEqual(brief(decode(outer(47, gre(0x1000, 0x22eb, typeIII(false), 1)))), TUNNELLED)
  assert.deepEqual(brief(decode(outer(47, gre(0x1000, 0x22eb, typeIII(true), 1)))), TUNNELLED)
  assert.deepEqual(brief(decode(outer(47, gre(0x1000, 0x22eb, typeIII(false, 2), 1)))), TUNNELLED)
})

test('IP-in-IP: IPv4 in IPv4 (4), IPv6 in IPv4 (41), IPv4 in IPv6', () => {
  assert.deepEqual(brief(decode(outer(4, INNER_V4))), TUNNELLED)
  const six = packet(decode(outer(41, ipv6(6, tcp()))))
  assert.deepEqual([six.ipVersion, six.ttl, six.tunnelled], [6, 250, true])
  const v4in6 = packet(decode(ether(0x86dd, ipv6(4, INNER_V4, 17))))
  assert.deepEqual([formatIp(v4in6.srcIp), v4in6.ttl, v4in6.tunnelled], ['10.0.0.1', 17, true])
})

test('nesting deeper than MAX_ENCAP_DEPTH is an error', () => {
  let ip = INNER_V4
  for (let i = 0; i <= MAX_ENCAP_DEPTH; i++) ip = ipv4({ proto: 4, payload: ip })
  assert.deepEqual(decode(ether(0x0800, ip)), { kind: 'error', anomalies: ['link.encap_too_deep'] })
})

function vxlan(frame: Uint8Array, flags = 0x08): Uint8Array {
  return build((b) => b.u8(flags).zeros(3).u24(5001).u8(0).bytes(frame))
}

test('VXLAN on UDP 4789 (destination or source); without the I flag it stays plain UDP', () => {
  const inner = ether(0x0800, INNER_V4)
  assert.deepEqual(brief(decode(outer(17, udp(61000, 4789, vxlan(inner))))), TUNNELLED)
  assert.deepEqual(brief(decode(outer(17, udp(4789, 4790, vxlan(inner))))), TUNNELLED)
  const plain = packet(decode(outer(17, udp(61000, 4789, vxlan(inner, 0)))))
  assert.deepEqual([plain.protocol, plain.dstPort, plain.tunnelled], [17, 4789, false])
})

test('Geneve with options: Ethernet, IPv4 and IPv6 payloads', () => {
  const geneve = (proto: number, payload: Uint8Array) =>
    build((b) =>
      b
        .u8(2)
        .u8(0)
        .u16(proto)
        .u24(77)
        .u8(0)
        .u16(0x0103)
        .u8(0x80)
        .u8(1)
        .u32(0xdeadbeef)
        .bytes(payload),
    )
  const eth = outer(17, udp(50000, 6081, geneve(0x6558, ether(0x0800, INNER_V4))))
  assert.deepEqual(brief(decode(eth)), TUNNELLED)
  assert.deepEqual(brief(decode(outer(17, udp(50000, 6081, geneve(0x0800, INNER_V4))))), TUNNELLED)
  const v6 = packet(decode(outer(17, udp(50000, 6081, geneve(0x86dd, ipv6(6, tcp()))))))
  assert.deepEqual([v6.ipVersion, v6.tunnelled], [6, true])
  const unknown = packet(decode(outer(17, udp(50000, 6081, geneve(0x1234, INNER_V4)))))
  assert.equal(unknown.tunnelled, false)
})

test('GTP-U: plain G-PDU, with sequence number, with extension headers; echo stays UDP', () => {
  const gtp = (flags: number, type: number, extra: number[], payload: Uint8Array) =>
    build((b) =>
      b
        .u8(flags)
        .u8(type)
        .u16(extra.length + payload.length)
        .u32(0x11223344)
        .bytes(extra)
        .bytes(payload),
    )
  const plain = gtp(0x30, 0xff, [], INNER_V4)
  assert.deepEqual(brief(decode(outer(17, udp(2152, 2152, plain)))), TUNNELLED)
  const seq = gtp(0x32, 0xff, [0, 7, 0, 0], INNER_V4)
  assert.deepEqual(brief(decode(outer(17, udp(2152, 2152, seq)))), TUNNELLED)
  // E flag: next extension type 0x85 (PDU session container), 4-byte extension ending in 0.
  const ext = gtp(0x34, 0xff, [0, 0, 0, 0x85, 1, 0x10, 0x09, 0], INNER_V4)
  assert.deepEqual(brief(decode(outer(17, udp(2152, 2152, ext)))), TUNNELLED)
  const echo = packet(
    decode(outer(17, udp(2152, 2152, gtp(0x32, 1, [0, 1, 0, 0], new Uint8Array(0))))),
  )
  assert.equal(echo.tunnelled, false)
})

test('VXLAN in GRE in IPv4: the innermost headers win', () => {
  const vx = ipv4({ proto: 17, ttl: 9, payload: udp(1, 4789, vxlan(ether(0x0800, INNER_V4))) })
  const pkt = outer(47, gre(0, 0x88be, ether(0x8100, vlan(0x0800, vx))))
  assert.deepEqual(brief(decode(pkt)), TUNNELLED)
})

// ---- fragments -------------------------------------------------------------------------------

/** Splits the IPv4 payload of `INNER_V4`-like packets into fragments of `size` bytes. */
function fragments(payload: Uint8Array, size: number, id = 0x4242): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let off = 0; off < payload.length; off += size) {
    const part = payload.subarray(off, off + size)
    const more = off + size < payload.length
    out.push(ether(0x0800, ipv4({ proto: 6, id, fragOffset: off, more, payload: part })))
  }
  return out
}

const SEGMENT = tcp({ sport: 40000, payload: Uint8Array.from({ length: 100 }, (_, i) => i) })

function feed(dec: PacketDecoder, frames: Uint8Array[], tsUs = 1_000_000): DecodeOutcome[] {
  return frames.map((f, i) => dec.decode(rec(f, LinkType.ETHERNET, tsUs + i)))
}

test('IPv4 fragments in order and in reverse reassemble to the original segment', () => {
  for (const order of ['forward', 'reverse', 'middle-last']) {
    const frags = fragments(SEGMENT, 40)
    if (order === 'reverse') frags.reverse()
    if (order === 'middle-last') frags.push(...frags.splice(1, 1))
    const dec = new PacketDecoder()
    const outs = feed(dec, frags)
    assert.deepEqual(
      outs.slice(0, -1).map((o) => o.kind),
      ['fragment_held', 'fragment_held'],
      order,
    )
    const p = packet(outs[2]!)
    assert.equal(p.srcPort, 40000)
    assert.equal(toHex(p.payload), toHex(SEGMENT.subarray(20)), order)
    assert.deepEqual(outs[2]!.anomalies, [])
    assert.equal(dec.pendingFragmentDatagrams, 0)
  }
})

test('overlapping fragments: first wins, with an anomaly; an exact duplicate is silent', () => {
  const dec = new PacketDecoder()
  const [a, b, c] = fragments(SEGMENT, 48)
  const evil = Uint8Array.from(SEGMENT.subarray(40, 96), () => 0xee)
  const overlap = ether(
    0x0800,
    ipv4({ proto: 6, id: 0x4242, fragOffset: 40, more: true, payload: evil }),
  )
  const outs = feed(dec, [a!, b!, b!, overlap, c!])
  assert.deepEqual(
    outs.map((o) => [o.kind, o.anomalies]),
    [
      ['fragment_held', []],
      ['fragment_held', []],
      ['fragment_held', []],
      ['fragment_held', ['ip.fragment_overlap']],
      ['packet', []],
    ],
  )
  assert.equal(toHex(packet(outs[4]!).payload), toHex(SEGMENT.subarray(20)))
})

test('fragment timeout drops the incomplete datagram', () => {
  const dec = new PacketDecoder({ fragmentTimeoutUs: 1_000 })
  const [a, b, c] = fragments(SEGMENT, 48)
  assert.equal(dec.decode(rec(a!, 1, 0)).kind, 'fragment_held')
  assert.equal(dec.decode(rec(b!, 1, 500)).kind, 'fragment_held')
  const late = dec.decode(rec(c!, 1, 2_000))
  assert.deepEqual(late, { kind: 'fragment_held', anomalies: ['ip.fragment_timeout'] })
  assert.equal(dec.pendingFragmentDatagrams, 1)
})

test('fragment limits: datagrams held, fragments per datagram, datagram size', () => {
  const dec = new PacketDecoder({ maxFragmentDatagrams: 2 })
  const first = (id: number) => fragments(SEGMENT, 48, id)
  feed(dec, [first(1)[0]!, first(2)[0]!])
  const third = dec.decode(rec(first(3)[0]!))
  assert.deepEqual(third.anomalies, ['ip.fragment_limit'])
  assert.equal(dec.pendingFragmentDatagrams, 2)
  // Datagram 1 was evicted: its remaining fragments no longer complete it.
  const rest = feed(dec, first(1).slice(1))
  assert.ok(rest.every((o) => o.kind !== 'packet'))

  const many = new PacketDecoder()
  const tiny = fragments(
    build((b) => b.zeros(8 * 70)),
    8,
    9,
  )
  const outs = feed(many, tiny)
  assert.ok(outs.some((o) => o.anomalies.includes('ip.fragment_limit')))
  assert.ok(outs.every((o) => o.kind !== 'packet'))

  const huge = ether(
    0x0800,
    ipv4({ proto: 6, id: 5, fragOffset: 65528, more: false, payload: new Uint8Array(16) }),
  )
  assert.deepEqual(new PacketDecoder().decode(rec(huge)), {
    kind: 'ignored',
    anomalies: ['ip.fragment_limit'],
  })
})

test('IPv6 Fragment header reassembly', () => {
  const seg = SEGMENT
  const frag6 = (off: number, more: boolean, part: Uint8Array) =>
    ether(
      0x86dd,
      ipv6(
        44,
        build((b) =>
          b
            .u8(6)
            .u8(0)
            .u16(off | (more ? 1 : 0))
            .u32(0xabcdef01)
            .bytes(part),
        ),
      ),
    )
  const dec = new PacketDecoder()
  const outs = feed(dec, [frag6(64, false, seg.subarray(64)), frag6(0, true, seg.subarray(0, 64))])
  assert.equal(outs[0]!.kind, 'fragment_held')
  const p = packet(outs[1]!)
  assert.deepEqual([p.ipVersion, p.srcPort, toHex(p.payload)], [6, 40000, toHex(seg.subarray(20))])
})

test('a fragmented tunnel packet reassembles before decapsulation', () => {
  const gre0 = gre(0, 0x0800, INNER_V4)
  const dec = new PacketDecoder()
  const mk = (off: number, more: boolean, part: Uint8Array) =>
    ether(0x0800, ipv4({ proto: 47, ttl: 200, id: 7, fragOffset: off, more, payload: part }))
  const outs = feed(dec, [mk(0, true, gre0.subarray(0, 24)), mk(24, false, gre0.subarray(24))])
  assert.deepEqual(brief(outs[1]!), { ...TUNNELLED, ttl: 200 })
})

// ---- formatIp --------------------------------------------------------------------------------

test('formatIp: IPv4 dotted, IPv6 per RFC 5952', () => {
  const cases: [string, string][] = [
    ['c0000201', '192.0.2.1'],
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    // §4.2.2: a single 16-bit zero field is not shortened.
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    // §4.2.3: the longest run is shortened; on a tie, the first one.
    ['20010000000000010000000000000001', '2001:0:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['fe800000000000000202b3fffe1e8329', 'fe80::202:b3ff:fe1e:8329'],
    ['20010db8000000000000000000000000', '2001:db8::'],
    // §5: IPv4-mapped addresses in mixed notation.
    ['00000000000000000000ffffc0000280', '::ffff:192.0.2.128'],
    ['ABCD00000000000000000000000000FF', 'abcd::ff'],
  ]
  for (const [hex, text] of cases) assert.equal(formatIp(fromHex(hex)), text)
})

// ---- robustness ------------------------------------------------------------------------------

test('decode never throws on arbitrary bytes for any link type', () => {
  const dec = new PacketDecoder()
  const linkTypes = [0, 1, 101, 108, 113, 228, 229, 276]
  const prefixes = [
    new Uint8Array(0),
    ether(0x0800, new Uint8Array(0)).subarray(0, 14),
    outer(47, new Uint8Array(0)),
    outer(17, udp(1, 4789, new Uint8Array(0))).subarray(0, 42),
    outer(17, udp(2152, 2152, new Uint8Array(0))).subarray(0, 42),
  ]
  fc.assert(
    fc.property(
      fc.constantFrom(...linkTypes),
      fc.constantFrom(...prefixes),
      fc.uint8Array({ maxLength: 200 }),
      (lt, prefix, tail) => {
        const data = build((b) => b.bytes(prefix).bytes(tail))
        const out = dec.decode(rec(data, lt))
        assert.ok(['packet', 'ignored', 'error', 'fragment_held'].includes(out.kind))
      },
    ),
    { numRuns: 2000 },
  )
})

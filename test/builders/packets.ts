/** Builders for Ethernet/IP/TCP/UDP packets and pcap/pcapng captures in tests. */
import { ByteBuilder } from '../../src/bytes/builder.ts'

export interface TcpSpec {
  src: [number, number, number, number]
  dst: [number, number, number, number]
  sport: number
  dport: number
  seq: number
  ack?: number
  flags: number
  payload?: Uint8Array
  ttl?: number
  window?: number
  options?: Uint8Array
}

export function ipv4(
  src: number[],
  dst: number[],
  proto: number,
  payload: Uint8Array,
  ttl = 64,
  id = 1,
  fragField = 0x4000,
): Uint8Array {
  return new ByteBuilder()
    .u8(0x45)
    .u8(0)
    .u16(20 + payload.length)
    .u16(id)
    .u16(fragField)
    .u8(ttl)
    .u8(proto)
    .u16(0)
    .bytes(src)
    .bytes(dst)
    .bytes(payload)
    .build()
}

export function tcpSegment(s: TcpSpec): Uint8Array {
  const opts = s.options ?? new Uint8Array()
  const hl = 20 + opts.length
  return new ByteBuilder()
    .u16(s.sport)
    .u16(s.dport)
    .u32(s.seq >>> 0)
    .u32((s.ack ?? 0) >>> 0)
    .u8((hl / 4) << 4)
    .u8(s.flags)
    .u16(s.window ?? 65535)
    .u16(0)
    .u16(0)
    .bytes(opts)
    .bytes(s.payload ?? new Uint8Array())
    .build()
}

export function udpDatagram(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return new ByteBuilder()
    .u16(sport)
    .u16(dport)
    .u16(8 + payload.length)
    .u16(0)
    .bytes(payload)
    .build()
}

export function ethernet(ethertype: number, payload: Uint8Array): Uint8Array {
  return new ByteBuilder()
    .bytes([2, 0, 0, 0, 0, 2])
    .bytes([2, 0, 0, 0, 0, 1])
    .u16(ethertype)
    .bytes(payload)
    .build()
}

export function ethTcp(s: TcpSpec): Uint8Array {
  return ethernet(0x0800, ipv4(s.src, s.dst, 6, tcpSegment(s), s.ttl ?? 64))
}

export interface CapturedPacket {
  tsUs: number
  data: Uint8Array
}

/** Classic pcap, µs resolution, little-endian, LINKTYPE_ETHERNET unless given. */
export function pcapFile(packets: CapturedPacket[], linkType = 1): Uint8Array {
  const b = new ByteBuilder()
    .u32le(0xa1b2c3d4)
    .u16le(2)
    .u16le(4)
    .u32le(0)
    .u32le(0)
    .u32le(262144)
    .u32le(linkType)
  for (const p of packets) {
    b.u32le(Math.floor(p.tsUs / 1e6))
      .u32le(p.tsUs % 1e6)
      .u32le(p.data.length)
      .u32le(p.data.length)
      .bytes(p.data)
  }
  return b.build()
}

/** pcapng: one section, one Ethernet interface (µs), one EPB per packet. */
export function pcapngFile(packets: CapturedPacket[], linkType = 1): Uint8Array {
  const b = new ByteBuilder()
  const block = (type: number, body: Uint8Array): void => {
    const pad = (4 - (body.length % 4)) % 4
    const len = 12 + body.length + pad
    b.u32le(type).u32le(len).bytes(body).zeros(pad).u32le(len)
  }
  block(
    0x0a0d0d0a,
    new ByteBuilder()
      .u32le(0x1a2b3c4d)
      .u16le(1)
      .u16le(0)
      .u32le(0xffffffff)
      .u32le(0xffffffff)
      .build(),
  )
  block(1, new ByteBuilder().u16le(linkType).u16le(0).u32le(262144).build())
  for (const p of packets) {
    const hi = Math.floor(p.tsUs / 2 ** 32)
    const lo = p.tsUs % 2 ** 32
    block(
      6,
      new ByteBuilder()
        .u32le(0)
        .u32le(hi)
        .u32le(lo)
        .u32le(p.data.length)
        .u32le(p.data.length)
        .bytes(p.data)
        .build(),
    )
  }
  return b.build()
}

/** A full TCP connection: handshake, client flight, server flight, FIN. */
export function tcpConversation(opts: {
  client?: [number, number, number, number]
  server?: [number, number, number, number]
  sport?: number
  dport?: number
  clientData?: Uint8Array[]
  serverData?: Uint8Array[]
  /** Interleaved flights in order (`c` client, `s` server); replaces clientData/serverData. */
  flights?: ['c' | 's', Uint8Array][]
  t0Us?: number
}): CapturedPacket[] {
  const c = opts.client ?? [10, 0, 0, 1]
  const s = opts.server ?? [10, 0, 0, 2]
  const sport = opts.sport ?? 50000
  const dport = opts.dport ?? 443
  let t = opts.t0Us ?? 1_700_000_000_000_000
  let cseq = 1000
  let sseq = 9000
  const out: CapturedPacket[] = []
  const cpkt = (flags: number, payload?: Uint8Array): void => {
    out.push({
      tsUs: (t += 100),
      data: ethTcp({ src: c, dst: s, sport, dport, seq: cseq, ack: sseq, flags, payload }),
    })
  }
  const spkt = (flags: number, payload?: Uint8Array): void => {
    out.push({
      tsUs: (t += 100),
      data: ethTcp({
        src: s,
        dst: c,
        sport: dport,
        dport: sport,
        seq: sseq,
        ack: cseq,
        flags,
        payload,
      }),
    })
  }
  cpkt(0x02)
  cseq++
  spkt(0x12)
  sseq++
  cpkt(0x10)
  const flights: ['c' | 's', Uint8Array][] = opts.flights ?? [
    ...(opts.clientData ?? []).map((d): ['c', Uint8Array] => ['c', d]),
    ...(opts.serverData ?? []).map((d): ['s', Uint8Array] => ['s', d]),
  ]
  for (const [who, d] of flights) {
    if (who === 'c') {
      cpkt(0x18, d)
      cseq += d.length
    } else {
      spkt(0x18, d)
      sseq += d.length
    }
  }
  cpkt(0x11)
  spkt(0x11)
  return out
}

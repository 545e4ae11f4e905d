/**
 * @module pipeline/handshakes
 * Packets → flows → reassembled TLS/DTLS handshakes → `tls` events. Shared by `analyze` (files,
 * stdin) and live capture: it holds every piece of per-flow state and all of it is bounded.
 */
import type { PacketRecord } from '../protocols/pcap/types.ts'
import type { DecodedPacket, TcpHeader } from '../protocols/link/types.ts'
import { PacketDecoder, formatIp } from '../protocols/link/decode.ts'
import { FlowTable, flowHash, flowKey } from '../protocols/tcp/flows.ts'
import { TcpFlag, TcpStreamReassembler } from '../protocols/tcp/reassembly.ts'
import { FINISHED_FLOW_TIMEOUT_US, MAX_TCP_STREAM_BYTES } from '../protocols/limits.ts'
import { TlsHandshakeStream } from '../protocols/tls/stream.ts'
import { DtlsHandshakeStream, looksLikeDtls } from '../protocols/tls/dtls.ts'
import {
  QuicCryptoStream,
  decryptInitial,
  initialKeys,
  parseInitialFrames,
  parseLongHeaders,
} from '../protocols/quic/index.ts'
import { parseClientHello } from '../protocols/tls/client-hello.ts'
import { parseServerHello } from '../protocols/tls/server-hello.ts'
import { isGrease } from '../protocols/tls/registry.ts'
import type { ClientHello, HandshakeMessage, ServerHello } from '../protocols/tls/types.ts'
import { ja3, ja3s } from '../fingerprints/ja3.ts'
import { ja4 } from '../fingerprints/ja4.ts'
import { ja4Stable } from '../fingerprints/ja4-stable.ts'
import { resumptionSignals } from '../protocols/tls/resumption.ts'
import { ja4s } from '../fingerprints/ja4plus/ja4s.ts'
import { ja4t } from '../fingerprints/ja4plus/ja4t.ts'
import { ja4l } from '../fingerprints/ja4plus/ja4l.ts'
import { familySwitches, type Family, type FamilySwitches } from '../fingerprints/families.ts'
import type { TlsEvent, Transport } from '../events/tls.ts'
import { emptyStats, type HandshakeEngineStats } from './stats.ts'

export { addStats, emptyStats, type HandshakeEngineStats } from './stats.ts'
import { isoFromUs } from '../events/time.ts'

const HANDSHAKE_CLIENT_HELLO = 1
const HANDSHAKE_SERVER_HELLO = 2

export interface HandshakeEngineOptions {
  onEvent: (event: TlsEvent) => void
  /** Compute the FoxIO-licensed JA4+ families (JA4S here). */
  ja4plus?: boolean
  /** Families to compute (default all); JA4+ ones only when `ja4plus` is on. */
  families?: readonly Family[]
  maxFlows?: number
  idleTimeoutUs?: number
  /**
   * Follow only the flows whose direction-free hash falls in this shard (worker `index` of
   * `count`); every packet is still decoded, so IP fragments reassemble in every shard.
   */
  shard?: { index: number; count: number }
}

/**
 * One side of a flow. The parsers are made when the side first carries payload: most packets of
 * a connection (SYNs, pure ACKs) need none of them.
 */
interface Direction {
  reasm: TcpStreamReassembler | undefined
  tls: TlsHandshakeStream | undefined
  dtls: DtlsHandshakeStream | undefined
  /** QUIC: the CRYPTO stream of this side's Initial packets (RFC 9001 §4.1.3). */
  quic: QuicCryptoStream | undefined
  /** Sequence number of the SYN, kept until the reassembler exists. */
  synSeq: number | undefined
  gaps: number
  /** The direction stopped carrying handshake data (encrypted, not TLS, limit). */
  finished: boolean
  fin: boolean
}

/** What an event needs from a ClientHello, computed when it parses (the body is not kept). */
type ClientFields = Pick<
  TlsEvent,
  | 'sni'
  | 'alpn'
  | 'ja3'
  | 'ja3_str'
  | 'ja4'
  | 'ja4_r'
  | 'ja4_o'
  | 'ja4_ro'
  | 'ja4_stable'
  | 'resumption'
> & { tlsVersion: string }

interface PendingHello {
  /** Undefined for an SSLv2-format hello (recognised, never fingerprinted). */
  client: ClientFields | undefined
  index: number
  tsUs: number
  /** Index (0/1, low/high endpoint) of the client for this hello. */
  clientDir: 0 | 1
  anomalies: string[]
}

interface Flow {
  key: string
  transport: Transport
  /** Endpoints as low (0) / high (1) by key order; copies, the packet's views do not last. */
  ip: [string, string]
  port: [number, number]
  /** Which endpoint is the client, once known (SYN, SYN-ACK or first ClientHello). */
  clientDir: 0 | 1 | undefined
  roleFromSyn: boolean
  dirs: [Direction, Direction]
  pending: PendingHello[]
  hellos: number
  done: boolean
  /** QUIC: version and Destination Connection ID of the client's latest Initial (its keys). */
  quicVersion: number
  quicDcid: Uint8Array | undefined
  /** TCP handshake timing and shape (JA4T/JA4TS/JA4L): first SYN, first SYN-ACK, the client's
   * first packet after the SYN-ACK; -1 / '' until seen. */
  synUs: number
  synTtl: number
  ja4t: string
  synAckUs: number
  synAckTtl: number
  ja4ts: string
  clientAfterSynAckUs: number
}

const EMPTY_ANOMALIES: readonly string[] = []

export class HandshakeEngine {
  readonly stats: HandshakeEngineStats = emptyStats()

  private readonly decoder = new PacketDecoder()
  private readonly flows: FlowTable<Flow>
  private readonly onEvent: (event: TlsEvent) => void
  private readonly fam: FamilySwitches
  private readonly chunks: Uint8Array[] = []
  /** TCP connections whose handshakes are over, until their teardown or a short timeout. */
  private readonly finished: FlowTable<{ fins: number }>
  private readonly shardIndex: number
  private readonly shardCount: number

  constructor(opts: HandshakeEngineOptions) {
    this.onEvent = opts.onEvent
    this.fam = familySwitches(opts.families, opts.ja4plus ?? true)
    this.shardIndex = opts.shard?.index ?? 0
    this.shardCount = opts.shard?.count ?? 1
    this.flows = new FlowTable<Flow>({
      maxFlows: opts.maxFlows,
      idleTimeoutUs: opts.idleTimeoutUs,
      onExpire: (flow, reason) => {
        if (reason === 'evicted') this.stats.flowsEvicted++
        this.flushFlow(flow)
      },
    })
    this.finished = new FlowTable<{ fins: number }>({
      maxFlows: opts.maxFlows,
      idleTimeoutUs: FINISHED_FLOW_TIMEOUT_US,
    })
  }

  /** Feeds one captured packet. Never throws on packet contents. */
  packet(rec: PacketRecord): void {
    // With shards, packet-level counters belong to shard 0 and flow-level ones to the flow's
    // shard, so the per-shard statistics simply add up.
    const counts = this.shardIndex === 0
    if (counts) this.stats.packets++
    if (this.shardCount > 1) {
      const h = this.decoder.quickFlowHash(rec)
      if (h >= 0 && h % this.shardCount !== this.shardIndex) return
    }
    const out = this.decoder.decode(rec)
    if (counts) for (const a of out.anomalies) this.count(a)
    if (out.kind === 'ignored' || out.kind === 'fragment_held') {
      if (out.kind === 'ignored' && counts) this.stats.ignored++
      return
    }
    if (out.kind === 'error') {
      if (counts) this.stats.undecodable++
      return
    }
    const p = out.packet
    if (this.shardCount > 1) {
      const h = flowHash(p.srcIp, p.srcPort, p.dstIp, p.dstPort)
      if (h % this.shardCount !== this.shardIndex) return
    }
    this.stats.decoded++
    this.flows.tick(rec.tsUs)
    this.finished.tick(rec.tsUs)
    if (p.protocol === 6 && p.tcp !== undefined) this.tcp(p, rec.tsUs)
    else if (p.protocol === 17) this.udp(p, rec.tsUs)
  }

  /** Flows held right now: being followed, and finished ones awaiting their teardown. */
  get tracked(): { active: number; finished: number } {
    return { active: this.flows.size, finished: this.finished.size }
  }

  /** End of input: every pending hello is emitted. Returns the final statistics. */
  finish(): HandshakeEngineStats {
    this.flows.drain()
    return this.stats
  }

  private count(code: string, n = 1): void {
    this.stats.anomalies[code] = (this.stats.anomalies[code] ?? 0) + n
  }

  private newFlow(key: string, p: DecodedPacket, srcIsLow: boolean, transport: Transport): Flow {
    // Formatted once per flow: the packet's address views do not outlive the call.
    const src = formatIp(p.srcIp)
    const dst = formatIp(p.dstIp)
    const dir = (): Direction => ({
      reasm: undefined,
      tls: undefined,
      dtls: undefined,
      quic: undefined,
      synSeq: undefined,
      gaps: 0,
      finished: false,
      fin: false,
    })
    this.stats.flows++
    return {
      key,
      transport,
      ip: srcIsLow ? [src, dst] : [dst, src],
      port: srcIsLow ? [p.srcPort, p.dstPort] : [p.dstPort, p.srcPort],
      clientDir: undefined,
      roleFromSyn: false,
      dirs: [dir(), dir()],
      pending: [],
      hellos: 0,
      done: false,
      quicVersion: 0,
      quicDcid: undefined,
      synUs: -1,
      synTtl: -1,
      ja4t: '',
      synAckUs: -1,
      synAckTtl: -1,
      ja4ts: '',
      clientAfterSynAckUs: -1,
    }
  }

  private tcp(p: DecodedPacket, tsUs: number): void {
    const tcp = p.tcp
    if (tcp === undefined) return
    const { key, srcIsLow } = flowKey(6, p.srcIp, p.srcPort, p.dstIp, p.dstPort)
    const d: 0 | 1 = srcIsLow ? 0 : 1
    const syn = (tcp.flags & TcpFlag.SYN) !== 0
    const newConnection = syn && (tcp.flags & TcpFlag.ACK) === 0
    let flow = this.flows.get(key, tsUs)
    if (flow === undefined) {
      const t = this.finished.get(key, tsUs)
      if (t !== undefined) {
        // A connection whose handshakes are over: only its teardown (or a new SYN reusing the
        // tuple) matters.
        if (!newConnection) {
          if ((tcp.flags & TcpFlag.RST) !== 0) this.finished.close(key)
          else if ((tcp.flags & TcpFlag.FIN) !== 0) {
            t.fins |= d === 0 ? 1 : 2
            if (t.fins === 3) this.finished.close(key)
          }
          return
        }
        this.finished.close(key)
      }
    } else if (newConnection && flow.hellos > 0) {
      // A new SYN on a tuple that already carried a handshake: the port was reused by a new
      // connection whose teardown we did not see.
      this.flows.close(key)
      flow = undefined
    }
    if (flow === undefined) {
      // Pure ACKs, FINs and RSTs of flows we never saw start carry nothing to fingerprint.
      if (!syn && p.payload.length === 0) return
      flow = this.newFlow(key, p, srcIsLow, 'tcp')
      this.flows.add(key, flow, tsUs)
    }
    const dir = flow.dirs[d]
    const fin = (tcp.flags & TcpFlag.FIN) !== 0
    // Marked before the payload is parsed: a segment may finish the handshake and carry a FIN.
    if (fin) dir.fin = true
    if (syn) {
      // RFC 9293 §3.5: the SYN sender is the client; the SYN-ACK's receiver likewise.
      // ECE/CWR may be set on SYNs (RFC 3168), so classify by the SYN/ACK bits only.
      if (!flow.roleFromSyn) {
        flow.clientDir = (tcp.flags & TcpFlag.ACK) === 0 ? d : d === 0 ? 1 : 0
        flow.roleFromSyn = true
      }
      if (this.fam.ja4t || this.fam.ja4l) this.tcpHandshake(flow, tcp, p.ttl, tsUs)
      if (dir.reasm !== undefined) dir.reasm.syn(tcp.seq)
      else dir.synSeq = tcp.seq
    } else if (flow.synAckUs >= 0 && flow.clientAfterSynAckUs < 0 && d === flow.clientDir) {
      // JA4L-C: the client's first packet after the SYN-ACK (normally the handshake's ACK).
      flow.clientAfterSynAckUs = tsUs
    }
    if (p.payload.length > 0 && !dir.finished) {
      let reasm = dir.reasm
      if (reasm === undefined) {
        reasm = dir.reasm = new TcpStreamReassembler(MAX_TCP_STREAM_BYTES)
        if (dir.synSeq !== undefined) reasm.syn(dir.synSeq)
      }
      const chunks = this.chunks
      chunks.length = 0
      reasm.push(tcp.seq, p.payload, chunks)
      if (reasm.gaps !== dir.gaps) {
        // Bytes are missing from the capture: resynchronise on the next record header.
        dir.gaps = reasm.gaps
        dir.tls = undefined
      }
      for (const chunk of chunks) {
        // Bodies as views: every field an event needs is taken from a hello as soon as it parses.
        const tls = (dir.tls ??= new TlsHandshakeStream({ ownBodies: false }))
        const msgs = tls.push(chunk)
        for (const m of msgs) this.message(flow, d, m, tsUs)
        if (tls.state === 'sslv2') this.sslv2Hello(flow, d, tsUs)
        if (
          tls.state === 'encrypted' ||
          tls.state === 'not_tls' ||
          tls.state === 'sslv2' ||
          tls.state === 'done'
        ) {
          this.finishDirection(flow, d, tsUs)
          break
        }
      }
      if (reasm.full && !dir.finished) this.finishDirection(flow, d, tsUs)
      if (flow.done) return
    }
    if ((tcp.flags & TcpFlag.RST) !== 0) {
      this.flows.close(key)
      return
    }
    if (fin && flow.dirs[0].fin && flow.dirs[1].fin) this.flows.close(key)
  }

  private udp(p: DecodedPacket, tsUs: number): void {
    if (p.payload.length === 0) return
    const { key, srcIsLow } = flowKey(17, p.srcIp, p.srcPort, p.dstIp, p.dstPort)
    const d: 0 | 1 = srcIsLow ? 0 : 1
    let flow = this.flows.get(key, tsUs)
    if (flow === undefined) {
      if (looksLikeDtls(p.payload)) {
        flow = this.newFlow(key, p, srcIsLow, 'dtls')
        this.flows.add(key, flow, tsUs)
      } else {
        const initial = clientInitial(p.payload)
        if (initial === undefined) return
        // RFC 9000 §17.2.2: the first Initial of a connection comes from the client.
        flow = this.newFlow(key, p, srcIsLow, 'quic')
        flow.clientDir = d
        flow.quicVersion = initial.version
        flow.quicDcid = initial.dcid
        this.flows.add(key, flow, tsUs)
      }
    }
    if (flow.done) return
    const dir = flow.dirs[d]
    if (dir.finished) return
    if (flow.transport === 'quic') {
      this.quicDatagram(flow, d, p.payload, tsUs)
      return
    }
    const dtls = (dir.dtls ??= new DtlsHandshakeStream())
    for (const m of dtls.push(p.payload)) this.message(flow, d, m, tsUs)
  }

  /** The first SYN and first SYN-ACK of a connection (classified by the SYN/ACK bits). */
  private tcpHandshake(flow: Flow, tcp: TcpHeader, ttl: number, tsUs: number): void {
    if ((tcp.flags & TcpFlag.ACK) === 0) {
      if (flow.synUs >= 0) return
      flow.synUs = tsUs
      flow.synTtl = ttl
      if (this.fam.ja4t) flow.ja4t = ja4t(tcp.window, tcp.options)
    } else {
      if (flow.synAckUs >= 0) return
      flow.synAckUs = tsUs
      flow.synAckTtl = ttl
      if (this.fam.ja4t) flow.ja4ts = ja4t(tcp.window, tcp.options)
    }
  }

  /**
   * Opens the Initial packets of a QUIC datagram and feeds their CRYPTO frames to this side's
   * stream. RFC 9001 §5.2: both sides' Initial keys derive from the Destination Connection ID of
   * the client's Initial, which the client's own packets carry (a new one after a Retry).
   */
  private quicDatagram(flow: Flow, d: 0 | 1, payload: Uint8Array, tsUs: number): void {
    const fromClient = d === flow.clientDir
    for (const pkt of parseLongHeaders(payload).packets) {
      if (pkt.type !== 'initial') continue
      this.stats.quicPackets++
      if (fromClient) {
        flow.quicVersion = pkt.version
        flow.quicDcid = pkt.dcid.slice()
      }
      const dcid = flow.quicDcid
      if (dcid === undefined) continue
      const keys = initialKeys(flow.quicVersion, dcid)
      if (keys === undefined) continue
      const opened = decryptInitial(pkt, fromClient ? keys.client : keys.server)
      if (!opened.ok) {
        this.count(`quic.initial_${opened.error}`)
        continue
      }
      const dir = flow.dirs[d]
      const stream = (dir.quic ??= new QuicCryptoStream())
      for (const chunk of parseInitialFrames(opened.value.payload).crypto) {
        for (const m of stream.push(chunk.offset, chunk.data)) this.message(flow, d, m, tsUs)
      }
    }
  }

  private finishDirection(flow: Flow, d: 0 | 1, tsUs: number): void {
    const dir = flow.dirs[d]
    this.releaseDirection(dir)
    const other = flow.dirs[d === 0 ? 1 : 0]
    if (other.finished && flow.transport === 'tcp') {
      // Nothing more to learn from this connection: emit what is pending and keep only a small
      // tombstone, so its later packets are not mistaken for a new one and its FINs close it.
      flow.done = true
      this.flows.close(flow.key)
      const fins = (flow.dirs[0].fin ? 1 : 0) | (flow.dirs[1].fin ? 2 : 0)
      this.finished.add(flow.key, { fins }, tsUs)
    }
  }

  /** An SSLv2-format ClientHello: kept so the server's answer is still reported. */
  private sslv2Hello(flow: Flow, d: 0 | 1, tsUs: number): void {
    this.stats.clientHellos++
    if (!flow.roleFromSyn && flow.clientDir === undefined) flow.clientDir = d
    flow.hellos++
    flow.pending.push({
      client: undefined,
      index: flow.hellos,
      tsUs,
      clientDir: d,
      anomalies: ['tls.sslv2_hello'],
    })
  }

  private message(flow: Flow, d: 0 | 1, m: HandshakeMessage, tsUs: number): void {
    const dtls = flow.transport === 'dtls'
    if (m.type === HANDSHAKE_CLIENT_HELLO) {
      this.stats.clientHellos++
      const res = parseClientHello(m.body, { dtls })
      if (!res.ok) {
        this.stats.badHellos++
        this.count(`tls.client_hello_${res.error.code}`)
        return
      }
      if (!flow.roleFromSyn && flow.clientDir === undefined) flow.clientDir = d
      // A second hello before any server answer (retransmission by a new record, or a client
      // that restarts): the earlier one gets no server fields.
      for (const p of flow.pending) if (p.clientDir === d) this.emitPending(flow, p, undefined)
      flow.pending = flow.pending.filter((p) => p.clientDir !== d)
      flow.hellos++
      flow.pending.push({
        client: clientFields(res.value, letter(flow.transport), this.fam),
        index: flow.hellos,
        tsUs,
        clientDir: d,
        anomalies: [...res.value.anomalies],
      })
      return
    }
    if (m.type === HANDSHAKE_SERVER_HELLO) {
      this.stats.serverHellos++
      const res = parseServerHello(m.body, { dtls, following: m.following })
      if (!res.ok) {
        this.count(`tls.server_hello_${res.error.code}`)
        return
      }
      const i = flow.pending.findIndex((p) => p.clientDir !== d)
      const ch = flow.pending[i]
      if (ch === undefined) {
        // The capture began after the ClientHello: report the server's side alone.
        this.stats.orphanServerHellos++
        const orphan: PendingHello = {
          client: undefined,
          index: 0,
          tsUs,
          clientDir: d === 0 ? 1 : 0,
          anomalies: ['tls.client_hello_not_seen'],
        }
        this.emitPending(flow, orphan, res.value)
        return
      }
      flow.pending.splice(i, 1)
      this.emitPending(flow, ch, res.value)
    }
  }

  private flushFlow(flow: Flow): void {
    const pending = flow.pending
    flow.pending = []
    for (const p of pending) this.emitPending(flow, p, undefined)
    for (const dir of flow.dirs) if (!dir.finished) this.releaseDirection(dir)
  }

  /** Counts a side's parser anomalies and drops its buffers. */
  private releaseDirection(dir: Direction): void {
    dir.finished = true
    for (const a of dir.tls?.anomalies ?? []) this.count(a)
    for (const a of dir.dtls?.anomalies ?? []) this.count(a)
    for (const a of dir.quic?.anomalies ?? []) this.count(a)
    for (const a of dir.reasm?.anomalies ?? []) this.count(a)
    dir.reasm?.release()
    dir.reasm = undefined
    dir.tls = undefined
    dir.dtls = undefined
    dir.quic = undefined
  }

  private emitPending(flow: Flow, p: PendingHello, sh: ServerHello | undefined): void {
    const ch = p.client
    const c = p.clientDir
    const s = c === 0 ? 1 : 0
    const j3s = sh === undefined || !this.fam.ja3s ? undefined : ja3s(sh)
    const j4s = sh === undefined || !this.fam.ja4s ? undefined : ja4s(sh, letter(flow.transport))
    let anomalies = p.anomalies.length === 0 ? EMPTY_ANOMALIES : p.anomalies
    if (sh !== undefined && sh.anomalies.length > 0)
      anomalies = [...new Set([...anomalies, ...sh.anomalies])]
    for (const a of anomalies) this.count(a)
    const event: TlsEvent = {
      type: 'tls',
      ts: isoFromUs(p.tsUs),
      src_ip: flow.ip[c],
      src_port: flow.port[c],
      dst_ip: flow.ip[s],
      dst_port: flow.port[s],
      transport: flow.transport,
      hello_index: p.index,
      sni: ch?.sni ?? null,
      alpn: ch?.alpn ?? [],
      tls_version: ch !== undefined ? ch.tlsVersion : p.index > 0 ? 'ssl2' : null,
      tls_version_negotiated:
        sh === undefined ? null : versionName(sh.selectedVersion ?? sh.legacyVersion),
      ja3: ch?.ja3 ?? null,
      ja3_str: ch?.ja3_str ?? null,
      ja4: ch?.ja4 ?? null,
      ja4_r: ch?.ja4_r ?? null,
      ja4_o: ch?.ja4_o ?? null,
      ja4_ro: ch?.ja4_ro ?? null,
      ja4_stable: ch?.ja4_stable ?? null,
      resumption: ch?.resumption ?? [],
      ja3s: j3s?.ja3s ?? null,
      ja3s_str: j3s?.ja3s_str ?? null,
      ja4s: j4s?.ja4s ?? null,
      ja4s_r: j4s?.ja4s_r ?? null,
      ja4t: flow.ja4t === '' ? null : flow.ja4t,
      ja4ts: flow.ja4ts === '' ? null : flow.ja4ts,
      ja4l_c:
        this.fam.ja4l && flow.synAckUs >= 0 && flow.clientAfterSynAckUs >= 0
          ? ja4l(flow.synAckUs, flow.clientAfterSynAckUs, flow.synTtl)
          : null,
      ja4l_s:
        this.fam.ja4l && flow.synUs >= 0 && flow.synAckUs >= 0
          ? ja4l(flow.synUs, flow.synAckUs, flow.synAckTtl)
          : null,
      anomalies: anomalies === EMPTY_ANOMALIES ? [] : [...anomalies],
    }
    this.stats.events++
    this.onEvent(event)
  }
}

/** The first packet of a datagram when it is a QUIC Initial of a version we can open. */
function clientInitial(payload: Uint8Array): { version: number; dcid: Uint8Array } | undefined {
  // RFC 9000 §17.2: long header = form bit and fixed bit set; cheap test before parsing.
  if (((payload[0] ?? 0) & 0xc0) !== 0xc0) return undefined
  const first = parseLongHeaders(payload).packets[0]
  if (first?.type !== 'initial' || initialKeys(first.version, first.dcid) === undefined)
    return undefined
  return { version: first.version, dcid: first.dcid.slice() }
}

function letter(t: Transport): 't' | 'd' | 'q' {
  return t === 'tcp' ? 't' : t === 'dtls' ? 'd' : 'q'
}

function clientFields(
  ch: ClientHello,
  transport: 't' | 'd' | 'q',
  fam: FamilySwitches,
): ClientFields {
  const j3 = fam.ja3 ? ja3(ch) : undefined
  // ja4_stable is derived from the JA4 computation, so it needs it even when JA4 is not shown.
  const j4 = fam.ja4 || fam.ja4_stable ? ja4(ch, transport) : undefined
  return {
    sni: ch.sni ?? null,
    alpn: ch.alpn.map(alpnName),
    tlsVersion: versionName(clientMaxVersion(ch)),
    ja3: j3?.ja3 ?? null,
    ja3_str: j3?.ja3_str ?? null,
    ja4: fam.ja4 ? (j4?.ja4 ?? null) : null,
    ja4_r: fam.ja4 ? (j4?.ja4_r ?? null) : null,
    ja4_o: fam.ja4 ? (j4?.ja4_o ?? null) : null,
    ja4_ro: fam.ja4 ? (j4?.ja4_ro ?? null) : null,
    ja4_stable: fam.ja4_stable && j4 !== undefined ? ja4Stable(ch, j4) : null,
    resumption: resumptionSignals(ch),
  }
}

function clientMaxVersion(ch: ClientHello): number {
  let max = -1
  for (const v of ch.supportedVersions) if (!isGrease(v) && v > max) max = v
  return max < 0 ? ch.legacyVersion : max
}

const VERSION_NAMES: Record<number, string> = {
  0x0002: 'ssl2',
  0x0300: 'ssl3',
  0x0301: '1.0',
  0x0302: '1.1',
  0x0303: '1.2',
  0x0304: '1.3',
  0xfeff: 'dtls1.0',
  0xfefd: 'dtls1.2',
  0xfefc: 'dtls1.3',
}

function versionName(v: number): string {
  return VERSION_NAMES[v] ?? `0x${v.toString(16).padStart(4, '0')}`
}

function alpnName(name: Uint8Array): string {
  let s = ''
  for (const b of name) {
    if (b < 0x20 || b > 0x7e)
      return '0x' + Array.from(name, (x) => x.toString(16).padStart(2, '0')).join('')
    s += String.fromCharCode(b)
  }
  return s
}

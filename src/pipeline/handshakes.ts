/**
 * @module pipeline/handshakes
 * Packets → flows → reassembled TLS/DTLS handshakes → `tls` events. Shared by `analyze` (files,
 * stdin) and live capture: it holds every piece of per-flow state and all of it is bounded.
 */
import type { PacketRecord } from '../protocols/pcap/types.ts'
import type { DecodedPacket, TcpHeader } from '../protocols/link/types.ts'
import { PacketDecoder, formatIp, type Ipv4Peek } from '../protocols/link/decode.ts'
import { FlowTable, RecentKeys, flowHash, flowKey } from '../protocols/tcp/flows.ts'
import { TcpFlag, TcpStreamReassembler } from '../protocols/tcp/reassembly.ts'
import {
  CLOSED_FLOW_TIMEOUT_US,
  FINISHED_FLOW_TIMEOUT_US,
  MAX_CLOSED_FLOWS_REMEMBERED,
  MAX_TCP_STREAM_BYTES,
} from '../protocols/limits.ts'
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
import type { HandshakeMessage, ServerHello } from '../protocols/tls/types.ts'
import { ja4t } from '../fingerprints/ja4plus/ja4t.ts'
import { ja4l } from '../fingerprints/ja4plus/ja4l.ts'
import { familySwitches, type Family, type FamilySwitches } from '../fingerprints/families.ts'
import type { TlsEvent, Transport } from '../events/tls.ts'
import type { TcpEvent } from '../events/tcp.ts'
import type { CaptureEvent } from '../events/capture.ts'
import { emptyStats, type HandshakeEngineStats } from './stats.ts'

export { addStats, emptyStats, type HandshakeEngineStats } from './stats.ts'
import { isoFromUs } from '../events/time.ts'
import type { HttpEvent } from '../events/http.ts'
import type { CertInfo } from '../events/tls.ts'
import { HttpRequestStream, looksLikeHttpRequest } from '../protocols/http/request.ts'
import type { HttpRequest } from '../protocols/http/types.ts'
import { ja4h } from '../fingerprints/ja4plus/ja4h.ts'
import { tfh } from '../fingerprints/tempesta.ts'
import { CertificateReader } from './certificates.ts'
import { NO_BODY, type DeferredSink } from './deferred-batch.ts'
import {
  NO_SERVER_PRINTS,
  clientFields,
  negotiatedVersion,
  serverPrints,
  tlsEvent,
  transportLetter,
  type ClientFields,
  type ServerPrints,
  type TlsEventBase,
} from './tls-fields.ts'

const HANDSHAKE_CLIENT_HELLO = 1
const HANDSHAKE_SERVER_HELLO = 2
const HANDSHAKE_CERTIFICATE = 11

export interface HandshakeEngineOptions {
  onEvent: (event: CaptureEvent) => void
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
  /** Name of this sensor on `http` events (NODE_NAME); default empty. */
  sensor?: string
  /**
   * Write `tls` events here without their fingerprints (and the hello bodies they need), to be
   * completed in another thread; other events still go to `onEvent`.
   */
  deferred?: DeferredSink
}

/**
 * One side of a flow. The parsers are made when the side first carries payload: most packets of
 * a connection (SYNs, pure ACKs) need none of them.
 */
interface Direction {
  reasm: TcpStreamReassembler | undefined
  tls: TlsHandshakeStream | undefined
  /** The TLS stream stopped (encrypted, not TLS, SSLv2, limit); kept for its anomalies. */
  tlsOver: boolean
  /** Cleartext HTTP requests, when the direction's first bytes are a request line. */
  http: HttpRequestStream | undefined
  httpChecked: boolean
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

interface PendingHello {
  /**
   * Computed as the hello parses (the body is not kept); undefined for an SSLv2-format hello
   * (recognised, never fingerprinted) and when fingerprints are deferred.
   */
  client: ClientFields | undefined
  /** Deferred fingerprints: the id of the body written to the sink, else NO_BODY. */
  body: number
  index: number
  tsUs: number
  /** Index (0/1, low/high endpoint) of the client for this hello. */
  clientDir: 0 | 1
  anomalies: string[]
}

/** What an event needs from a ServerHello, computed when it parses. */
interface ServerFields {
  prints: ServerPrints
  negotiated: string
  anomalies: readonly string[]
  /** Deferred fingerprints: ids of the body and of the bytes after it, else NO_BODY. */
  body: number
  following: number
}

/** A hello and the server's answer (if any), waiting for what follows it on the connection. */
interface Answer {
  hello: PendingHello
  server: ServerFields | undefined
  /** Certificates of the handshake that follows this hello (TLS <= 1.2, in cleartext). */
  certs: CertInfo[]
}

interface Flow {
  key: string
  transport: Transport
  /** Endpoints as low (0) / high (1) by key order; copies, the packet's views do not last. */
  ip: [string, string]
  /** IPv4 flows: the same two addresses as numbers (to match segments read by a peek). */
  ipv4: [number, number] | undefined
  port: [number, number]
  /** Which endpoint is the client, once known (SYN, SYN-ACK or first ClientHello). */
  clientDir: 0 | 1 | undefined
  roleFromSyn: boolean
  dirs: [Direction, Direction]
  pending: PendingHello[]
  /**
   * Answered hellos not yet emitted: a TCP connection's events wait for its end (both sides past
   * the cleartext handshake, or teardown), a QUIC one's for the client's first Handshake packet
   * (JA4L-C).
   */
  answers: Answer[]
  hellos: number
  /** A `tls` (or `http`) event of this connection was emitted: it carried the TCP fields. */
  reported: boolean
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
  /** QUIC timing for JA4L (FINGERPRINTS.md §5): first Initial of each side with its TTL, the
   * server's latest Handshake packet and the client's first one after it; -1 until seen. */
  qClientInitialUs: number
  qClientTtl: number
  qServerInitialUs: number
  qServerTtl: number
  qServerHandshakeUs: number
  qClientHandshakeUs: number
}

const EMPTY_ANOMALIES: readonly string[] = []

function newDirection(): Direction {
  return {
    reasm: undefined,
    tls: undefined,
    tlsOver: false,
    http: undefined,
    httpChecked: false,
    dtls: undefined,
    quic: undefined,
    synSeq: undefined,
    gaps: 0,
    finished: false,
    fin: false,
  }
}

function ipv4Of(ip: Uint8Array): number {
  return (((ip[0] ?? 0) << 24) | ((ip[1] ?? 0) << 16) | ((ip[2] ?? 0) << 8) | (ip[3] ?? 0)) >>> 0
}

function ipv4Pair(src: Uint8Array, dst: Uint8Array, srcIsLow: boolean): [number, number] {
  const s = ipv4Of(src)
  const d = ipv4Of(dst)
  return srcIsLow ? [s, d] : [d, s]
}

/** A direction-free small-integer key of an IPv4 endpoint pair (not unique: callers verify). */
function ackKey(a: number, aPort: number, b: number, bPort: number): number {
  const h = (x: number, port: number): number =>
    Math.imul((x ^ Math.imul(port + 1, 0x9e3779b1)) >>> 0, 0x85ebca6b) >>> 0
  return (h(a, aPort) + h(b, bPort)) & 0x3fffffff
}

function flowAckKey(ip: [number, number], port: [number, number]): number {
  return ackKey(ip[0], port[0], ip[1], port[1])
}

export class HandshakeEngine {
  readonly stats: HandshakeEngineStats = emptyStats()

  private readonly decoder = new PacketDecoder()
  private readonly flows: FlowTable<Flow>
  private readonly onEvent: (event: CaptureEvent) => void
  private readonly deferred: DeferredSink | undefined
  private readonly fam: FamilySwitches
  private readonly chunks: Uint8Array[] = []
  /** TCP connections whose handshakes are over, until their teardown or a short timeout. */
  private readonly finished: FlowTable<{ fins: number }>
  /**
   * Flows between their SYN-ACK and the client's next packet (JA4L-C), by `ackKey`: the only
   * ones a payload-less ACK, skipped before decoding, can matter to.
   */
  private readonly awaitingAck = new Map<number, Flow>()
  private readonly peek: Ipv4Peek = { src: 0, dst: 0, srcPort: 0, dstPort: 0 }
  /** Connections closed by both FINs, kept a while (TIME-WAIT) to absorb late retransmissions. */
  private readonly closed = new RecentKeys(MAX_CLOSED_FLOWS_REMEMBERED, CLOSED_FLOW_TIMEOUT_US)
  private readonly shardIndex: number
  private readonly shardCount: number
  private readonly sensor: string
  /** Made when certificates are wanted. */
  private readonly certs: CertificateReader | undefined

  constructor(opts: HandshakeEngineOptions) {
    this.onEvent = opts.onEvent
    this.deferred = opts.deferred
    this.fam = familySwitches(opts.families, opts.ja4plus ?? true)
    this.shardIndex = opts.shard?.index ?? 0
    this.shardCount = opts.shard?.count ?? 1
    this.sensor = opts.sensor ?? ''
    this.certs =
      this.fam.certs || this.fam.ja4x ? new CertificateReader({ ja4x: this.fam.ja4x }) : undefined
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
    if (this.decoder.peekPureAck(rec, this.peek)) {
      // Nothing to parse in it, and only its timing may matter (see `awaitingAck`).
      this.stats.decoded++
      this.flows.tick(rec.tsUs)
      this.finished.tick(rec.tsUs)
      if (this.awaitingAck.size > 0) this.pureAck(rec.tsUs)
      return
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

  /** A payload-less ACK read by the peek: the JA4L-C packet of a flow awaiting it? */
  private pureAck(tsUs: number): void {
    const k = this.peek
    const key = ackKey(k.src, k.srcPort, k.dst, k.dstPort)
    const flow = this.awaitingAck.get(key)
    if (flow?.ipv4 === undefined) return
    let d: 0 | 1
    if (flow.ipv4[0] === k.src && flow.port[0] === k.srcPort) d = 0
    else if (flow.ipv4[1] === k.src && flow.port[1] === k.srcPort) d = 1
    else return
    const other = d === 0 ? 1 : 0
    if (flow.ipv4[other] !== k.dst || flow.port[other] !== k.dstPort || d !== flow.clientDir) return
    flow.clientAfterSynAckUs = tsUs
    this.awaitingAck.delete(key)
  }

  /** Flows held right now: being followed, and finished ones awaiting their teardown. */
  get tracked(): { active: number; finished: number } {
    return { active: this.flows.size, finished: this.finished.size }
  }

  /**
   * Capture time moved to `tsUs` without a packet (a quiet live link): flows idle past their
   * timeout expire and emit what they hold.
   */
  tick(tsUs: number): void {
    this.flows.tick(tsUs)
    this.finished.tick(tsUs)
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
    this.stats.flows++
    return {
      key,
      transport,
      ip: srcIsLow ? [src, dst] : [dst, src],
      ipv4: p.srcIp.length === 4 ? ipv4Pair(p.srcIp, p.dstIp, srcIsLow) : undefined,
      port: srcIsLow ? [p.srcPort, p.dstPort] : [p.dstPort, p.srcPort],
      clientDir: undefined,
      roleFromSyn: false,
      dirs: [newDirection(), newDirection()],
      pending: [],
      answers: [],
      hellos: 0,
      reported: false,
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
      qClientInitialUs: -1,
      qClientTtl: -1,
      qServerInitialUs: -1,
      qServerTtl: -1,
      qServerHandshakeUs: -1,
      qClientHandshakeUs: -1,
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
            if (t.fins === 3) {
              this.finished.close(key)
              this.closed.add(key, tsUs)
            }
          }
          return
        }
        this.finished.close(key)
      } else if (!syn && p.payload.length > 0 && this.closed.has(key, tsUs)) {
        // RFC 9293 §3.6 TIME-WAIT: a late retransmission of a closed connection.
        return
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
      this.stopAwaitingAck(flow)
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
        if (!dir.tlsOver) dir.tls = undefined
        // HTTP framing cannot be recovered after a hole.
        if (dir.http !== undefined) this.endHttp(dir, 'http.stream_gap')
      }
      for (const chunk of chunks) {
        if (!dir.httpChecked) {
          // `http` events exist to carry JA4H / TFh: with neither selected, HTTP is not parsed.
          dir.httpChecked = true
          if ((this.fam.ja4h || this.fam.tfh) && looksLikeHttpRequest(chunk, 0))
            dir.http = new HttpRequestStream()
        }
        const http = dir.http
        if (http !== undefined) {
          for (const req of http.push(chunk)) this.emitHttp(flow, d, req, tsUs)
          if (http.state === 'done') this.endHttp(dir, undefined)
        }
        if (!dir.tlsOver) {
          // Bodies as views: every field an event needs is taken from a message as it parses.
          const tls = (dir.tls ??= new TlsHandshakeStream({ ownBodies: false }))
          const msgs = tls.push(chunk)
          for (const m of msgs) this.message(flow, d, m, tsUs)
          if (tls.state === 'sslv2') this.sslv2Hello(flow, d, tsUs)
          dir.tlsOver =
            tls.state === 'encrypted' ||
            tls.state === 'not_tls' ||
            tls.state === 'sslv2' ||
            tls.state === 'done'
        }
        if (dir.tlsOver && dir.http === undefined) {
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
    if (fin && flow.dirs[0].fin && flow.dirs[1].fin) {
      this.flows.close(key)
      this.closed.add(key, tsUs)
    }
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
      this.quicDatagram(flow, d, p.payload, p.ttl, tsUs)
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
      // Two flows awaiting at once under one key is very rare; the second then goes without.
      if (this.fam.ja4l && flow.ipv4 !== undefined && flow.clientAfterSynAckUs < 0) {
        const key = flowAckKey(flow.ipv4, flow.port)
        if (!this.awaitingAck.has(key)) this.awaitingAck.set(key, flow)
      }
    }
  }

  private stopAwaitingAck(flow: Flow): void {
    if (flow.ipv4 === undefined || this.awaitingAck.size === 0) return
    const key = flowAckKey(flow.ipv4, flow.port)
    if (this.awaitingAck.get(key) === flow) this.awaitingAck.delete(key)
  }

  /**
   * Opens the Initial packets of a QUIC datagram and feeds their CRYPTO frames to this side's
   * stream. RFC 9001 §5.2: both sides' Initial keys derive from the Destination Connection ID of
   * the client's Initial, which the client's own packets carry (a new one after a Retry).
   */
  private quicDatagram(flow: Flow, d: 0 | 1, payload: Uint8Array, ttl: number, tsUs: number): void {
    const fromClient = d === flow.clientDir
    for (const pkt of parseLongHeaders(payload).packets) {
      if (pkt.type === 'handshake') {
        if (!fromClient) flow.qServerHandshakeUs = tsUs
        else if (flow.qServerHandshakeUs >= 0 && flow.qClientHandshakeUs < 0) {
          flow.qClientHandshakeUs = tsUs
          // JA4L-C is known: the connection has nothing more to tell.
          this.releaseAnswers(flow)
          if (flow.pending.length === 0) flow.done = true
          return
        }
        continue
      }
      if (pkt.type !== 'initial') continue
      if (fromClient && flow.qClientInitialUs < 0) {
        flow.qClientInitialUs = tsUs
        flow.qClientTtl = ttl
      } else if (!fromClient && flow.qServerInitialUs < 0) {
        flow.qServerInitialUs = tsUs
        flow.qServerTtl = ttl
      }
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
      body: NO_BODY,
      index: flow.hellos,
      tsUs,
      clientDir: d,
      anomalies: ['tls.sslv2_hello'],
    })
  }

  private message(flow: Flow, d: 0 | 1, m: HandshakeMessage, tsUs: number): void {
    const dtls = flow.transport === 'dtls'
    if (m.type === HANDSHAKE_CERTIFICATE) {
      if (this.certs !== undefined && flow.transport === 'tcp') this.certificates(flow, d, m)
      return
    }
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
      if (flow.pending.length > 0) {
        for (const p of flow.pending) if (p.clientDir === d) this.answered(flow, p, undefined)
        flow.pending = flow.pending.filter((p) => p.clientDir !== d)
      }
      flow.hellos++
      const defer = this.deferred
      flow.pending.push({
        client:
          defer === undefined
            ? clientFields(res.value, transportLetter(flow.transport), this.fam)
            : undefined,
        body: defer === undefined ? NO_BODY : defer.body(m.body),
        index: flow.hellos,
        tsUs,
        clientDir: d,
        anomalies: res.value.anomalies.length === 0 ? [] : [...res.value.anomalies],
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
          body: NO_BODY,
          index: 0,
          tsUs,
          clientDir: d === 0 ? 1 : 0,
          anomalies: ['tls.client_hello_not_seen'],
        }
        this.answered(flow, orphan, this.serverFields(flow, res.value, m.body, m.following))
        return
      }
      flow.pending.splice(i, 1)
      this.answered(flow, ch, this.serverFields(flow, res.value, m.body, m.following))
    }
  }

  /**
   * A cleartext Certificate message (TLS <= 1.2; TLS 1.3 sends it encrypted): its certificates
   * join the event of the handshake it belongs to, the latest answered hello.
   */
  private certificates(flow: Flow, d: 0 | 1, m: HandshakeMessage): void {
    const reader = this.certs
    const a = flow.answers[flow.answers.length - 1]
    if (reader === undefined) return
    if (a === undefined) {
      this.count('tls.certificate_without_server_hello')
      return
    }
    const role = d === a.hello.clientDir ? 'client' : 'server'
    const tls13 = a.server?.negotiated === '1.3'
    for (const c of reader.read(m.body, tls13, role, (code) => this.count(code))) a.certs.push(c)
  }

  private flushFlow(flow: Flow): void {
    this.stopAwaitingAck(flow)
    const pending = flow.pending
    flow.pending = []
    for (const p of pending) this.answered(flow, p, undefined)
    this.releaseAnswers(flow)
    for (const dir of flow.dirs) if (!dir.finished) this.releaseDirection(dir)
    if (!flow.reported && flow.transport === 'tcp') this.emitTcp(flow)
  }

  /** JA4L of a QUIC connection (FINGERPRINTS.md §5); QUIC has no JA4T. */
  private quicFields(flow: Flow): Pick<TlsEvent, 'ja4t' | 'ja4ts' | 'ja4l_c' | 'ja4l_s'> {
    const on = this.fam.ja4l
    return {
      ja4t: null,
      ja4ts: null,
      ja4l_c:
        on && flow.qClientHandshakeUs >= 0
          ? ja4l(flow.qServerHandshakeUs, flow.qClientHandshakeUs, flow.qClientTtl)
          : null,
      ja4l_s:
        on && flow.qClientInitialUs >= 0 && flow.qServerInitialUs >= 0
          ? ja4l(flow.qClientInitialUs, flow.qServerInitialUs, flow.qServerTtl)
          : null,
    }
  }

  /** The TCP fingerprints of a connection that produced no other event, when it has any. */
  private emitTcp(flow: Flow): void {
    const c = flow.clientDir
    if (c === undefined || (flow.synUs < 0 && flow.synAckUs < 0)) return
    if (!this.fam.ja4t && !this.fam.ja4l) return
    const s = c === 0 ? 1 : 0
    const t = this.tcpFields(flow)
    const event: TcpEvent = {
      type: 'tcp',
      ts: isoFromUs(flow.synUs >= 0 ? flow.synUs : flow.synAckUs),
      sensor: this.sensor,
      src_ip: flow.ip[c],
      src_port: flow.port[c],
      dst_ip: flow.ip[s],
      dst_port: flow.port[s],
      ja4t: t.ja4t,
      ja4ts: t.ja4ts,
      ja4l_c: t.ja4l_c,
      ja4l_s: t.ja4l_s,
    }
    this.stats.tcpEvents++
    this.onEvent(event)
  }

  private tcpFields(flow: Flow): Pick<TlsEvent, 'ja4t' | 'ja4ts' | 'ja4l_c' | 'ja4l_s'> {
    if (flow.transport === 'quic') return this.quicFields(flow)
    return {
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
    }
  }

  /** The direction's HTTP requests are over (the stream gave up, or `why`). */
  private endHttp(dir: Direction, why: string | undefined): void {
    for (const a of dir.http?.anomalies ?? []) this.count(a)
    if (why !== undefined) this.count(why)
    dir.http = undefined
  }

  /** One cleartext HTTP request head sent by endpoint `d`. */
  private emitHttp(flow: Flow, d: 0 | 1, req: HttpRequest, tsUs: number): void {
    // FORMAT.md: without a SYN, the sender of an HTTP request is the client.
    if (flow.clientDir === undefined) flow.clientDir = d
    const s = d === 0 ? 1 : 0
    let host: string | null = null
    let ua: string | null = null
    for (const h of req.headers) {
      const n = h.name.toLowerCase()
      if (n === 'host' && host === null) host = h.value
      else if (n === 'user-agent' && ua === null) ua = h.value
    }
    const j4h = this.fam.ja4h ? ja4h(req) : undefined
    for (const a of req.anomalies) this.count(a)
    const event: HttpEvent = {
      type: 'http',
      ts: isoFromUs(tsUs),
      sensor: this.sensor,
      source: 'capture',
      src_ip: flow.ip[d],
      src_port: flow.port[d],
      dst_ip: flow.ip[s],
      dst_port: flow.port[s],
      host,
      method: req.method,
      path: req.target,
      status: null,
      user_agent: ua,
      request_time_ms: null,
      ja4h: j4h?.ja4h ?? null,
      ja4h_r: j4h?.ja4h_r ?? null,
      ja4h_ro: j4h?.ja4h_ro ?? null,
      tfh: this.fam.tfh ? tfh(req) : null,
      ja3: null,
      ja4: null,
      cf_ciphers_sha1: null,
      cf_extensions_sha1: null,
      hello_length: null,
      tls_version: null,
      sni: null,
    }
    this.stats.httpEvents++
    this.onEvent(event)
  }

  /** Counts a side's parser anomalies and drops its buffers. */
  private releaseDirection(dir: Direction): void {
    if (dir.http !== undefined) this.endHttp(dir, undefined)
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

  private serverFields(
    flow: Flow,
    sh: ServerHello,
    body: Uint8Array,
    following: Uint8Array | undefined,
  ): ServerFields {
    const defer = this.deferred
    return {
      prints:
        defer === undefined
          ? serverPrints(sh, transportLetter(flow.transport), this.fam)
          : NO_SERVER_PRINTS,
      negotiated: negotiatedVersion(sh),
      anomalies: sh.anomalies.length === 0 ? EMPTY_ANOMALIES : [...sh.anomalies],
      body: defer === undefined ? NO_BODY : defer.body(body),
      following: defer === undefined || following === undefined ? NO_BODY : defer.body(following),
    }
  }

  /**
   * A hello is answered (or will never be): its event goes out now (DTLS) or when the rest of
   * the handshake has been seen (see `Flow.answers`).
   */
  private answered(flow: Flow, hello: PendingHello, server: ServerFields | undefined): void {
    const a: Answer = { hello, server, certs: [] }
    if (flow.transport === 'dtls' || (flow.transport === 'quic' && !this.fam.ja4l))
      this.emit(flow, a)
    else flow.answers.push(a)
  }

  private releaseAnswers(flow: Flow): void {
    const answers = flow.answers
    if (answers.length === 0) return
    flow.answers = []
    for (const a of answers) this.emit(flow, a)
  }

  private emit(flow: Flow, a: Answer): void {
    const p = a.hello
    const sh = a.server
    const c = p.clientDir
    const s = c === 0 ? 1 : 0
    let anomalies = p.anomalies.length === 0 ? EMPTY_ANOMALIES : p.anomalies
    if (sh !== undefined && sh.anomalies.length > 0)
      anomalies = [...new Set([...anomalies, ...sh.anomalies])]
    for (const a of anomalies) this.count(a)
    const t = this.tcpFields(flow)
    const base: TlsEventBase = {
      tsUs: p.tsUs,
      sensor: this.sensor,
      srcIp: flow.ip[c],
      srcPort: flow.port[c],
      dstIp: flow.ip[s],
      dstPort: flow.port[s],
      transport: flow.transport,
      helloIndex: p.index,
      negotiated: sh?.negotiated ?? null,
      ja4t: t.ja4t,
      ja4ts: t.ja4ts,
      ja4l_c: t.ja4l_c,
      ja4l_s: t.ja4l_s,
      certs: a.certs,
      anomalies: anomalies === EMPTY_ANOMALIES ? [] : [...anomalies],
    }
    flow.reported = true
    this.stats.events++
    if (this.deferred !== undefined) {
      this.deferred.tls(base, p.body, sh?.body ?? NO_BODY, sh?.following ?? NO_BODY)
    } else this.onEvent(tlsEvent(base, p.client, sh?.prints ?? NO_SERVER_PRINTS))
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

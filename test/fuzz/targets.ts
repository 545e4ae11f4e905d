/**
 * Fuzz targets: every parser that meets wire bytes, fed mutated valid inputs. A target returns
 * normally on any input; an exception is a bug.
 */
import { ByteBuilder } from '../../src/bytes/builder.ts'
import { parseClientHello } from '../../src/protocols/tls/client-hello.ts'
import { parseServerHello } from '../../src/protocols/tls/server-hello.ts'
import { TlsHandshakeStream } from '../../src/protocols/tls/stream.ts'
import { DtlsHandshakeStream } from '../../src/protocols/tls/dtls.ts'
import { CaptureReader } from '../../src/protocols/pcap/reader.ts'
import { PacketDecoder } from '../../src/protocols/link/decode.ts'
import { HandshakeEngine } from '../../src/pipeline/handshakes.ts'
import { DeferredBatchReader, DeferredBatchWriter } from '../../src/pipeline/deferred-batch.ts'
import { familySwitches } from '../../src/fingerprints/families.ts'
import { captureEventJson } from '../../src/events/json.ts'
import type { HandshakeMessage } from '../../src/protocols/tls/types.ts'
import {
  QuicCryptoStream,
  decryptInitial,
  initialKeys,
  parseInitialFrames,
  parseLongHeaders,
} from '../../src/protocols/quic/index.ts'
import {
  CLIENT_CRYPTO_FRAME,
  SERVER_PAYLOAD,
  V1_CLIENT_INITIAL,
  V2_CLIENT_INITIAL,
} from '../../src/protocols/quic/test-helpers/vectors.ts'
import { ja3, ja3s } from '../../src/fingerprints/ja3.ts'
import { ja4 } from '../../src/fingerprints/ja4.ts'
import { JA4_STABLE_EXCLUDED, ja4Stable } from '../../src/fingerprints/ja4-stable.ts'
import { resumptionSignals } from '../../src/protocols/tls/resumption.ts'
import { ja4s } from '../../src/fingerprints/ja4plus/ja4s.ts'
import {
  alpnExt,
  chromeHelloSpec,
  clientHelloBody,
  dtlsHandshake,
  dtlsRecord,
  ext,
  handshake,
  record,
  records,
  serverHelloBody,
  supportedVersionsExt,
  u16ListExt,
} from '../../src/protocols/tls/test-helpers/fixtures.ts'
import {
  ethernet,
  ipv4,
  pcapFile,
  pcapngFile,
  tcpConversation,
  udpDatagram,
} from '../builders/packets.ts'
import { chunks, mutate } from './mutate.ts'
import { httpTargets } from './targets-http.ts'
import { syslogTargets } from './targets-syslog.ts'
import { x509Targets } from './targets-x509.ts'
import { sourceTargets } from './targets-sources.ts'
import type { Rng } from './rng.ts'

export interface Target {
  name: string
  seeds: Uint8Array[]
  run(input: Uint8Array, rng: Rng): void
}

const chrome = clientHelloBody(chromeHelloSpec())
const minimal = clientHelloBody({
  legacyVersion: 0x0301,
  ciphers: [0x0004, 0x0005],
  extensions: undefined,
})
const oddAlpn = clientHelloBody({
  ciphers: [0x1301],
  extensions: [
    alpnExt([Uint8Array.of(0xab, 0xcd), 'z']),
    supportedVersionsExt([0x7f1c, 0x0304]),
    ext(0x0032, [0, 2, 4, 3]),
  ],
})
const dtlsHello = clientHelloBody({
  legacyVersion: 0xfefd,
  ciphers: [0xc02b],
  cookie: Uint8Array.of(1, 2, 3),
  extensions: [u16ListExt(0x000a, [0x001d])],
})
const sh13 = serverHelloBody({
  cipher: 0x1301,
  extensions: [ext(0x002b, [3, 4]), ext(0x0033, [0, 0x1d, 0, 0])],
})
const sh12 = serverHelloBody({
  cipher: 0xc030,
  extensions: [ext(0xff01, [0]), ext(0x0000), alpnExt(['h2'])],
})

function fingerprintClient(body: Uint8Array, dtls: boolean): void {
  const r = parseClientHello(body, { dtls })
  if (r.ok) {
    ja3(r.value)
    const t = dtls ? 'd' : 't'
    const j4 = ja4(r.value, t)
    ja4(r.value, 'q')
    resumptionSignals(r.value)
    // Property: the fast ja4_stable equals its definition on any hello the parser accepts.
    const slow = ja4(
      {
        ...r.value,
        extensions: r.value.extensions.filter((e) => !JA4_STABLE_EXCLUDED.has(e.type)),
      },
      t,
    ).ja4
    const fast = ja4Stable(r.value, j4)
    if (fast !== slow) throw new Error(`ja4_stable ${fast} != ${slow}`)
  }
}

function fingerprintServer(body: Uint8Array, dtls: boolean): void {
  const r = parseServerHello(body, { dtls })
  if (r.ok) {
    ja3s(r.value)
    ja4s(r.value, dtls ? 'd' : 't')
  }
}

function onMessages(msgs: HandshakeMessage[], dtls: boolean): void {
  for (const m of msgs) {
    if (m.type === 1) fingerprintClient(m.body, dtls)
    else if (m.type === 2) fingerprintServer(m.body, dtls)
  }
}

const clientFlight = record(22, handshake(1, chrome))
const smtpPrefixed = new ByteBuilder()
  .ascii('STARTTLS\r\n')
  .bytes(record(22, handshake(1, minimal)))
  .build()
const serverFlight = new ByteBuilder()
  .bytes(
    records(
      22,
      new ByteBuilder()
        .bytes(handshake(2, sh12))
        .bytes(handshake(11, Uint8Array.of(0, 0, 0)))
        .build(),
      40,
      0x0303,
    ),
  )
  .bytes(record(20, Uint8Array.of(1), 0x0303))
  .bytes(record(22, new Uint8Array(40).fill(0x5a), 0x0303))
  .build()
const hrrClient = new ByteBuilder()
  .bytes(record(22, handshake(1, oddAlpn)))
  .bytes(record(20, Uint8Array.of(1), 0x0303))
  .bytes(record(22, handshake(1, oddAlpn)))
  .build()

const conversation = tcpConversation({
  clientData: [clientFlight],
  serverData: [record(22, handshake(2, sh13), 0x0303)],
})
const splitConversation = tcpConversation({
  clientData: [clientFlight.subarray(0, 100), clientFlight.subarray(100)],
  serverData: [serverFlight],
  sport: 50001,
})

function quicPacket(datagram: Uint8Array): Uint8Array {
  return ethernet(0x0800, ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17, udpDatagram(50000, 443, datagram)))
}

export const TARGETS: Target[] = [
  {
    name: 'client-hello',
    seeds: [chrome, minimal, oddAlpn],
    run: (input) => fingerprintClient(input, false),
  },
  {
    name: 'dtls-client-hello',
    seeds: [dtlsHello],
    run: (input) => fingerprintClient(input, true),
  },
  {
    name: 'server-hello',
    seeds: [sh13, sh12],
    run: (input) => fingerprintServer(input, false),
  },
  {
    name: 'tls-records',
    seeds: [clientFlight, smtpPrefixed, serverFlight, hrrClient],
    run: (input, rng) => {
      const s = new TlsHandshakeStream()
      for (const c of chunks(input, rng)) onMessages(s.push(c), false)
    },
  },
  {
    name: 'dtls-records',
    seeds: [
      dtlsRecord(22, dtlsHandshake(1, 0, dtlsHello)),
      dtlsRecord(22, dtlsHandshake(2, 1, sh12), { seq: 1 }),
    ],
    run: (input) => {
      const s = new DtlsHandshakeStream()
      onMessages(s.push(input), true)
      onMessages(s.push(input), true)
    },
  },
  {
    name: 'quic-datagram',
    seeds: [V1_CLIENT_INITIAL, V2_CLIENT_INITIAL],
    run: (input) => {
      for (const pkt of parseLongHeaders(input).packets) {
        const keys = initialKeys(pkt.version, pkt.dcid)
        if (keys === undefined) continue
        const opened = decryptInitial(pkt, keys.client)
        if (opened.ok) parseInitialFrames(opened.value.payload)
      }
    },
  },
  {
    name: 'quic-frames',
    seeds: [CLIENT_CRYPTO_FRAME, SERVER_PAYLOAD],
    run: (input, rng) => {
      const stream = new QuicCryptoStream()
      for (const c of parseInitialFrames(input).crypto) {
        // Deliver each CRYPTO chunk in random pieces and order, as lossy networks do.
        const pieces = chunks(c.data, rng).map((d, i, all) => ({
          offset: c.offset + all.slice(0, i).reduce((n, x) => n + x.length, 0),
          data: d,
        }))
        for (const piece of pieces.reverse())
          onMessages(stream.push(piece.offset, piece.data), false)
      }
    },
  },
  {
    name: 'link-decode',
    seeds: [...conversation, ...splitConversation].map((p) => p.data),
    run: (input) => {
      new PacketDecoder().decode({
        tsUs: 0,
        linkType: 1,
        interfaceId: 0,
        data: input,
        origLen: input.length,
      })
    },
  },
  {
    name: 'capture',
    seeds: [
      pcapFile([...conversation, ...splitConversation]),
      pcapngFile([...splitConversation, ...conversation]),
      pcapFile([
        { tsUs: 1_700_000_000_000_000, data: quicPacket(V1_CLIENT_INITIAL) },
        { tsUs: 1_700_000_000_001_000, data: quicPacket(V2_CLIENT_INITIAL) },
      ]),
    ],
    run: (input, rng) => {
      // The engine as one thread runs it, and with fingerprints deferred through a batch per
      // pushed chunk (as worker threads run it): the same event lines, or the case fails.
      const direct: string[] = []
      const late: string[] = []
      const engine = new HandshakeEngine({ onEvent: (e) => direct.push(captureEventJson(e)) })
      const writer = new DeferredBatchWriter()
      const batches = new DeferredBatchReader('', familySwitches())
      const deferred = new HandshakeEngine({ onEvent: (e) => writer.event(e), deferred: writer })
      const reader = new CaptureReader((rec) => engine.packet(rec))
      const reader2 = new CaptureReader((rec) => deferred.packet(rec))
      const flush = (): void => {
        const b = writer.take()
        if (b !== undefined) batches.read(b, (e) => late.push(captureEventJson(e)))
      }
      for (const c of chunks(input, rng)) {
        reader.push(c)
        reader2.push(c)
        flush()
      }
      reader.end()
      engine.finish()
      reader2.end()
      deferred.finish()
      flush()
      if (late.length !== direct.length || late.some((l, i) => l !== direct[i]))
        throw new Error('deferred fingerprints gave other events')
    },
  },
  ...httpTargets,
  ...syslogTargets,
  ...x509Targets,
  ...sourceTargets,
]

export interface FuzzFailure {
  target: string
  seed: number
  case: number
  error: string
  inputHex: string
}

export interface FuzzReport {
  cases: number
  perTarget: Record<string, number>
  failures: FuzzFailure[]
  maxCaseMs: number
  slowest: string
}

/** Runs `cases` mutated inputs round-robin over the targets. */
export function runFuzz(
  cases: number,
  seed: number,
  rngFor: (seed: number) => Rng,
  targets = TARGETS,
): FuzzReport {
  const rng = rngFor(seed)
  const report: FuzzReport = { cases: 0, perTarget: {}, failures: [], maxCaseMs: 0, slowest: '' }
  for (let i = 0; i < cases; i++) {
    const t = targets[i % targets.length]
    if (t === undefined) break
    const input = mutate(rng.pick(t.seeds), rng)
    const started = performance.now()
    try {
      t.run(input, rng)
    } catch (e) {
      if (report.failures.length < 20) {
        report.failures.push({
          target: t.name,
          seed,
          case: i,
          error: e instanceof Error ? (e.stack ?? e.message) : String(e),
          inputHex: Buffer.from(input).toString('hex').slice(0, 4096),
        })
      }
    }
    const ms = performance.now() - started
    if (ms > report.maxCaseMs) {
      report.maxCaseMs = ms
      report.slowest = `${t.name} case ${i} (${input.length} bytes)`
    }
    report.cases++
    report.perTarget[t.name] = (report.perTarget[t.name] ?? 0) + 1
  }
  return report
}

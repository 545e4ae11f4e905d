import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HandshakeEngine } from './handshakes.ts'
import type { TlsEvent } from '../events/tls.ts'
import { ByteBuilder } from '../bytes/builder.ts'
import {
  V1_CLIENT_INITIAL,
  V1_SERVER_INITIAL,
  V2_CLIENT_INITIAL,
  V2_SERVER_INITIAL,
} from '../protocols/quic/test-helpers/vectors.ts'
import {
  chromeHelloSpec,
  clientHelloBody,
  dtlsHandshake,
  dtlsRecord,
  ext,
  handshake,
  record,
  serverHelloBody,
  u16ListExt,
} from '../protocols/tls/test-helpers/fixtures.ts'
import {
  ethTcp,
  ethernet,
  ipv4,
  tcpConversation,
  udpDatagram,
  type CapturedPacket,
} from '../../test/builders/packets.ts'

const CHROME_JA4 = 't13d1516h2_8daaf6152771_e5627efa2ab1'
const chrome = record(22, handshake(1, clientHelloBody(chromeHelloSpec())))
const sh13 = record(
  22,
  handshake(
    2,
    serverHelloBody({
      cipher: 0x1301,
      extensions: [ext(0x002b, [3, 4]), ext(0x0033, [0, 0x1d, 0, 0])],
    }),
  ),
  0x0303,
)
// RFC 8446 §4.1.3: SHA-256("HelloRetryRequest")
const HRR_RANDOM = Uint8Array.from(
  Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'),
)
const hrr = record(
  22,
  handshake(
    2,
    serverHelloBody({
      cipher: 0x1301,
      random: HRR_RANDOM,
      extensions: [ext(0x002b, [3, 4]), ext(0x0033, [0, 0x17])],
    }),
  ),
  0x0303,
)

/** Feeds Ethernet packets to an engine. */
function feed(engine: HandshakeEngine, packets: CapturedPacket[]): void {
  for (const p of packets) {
    engine.packet({
      tsUs: p.tsUs,
      linkType: 1,
      interfaceId: 0,
      data: p.data,
      origLen: p.data.length,
    })
  }
}

function run(packets: CapturedPacket[]): TlsEvent[] {
  const events: TlsEvent[] = []
  const engine = new HandshakeEngine({ onEvent: (e) => e.type === 'tls' && events.push(e) })
  feed(engine, packets)
  engine.finish()
  return events
}

test('one connection gives one event with client and server fingerprints', () => {
  const events = run(tcpConversation({ clientData: [chrome], serverData: [sh13] }))
  assert.equal(events.length, 1)
  const e = events[0]!
  assert.equal(e.ja4, CHROME_JA4)
  assert.equal(e.src_ip, '10.0.0.1')
  assert.equal(e.src_port, 50000)
  assert.equal(e.dst_port, 443)
  assert.equal(e.sni, 'www.example.com')
  assert.deepEqual(e.alpn, ['h2', 'http/1.1'])
  assert.equal(e.tls_version, '1.3')
  assert.equal(e.tls_version_negotiated, '1.3')
  assert.equal(e.ja3s_str, '771,4865,43-51')
  assert.equal(e.ja4s, 't130200_1301_a56c5b993250')
  assert.equal(e.hello_index, 1)
  // The builder's SYN/SYN-ACK carry no options and are 100 µs apart, TTL 64.
  assert.equal(e.ja4t, '65535_00_00_00')
  assert.equal(e.ja4ts, '65535_00_00_00')
  assert.equal(e.ja4l_s, '50_64')
  assert.equal(e.ja4l_c, '50_64')
})

test('a ClientHello split at every byte over two segments gives the same fingerprints', () => {
  const want = run(tcpConversation({ clientData: [chrome], serverData: [sh13] }))[0]!
  for (let cut = 1; cut < chrome.length; cut += 7) {
    const got = run(
      tcpConversation({
        clientData: [chrome.subarray(0, cut), chrome.subarray(cut)],
        serverData: [sh13],
      }),
    )
    assert.equal(got.length, 1, `cut ${cut}`)
    assert.equal(got[0]!.ja4_ro, want.ja4_ro, `cut ${cut}`)
    assert.equal(got[0]!.ja3, want.ja3, `cut ${cut}`)
  }
})

test('segments delivered out of order and retransmitted are reassembled', () => {
  const pkts = tcpConversation({
    clientData: [chrome.subarray(0, 50), chrome.subarray(50, 200), chrome.subarray(200)],
    serverData: [sh13],
  })
  // Swap the 2nd and 3rd data segments and retransmit the first.
  const reordered = [...pkts]
  const a = reordered[3]!
  reordered[3] = reordered[5]!
  reordered[5] = a
  reordered.splice(6, 0, pkts[3]!)
  const events = run(reordered)
  assert.equal(events.length, 1)
  assert.equal(events[0]!.ja4, CHROME_JA4)
})

test('a HelloRetryRequest flow gives two events, each with its own server hello', () => {
  const second = record(22, handshake(1, clientHelloBody(chromeHelloSpec())))
  const ccs = record(20, Uint8Array.of(1), 0x0303)
  const events = run(
    tcpConversation({
      flights: [
        ['c', chrome],
        ['s', hrr],
        ['c', new ByteBuilder().bytes(ccs).bytes(second).build()],
        ['s', sh13],
      ],
    }),
  )
  assert.equal(events.length, 2)
  assert.deepEqual(
    events.map((e) => e.hello_index),
    [1, 2],
  )
  assert.deepEqual(
    events.map((e) => e.ja4s_r),
    ['t130200_1301_002b,0033', 't130200_1301_002b,0033'],
  )
  assert.deepEqual(
    events.map((e) => e.anomalies),
    [[], []],
  )
})

test('two hellos before any server answer: the first is reported without server fields', () => {
  const events = run(tcpConversation({ clientData: [chrome, chrome], serverData: [sh13] }))
  assert.deepEqual(
    events.map((e) => [e.hello_index, e.ja3s_str]),
    [
      [1, null],
      [2, '771,4865,43-51'],
    ],
  )
})

test('a ServerHello whose ClientHello was not captured is still reported', () => {
  const events = run(tcpConversation({ clientData: [], serverData: [sh13] }))
  assert.equal(events.length, 1)
  assert.equal(events[0]!.hello_index, 0)
  assert.equal(events[0]!.ja3, null)
  assert.equal(events[0]!.src_ip, '10.0.0.1')
  assert.equal(events[0]!.ja3s_str, '771,4865,43-51')
  assert.deepEqual(events[0]!.anomalies, ['tls.client_hello_not_seen'])
})

test('the ClientHello sender is the client even without a SYN (capture started mid-stream)', () => {
  const pkts = tcpConversation({ clientData: [chrome], serverData: [sh13] }).slice(3)
  const events = run(pkts)
  assert.equal(events.length, 1)
  assert.equal(events[0]!.src_ip, '10.0.0.1')
  assert.equal(events[0]!.ja3s_str, '771,4865,43-51')
})

test('a reused port with a new SYN starts a new flow', () => {
  const first = tcpConversation({ clientData: [chrome], serverData: [sh13] }).slice(0, -2) // no FIN
  const second = tcpConversation({
    clientData: [chrome],
    serverData: [sh13],
    t0Us: 1_700_000_001_000_000,
  })
  const events = run([...first, ...second])
  assert.equal(events.length, 2)
  assert.deepEqual(
    events.map((e) => e.hello_index),
    [1, 1],
  )
})

test('TLS after an SMTP STARTTLS exchange is found', () => {
  const events = run(
    tcpConversation({
      dport: 25,
      clientData: [new ByteBuilder().ascii('EHLO x\r\nSTARTTLS\r\n').build(), chrome],
      serverData: [new ByteBuilder().ascii('220 ready\r\n').build(), sh13],
    }),
  )
  assert.equal(events.length, 1)
  assert.equal(events[0]!.ja4, CHROME_JA4)
})

test('a DTLS 1.2 ClientHello over UDP is fingerprinted with the d prefix', () => {
  const body = clientHelloBody({
    legacyVersion: 0xfefd,
    ciphers: [0xc02b, 0xc02f],
    cookie: new Uint8Array(),
    extensions: [u16ListExt(0x000a, [0x001d])],
  })
  const dgram = dtlsRecord(22, dtlsHandshake(1, 0, body))
  const pkt = ethernet(
    0x0800,
    ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17, udpDatagram(40000, 4433, dgram)),
  )
  const events = run([{ tsUs: 1_700_000_000_000_000, data: pkt }])
  assert.equal(events.length, 1)
  assert.equal(events[0]!.transport, 'dtls')
  assert.match(events[0]!.ja4 ?? '', /^dd2i0201/)
})

test('QUIC: the RFC 9001 A.2/A.3 Initials give a q-prefixed JA4 and the server JA4S (v1 and v2)', () => {
  for (const [client, server, version] of [
    [V1_CLIENT_INITIAL, V1_SERVER_INITIAL, 'v1'],
    [V2_CLIENT_INITIAL, V2_SERVER_INITIAL, 'v2'],
  ] as const) {
    const c = ethernet(
      0x0800,
      ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17, udpDatagram(50000, 443, client)),
    )
    const s = ethernet(
      0x0800,
      ipv4([10, 0, 0, 2], [10, 0, 0, 1], 17, udpDatagram(443, 50000, server)),
    )
    const events = run([
      { tsUs: 1_700_000_000_000_000, data: c },
      { tsUs: 1_700_000_000_010_000, data: s },
    ])
    assert.equal(events.length, 1, version)
    const e = events[0]!
    assert.equal(e.transport, 'quic')
    assert.equal(e.src_port, 50000)
    assert.equal(e.sni, 'example.com')
    assert.match(e.ja4 ?? '', /^q13d/, version)
    assert.match(e.ja4s ?? '', /^q13/, version)
    assert.equal(e.ja3s_str?.split(',')[1], '4865', version)
  }
})

test('JA4+ can be turned off', () => {
  const events: TlsEvent[] = []
  const engine = new HandshakeEngine({
    ja4plus: false,
    onEvent: (e) => e.type === 'tls' && events.push(e),
  })
  feed(engine, tcpConversation({ clientData: [chrome], serverData: [sh13] }))
  engine.finish()
  assert.equal(events[0]!.ja4s, null)
  assert.equal(events[0]!.ja4t, null)
  assert.equal(events[0]!.ja4l_c, null)
  assert.notEqual(events[0]!.ja3s, null)
})

test('connections that end leave no state behind; unfinished ones expire', () => {
  const events: TlsEvent[] = []
  const engine = new HandshakeEngine({ onEvent: (e) => e.type === 'tls' && events.push(e) })
  const t0 = 1_700_000_000_000_000
  for (let i = 0; i < 500; i++) {
    feed(
      engine,
      tcpConversation({
        sport: 10000 + i,
        clientData: [chrome],
        serverData: [sh13],
        t0Us: t0 + i * 1000,
      }),
    )
  }
  assert.equal(events.length, 500)
  assert.deepEqual(engine.tracked, { active: 0, finished: 0 })
  // Encrypted data ends the handshake part: without a teardown the connections are kept as
  // tombstones, then expire with capture time.
  const appData = record(23, new Uint8Array(64).fill(0x42), 0x0303)
  for (let i = 0; i < 500; i++) {
    const conv = tcpConversation({
      sport: 20000 + i,
      flights: [
        ['c', chrome],
        ['s', sh13],
        ['s', appData],
        ['c', appData],
      ],
      t0Us: t0 + 200e6 + i * 1000,
    })
    feed(engine, conv.slice(0, -2))
  }
  assert.deepEqual(engine.tracked, { active: 0, finished: 500 })
  feed(
    engine,
    tcpConversation({ sport: 30000, clientData: [chrome], serverData: [sh13], t0Us: t0 + 600e6 }),
  )
  assert.deepEqual(engine.tracked, { active: 0, finished: 0 })
  assert.equal(events.length, 1001)
  assert.equal(events[600]!.ja3s_str, '771,4865,43-51')
})

test('finished connections: later segments, FINs and RSTs are matched without a new flow', () => {
  let tls = 0
  const engine = new HandshakeEngine({ onEvent: (e) => void (e.type === 'tls' && tls++) })
  const t0 = 1_700_000_000_000_000
  const appData = record(23, new Uint8Array(64).fill(0x42), 0x0303)
  const flights: ['c' | 's', Uint8Array][] = [
    ['c', chrome],
    ['s', sh13],
    ['s', appData],
    ['c', appData],
  ]
  // Handshake over, encrypted data both ways, torn down by both FINs…
  const a = tcpConversation({ sport: 40001, flights, t0Us: t0 })
  feed(engine, a)
  assert.deepEqual(engine.tracked, { active: 0, finished: 0 })
  const flows = engine.stats.flows
  // …then a late retransmission of the client's data: TIME-WAIT absorbs it.
  const late = a[a.length - 3]
  assert.ok(late !== undefined)
  feed(engine, [{ tsUs: t0 + 50_000, data: late.data }])
  assert.equal(engine.stats.flows, flows)
  assert.deepEqual(engine.tracked, { active: 0, finished: 0 })
  // More data after the handshake keeps one tombstone; an RST from either side ends it.
  const b = tcpConversation({
    sport: 40002,
    flights: [...flights, ['c', appData], ['s', appData]],
    t0Us: t0 + 100_000,
  })
  feed(engine, b.slice(0, -2))
  assert.deepEqual(engine.tracked, { active: 0, finished: 1 })
  const rst = ethTcp({
    src: [10, 0, 0, 2],
    dst: [10, 0, 0, 1],
    sport: 443,
    dport: 40002,
    seq: 1,
    flags: 0x04,
  })
  feed(engine, [{ tsUs: t0 + 200_000, data: rst }])
  assert.deepEqual(engine.tracked, { active: 0, finished: 0 })
  // A FIN from one side only leaves it open; the other side's FIN closes it.
  const c = tcpConversation({ sport: 40003, flights, t0Us: t0 + 300_000 })
  feed(engine, c.slice(0, -1))
  assert.deepEqual(engine.tracked, { active: 0, finished: 1 })
  feed(engine, c.slice(-1))
  assert.deepEqual(engine.tracked, { active: 0, finished: 0 })
  engine.finish()
  assert.equal(tls, 3)
  assert.equal(engine.stats.flows, flows + 2)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ByteBuilder } from '../../bytes/builder.ts'
import { MAX_HANDSHAKE_BYTES, MAX_TLS_DIRECTION_BYTES, MAX_TLS_PROBE_BYTES } from '../limits.ts'
import { parseClientHello } from './client-hello.ts'
import { HELLO_RETRY_REQUEST_RANDOM } from './server-hello.ts'
import { TlsHandshakeStream } from './stream.ts'
import {
  ascii,
  chromeHelloSpec,
  clientHelloBody,
  concat,
  ext,
  forEverySplit,
  handshake,
  record,
  records,
  serverHelloBody,
} from './test-helpers/fixtures.ts'
import type { HandshakeMessage } from './types.ts'

const chBody = clientHelloBody(chromeHelloSpec())
const clientHello = record(22, handshake(1, chBody))
const shBody = serverHelloBody({ cipher: 0xc02f, extensions: [ext(0xff01, [0])] })
const certBody = new ByteBuilder().vec24((l) => l.vec24((c) => c.zeros(40))).build()

function types(msgs: HandshakeMessage[]): number[] {
  return msgs.map((m) => m.type)
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((v, i) => v === b[i])
}

test('a ClientHello record, at every split point and in one-byte chunks', () => {
  forEverySplit(
    clientHello,
    () => new TlsHandshakeStream(),
    (msgs, s, label) => {
      assert.deepEqual(types(msgs), [1], label)
      assert.ok(sameBytes(msgs[0]?.body, chBody), label)
      assert.equal(msgs[0]?.recordVersion, 0x0301, label)
      assert.equal(msgs[0]?.streamOffset, 5, label)
      assert.equal(s.state, 'tls', label)
      assert.equal(s.consumedBytes, clientHello.length, label)
      assert.deepEqual(s.anomalies, [], label)
    },
  )
})

test('one record holding several messages (ServerHello, Certificate, ServerHelloDone)', () => {
  const flight = record(
    22,
    concat(handshake(2, shBody), handshake(11, certBody), handshake(14, new Uint8Array(0))),
    0x0303,
  )
  forEverySplit(
    flight,
    () => new TlsHandshakeStream(),
    (msgs, _s, label) => {
      assert.deepEqual(types(msgs), [2, 11, 14], label)
      assert.ok(sameBytes(msgs[0]?.body, shBody), label)
      assert.ok(sameBytes(msgs[1]?.body, certBody), label)
      assert.equal(msgs[2]?.body.length, 0, label)
      assert.deepEqual(
        msgs.map((m) => m.streamOffset),
        [5, 9 + shBody.length, 13 + shBody.length + certBody.length],
        label,
      )
    },
  )
})

test('a message spanning records, down to one-byte records (RFC 8446 §5.1)', () => {
  const hs = handshake(1, chBody)
  for (const size of [1, 3, 4, 5, 100]) {
    const bytes = records(22, hs, size)
    const msgs = new TlsHandshakeStream().push(bytes)
    assert.deepEqual(types(msgs), [1], `records of ${size}`)
    assert.ok(sameBytes(msgs[0]?.body, chBody))
    assert.equal(msgs[0]?.streamOffset, 5)
    assert.ok(parseClientHello(msgs[0]?.body ?? new Uint8Array(0)).ok)
  }
  // Split at every point too, with the header itself cut across records.
  const bytes = concat(records(22, hs.subarray(0, 2), 2), records(22, hs.subarray(2), 97))
  forEverySplit(
    bytes,
    () => new TlsHandshakeStream(),
    (msgs, _s, label) => {
      assert.deepEqual(types(msgs), [1], label)
      assert.ok(sameBytes(msgs[0]?.body, chBody), label)
    },
  )
})

test('bodies are owned: reusing the input buffer does not change delivered messages', () => {
  const buf = clientHello.slice()
  const msgs = new TlsHandshakeStream().push(buf)
  buf.fill(0)
  assert.ok(sameBytes(msgs[0]?.body, chBody))
  const s = new TlsHandshakeStream()
  const split = clientHello.slice()
  const got = [...s.push(split.subarray(0, 100)), ...s.push(split.subarray(100))]
  split.fill(0)
  assert.ok(sameBytes(got[0]?.body, chBody))
})

function mysqlSslRequest(): Uint8Array {
  // MySQL protocol: 3-byte little-endian payload length, sequence id, then SSLRequest
  // (capabilities u32le with CLIENT_SSL, max packet u32le, charset, 23 reserved bytes).
  return new ByteBuilder()
    .u8(32)
    .u8(0)
    .u8(0)
    .u8(1)
    .u32le(0x000faa8d)
    .u32le(0x01000000)
    .u8(0x21)
    .zeros(23)
    .build()
}

const prefixes: [string, Uint8Array][] = [
  ['SMTP STARTTLS', ascii('EHLO client.example\r\nSTARTTLS\r\n')],
  ['MySQL SSLRequest', mysqlSslRequest()],
  [
    'SOCKS5',
    concat(
      Uint8Array.of(5, 1, 0),
      Uint8Array.of(5, 1, 0, 3, 11),
      ascii('example.com'),
      Uint8Array.of(1, 0xbb),
    ),
  ],
  [
    'SOCKS4',
    concat(Uint8Array.of(4, 1, 1, 0xbb, 93, 184, 216, 34), ascii('user'), Uint8Array.of(0)),
  ],
  ['HTTP CONNECT', ascii('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')],
  ['IMAP', ascii('a001 CAPABILITY\r\na002 STARTTLS\r\n')],
]

for (const [name, prefix] of prefixes) {
  test(`probes past a ${name} prefix, at every split point`, () => {
    const bytes = concat(prefix, clientHello)
    forEverySplit(
      bytes,
      () => new TlsHandshakeStream(),
      (msgs, s, label) => {
        assert.deepEqual(types(msgs), [1], label)
        assert.ok(sameBytes(msgs[0]?.body, chBody), label)
        assert.equal(msgs[0]?.streamOffset, prefix.length + 5, label)
        assert.equal(s.state, 'tls', label)
        assert.equal(s.consumedBytes, bytes.length, label)
      },
    )
  })
}

test('server side of STARTTLS: a text banner, then the ServerHello', () => {
  const banner = ascii(
    '220 mx.example ESMTP\r\n250-mx.example\r\n250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n',
  )
  const bytes = concat(
    banner,
    record(22, concat(handshake(2, shBody), handshake(14, new Uint8Array(0))), 0x0303),
  )
  forEverySplit(
    bytes,
    () => new TlsHandshakeStream(),
    (msgs, _s, label) => {
      assert.deepEqual(types(msgs), [2, 14], label)
    },
  )
})

test('probe: false gives up on a prefix; a long non-TLS stream hits the probe limit', () => {
  const s = new TlsHandshakeStream({ probe: false })
  assert.deepEqual(s.push(concat(ascii('EHLO x\r\n'), clientHello)), [])
  assert.equal(s.state, 'not_tls')
  assert.deepEqual(s.push(clientHello), [])

  const noise = new Uint8Array(MAX_TLS_PROBE_BYTES + 100).fill(0x41)
  const p = new TlsHandshakeStream()
  for (let i = 0; i < noise.length; i += 1000) p.push(noise.subarray(i, i + 1000))
  assert.equal(p.state, 'not_tls')
  assert.deepEqual(p.anomalies, ['tls.probe_limit'])
  assert.deepEqual(p.push(clientHello), [])
  assert.ok(p.consumedBytes <= MAX_TLS_PROBE_BYTES)
})

test('an SSL 2.0-format ClientHello: state sslv2, anomaly, no message', () => {
  // RFC 6101 App. E.1: 2-byte header with the high bit, CLIENT-HELLO (1), version 0x0301,
  // cipher_specs length 3, session id length 0, challenge length 16.
  const v2 = new ByteBuilder()
    .u8(0x80)
    .u8(2 + 1 + 2 + 6 + 3 + 16)
    .u8(1)
    .u16(0x0301)
    .u16(3)
    .u16(0)
    .u16(16)
    .bytes([0, 0, 0x2f])
    .zeros(16)
    .build()
  // (length byte above is 30: msg_type + version + 3 lengths + 3 + 16 = 30)
  forEverySplit(
    v2,
    () => new TlsHandshakeStream(),
    (msgs, s, label) => {
      assert.deepEqual(msgs, [], label)
      assert.equal(s.state, 'sslv2', label)
      assert.deepEqual(s.anomalies, ['tls.sslv2_hello'], label)
    },
  )
})

test('TLS 1.3 middlebox compatibility: CCS, then the plaintext 2nd ClientHello still comes out', () => {
  const ch2 = clientHelloBody({ ...chromeHelloSpec(), ciphers: [0x1301, 0x1302] })
  const bytes = concat(
    clientHello,
    record(20, Uint8Array.of(1), 0x0303),
    record(22, handshake(1, ch2), 0x0303),
    record(23, new Uint8Array(50).fill(0xaa), 0x0303),
    record(22, handshake(1, ch2), 0x0303),
  )
  forEverySplit(
    bytes,
    () => new TlsHandshakeStream(),
    (msgs, s, label) => {
      assert.deepEqual(types(msgs), [1, 1], label)
      assert.ok(sameBytes(msgs[1]?.body, ch2), label)
      assert.equal(s.state, 'encrypted', label)
    },
  )
})

test('server side of an HRR exchange: HRR, CCS, ServerHello, then encrypted', () => {
  const hrr = serverHelloBody({
    random: HELLO_RETRY_REQUEST_RANDOM,
    cipher: 0x1301,
    extensions: [ext(0x2b, [3, 4])],
  })
  const sh = serverHelloBody({ cipher: 0x1301, extensions: [ext(0x2b, [3, 4])] })
  const bytes = concat(
    record(22, handshake(2, hrr), 0x0303),
    record(20, Uint8Array.of(1), 0x0303),
    record(22, handshake(2, sh), 0x0303),
    record(23, new Uint8Array(30), 0x0303),
  )
  const s = new TlsHandshakeStream()
  assert.deepEqual(types(s.push(bytes)), [2, 2])
  assert.equal(s.state, 'encrypted')
})

test('TLS 1.2: the encrypted Finished after CCS is not delivered', () => {
  // An AEAD record: 8-byte explicit nonce then ciphertext; first byte 0x00.
  const finished = Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff)
  finished[0] = 0x00
  const cke = handshake(16, new ByteBuilder().vec8((v) => v.zeros(32)).build())
  const bytes = concat(
    clientHello,
    record(22, cke, 0x0303),
    record(20, Uint8Array.of(1), 0x0303),
    record(22, finished, 0x0303),
  )
  forEverySplit(
    bytes,
    () => new TlsHandshakeStream(),
    (msgs, s, label) => {
      assert.deepEqual(types(msgs), [1, 16], label)
      assert.equal(s.state, 'encrypted', label)
    },
  )
  // A ciphertext that starts like a hello type but cannot be one is still encrypted.
  const s = new TlsHandshakeStream()
  s.push(
    concat(
      clientHello,
      record(20, Uint8Array.of(1)),
      record(22, Uint8Array.of(1, 0, 0, 5, 0x99, 0x12, 0, 0, 0)),
    ),
  )
  assert.equal(s.state, 'encrypted')
})

test('alerts are fine; application data stops the direction', () => {
  const s = new TlsHandshakeStream()
  const msgs = s.push(
    concat(record(21, Uint8Array.of(1, 0)), clientHello, record(21, Uint8Array.of(2, 40))),
  )
  assert.deepEqual(types(msgs), [1])
  assert.equal(s.state, 'tls')
  const before = s.consumedBytes
  s.push(concat(record(23, Uint8Array.of(1, 2, 3)), clientHello))
  assert.equal(s.state, 'encrypted')
  assert.equal(s.consumedBytes, before + 8)
  assert.deepEqual(s.push(clientHello), [])
})

test('an over-long handshake message is skipped; the next one is delivered', () => {
  const len = MAX_HANDSHAKE_BYTES + 10
  const big = new ByteBuilder().u8(11).u24(len).zeros(len).build()
  const bytes = concat(records(22, big, 16_384), clientHello)
  const s = new TlsHandshakeStream()
  const msgs = s.push(bytes)
  assert.deepEqual(types(msgs), [1])
  assert.deepEqual(s.anomalies, ['tls.handshake_too_long'])
})

test('the direction byte limit stops following the stream', () => {
  const filler = records(22, new ByteBuilder().u8(11).u24(60_000).zeros(60_000).build(), 16_000)
  const s = new TlsHandshakeStream()
  let delivered = 0
  for (let i = 0; i < 6 && s.state !== 'done'; i++) delivered += s.push(filler).length
  assert.equal(s.state, 'done')
  assert.deepEqual(s.anomalies, ['tls.direction_limit'])
  assert.ok(s.consumedBytes <= MAX_TLS_DIRECTION_BYTES)
  assert.equal(delivered, Math.floor(MAX_TLS_DIRECTION_BYTES / filler.length))
})

test('a record header it cannot follow ends the stream; interleaving is flagged', () => {
  const s = new TlsHandshakeStream()
  assert.deepEqual(types(s.push(concat(clientHello, Uint8Array.of(0x42, 3, 3, 0, 1, 0)))), [1])
  assert.equal(s.state, 'done')
  assert.deepEqual(s.anomalies, ['tls.bad_content_type'])

  const hs = handshake(1, chBody)
  const i = new TlsHandshakeStream()
  const msgs = i.push(
    concat(record(22, hs.subarray(0, 50)), record(21, Uint8Array.of(1, 0)), clientHello),
  )
  assert.deepEqual(types(msgs), [1])
  assert.deepEqual(i.anomalies, ['tls.handshake_interleaved'])
})

test('fuzz: arbitrary bytes in arbitrary chunks never throw', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }),
      fc.boolean(),
      (chunks, probe) => {
        const s = new TlsHandshakeStream({ probe })
        for (const c of chunks) s.push(c)
        assert.ok(s.consumedBytes >= 0)
      },
    ),
    { numRuns: 500 },
  )
  // Records with random fragments exercise the handshake layer.
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(20, 21, 22, 23), fc.uint8Array({ maxLength: 40 })), {
        maxLength: 8,
      }),
      (recs) => {
        const s = new TlsHandshakeStream()
        s.push(concat(clientHello, ...recs.map(([t, f]) => record(t, f))))
      },
    ),
    { numRuns: 500 },
  )
})

test('bodies stay intact across later pushes; a ClientHello body has a buffer of its own', () => {
  const s = new TlsHandshakeStream()
  const first = s.push(concat(clientHello, record(22, handshake(2, shBody), 0x0303)))
  const later = s.push(
    record(22, concat(handshake(11, certBody), handshake(14, new Uint8Array(0)))),
  )
  assert.deepEqual(types(first), [1, 2])
  assert.deepEqual(types(later), [11, 14])
  assert.ok(sameBytes(first[0]?.body, chBody))
  assert.ok(sameBytes(first[1]?.body, shBody))
  assert.ok(sameBytes(later[0]?.body, certBody))
  // The engine keeps ClientHellos (and views into them) until the server answers: a shared
  // buffer would keep other messages' bytes alive with them.
  assert.equal(first[0]?.body.buffer.byteLength, chBody.length)
})

test('ownBodies: false gives the same messages, read during each push', () => {
  const flight = concat(
    clientHello,
    record(22, concat(handshake(2, shBody), handshake(11, certBody)), 0x0303),
    record(22, handshake(14, new Uint8Array(0)), 0x0303),
    record(20, Uint8Array.of(1), 0x0303),
  )
  const brief = (m: HandshakeMessage): string =>
    `${m.type}/${m.recordVersion}/${m.streamOffset}/${[...m.body].join()}/${[...(m.following ?? [])].join()}`
  for (const cuts of [[], [3], [7, 100], [250, 251, 600]]) {
    const read = (s: TlsHandshakeStream): string[] => {
      const out: string[] = []
      let from = 0
      for (const to of [...cuts, flight.length]) {
        // A fresh copy per push, overwritten right after: only views read during the push count.
        const chunk = flight.slice(from, to)
        for (const m of s.push(chunk)) out.push(brief(m))
        chunk.fill(0xee)
        from = to
      }
      return out
    }
    assert.deepEqual(
      read(new TlsHandshakeStream({ ownBodies: false })),
      read(new TlsHandshakeStream()),
    )
  }
})

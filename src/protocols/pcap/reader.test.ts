import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ByteBuilder } from '../../bytes/builder.ts'
import { toHex } from '../../bytes/hex.ts'
import { MAX_PACKET_BYTES, MAX_PCAPNG_INTERFACES } from '../limits.ts'
import { CaptureReader } from './reader.ts'
import { LinkType } from './types.ts'
import type { CaptureSummary } from './types.ts'

// ---- fixture builders ------------------------------------------------------------------------

/** Endian-aware writes on a ByteBuilder. */
function w(b: ByteBuilder, le: boolean) {
  return {
    u16: (v: number) => (le ? b.u16le(v) : b.u16(v)),
    u32: (v: number) => (le ? b.u32le(v) : b.u32(v)),
  }
}

interface PcapRec {
  sec: number
  frac: number
  data: Uint8Array
  origLen?: number
  capLen?: number
}

function pcapFile(opts: { le: boolean; nanos: boolean; linkType: number; records: PcapRec[] }) {
  const b = new ByteBuilder()
  const o = w(b, opts.le)
  o.u32(opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4)
  o.u16(2)
  o.u16(4)
  o.u32(0)
  o.u32(0)
  o.u32(65535)
  o.u32(opts.linkType)
  for (const r of opts.records) {
    o.u32(r.sec)
    o.u32(r.frac)
    o.u32(r.capLen ?? r.data.length)
    o.u32(r.origLen ?? r.data.length)
    b.bytes(r.data)
  }
  return b.build()
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4
}

function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const total = 12 + body.length + pad4(body.length)
  const b = new ByteBuilder()
  const o = w(b, le)
  o.u32(type)
  o.u32(total)
  b.bytes(body).zeros(pad4(body.length))
  o.u32(total)
  return b.build()
}

function body(le: boolean, fn: (o: ReturnType<typeof w>, b: ByteBuilder) => void): Uint8Array {
  const b = new ByteBuilder()
  fn(w(b, le), b)
  return b.build()
}

function shb(le: boolean): Uint8Array {
  return block(
    le,
    0x0a0d0d0a,
    body(le, (o, b) => {
      o.u32(0x1a2b3c4d)
      o.u16(1)
      o.u16(0)
      b.bytes([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }),
  )
}

function option(le: boolean, code: number, value: Uint8Array): Uint8Array {
  return body(le, (o, b) => {
    o.u16(code)
    o.u16(value.length)
    b.bytes(value).zeros(pad4(value.length))
  })
}

function idb(le: boolean, linkType: number, snapLen: number, options: Uint8Array[] = []) {
  return block(
    le,
    1,
    body(le, (o, b) => {
      o.u16(linkType)
      o.u16(0)
      o.u32(snapLen)
      for (const opt of options) b.bytes(opt)
      if (options.length > 0) b.zeros(4)
    }),
  )
}

/** Splits a 64-bit unsigned value into its high and low 32-bit words. */
function split64(v: bigint): [number, number] {
  return [Number(v >> 32n), Number(v & 0xffffffffn)]
}

function epb(le: boolean, iface: number, ts: bigint, data: Uint8Array, origLen = data.length) {
  const [hi, lo] = split64(ts)
  return block(
    le,
    6,
    body(le, (o, b) => {
      o.u32(iface)
      o.u32(hi)
      o.u32(lo)
      o.u32(data.length)
      o.u32(origLen)
      b.bytes(data).zeros(pad4(data.length))
    }),
  )
}

function obsoletePb(le: boolean, iface: number, ts: bigint, data: Uint8Array) {
  const [hi, lo] = split64(ts)
  return block(
    le,
    2,
    body(le, (o, b) => {
      o.u16(iface)
      o.u16(0)
      o.u32(hi)
      o.u32(lo)
      o.u32(data.length)
      o.u32(data.length)
      b.bytes(data).zeros(pad4(data.length))
    }),
  )
}

function spb(le: boolean, data: Uint8Array, origLen = data.length) {
  return block(
    le,
    3,
    body(le, (o, b) => {
      o.u32(origLen)
      b.bytes(data)
    }),
  )
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const b = new ByteBuilder()
  for (const p of parts) b.bytes(p)
  return b.build()
}

function payload(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff)
}

// ---- running the reader ----------------------------------------------------------------------

interface Seen {
  tsUs: number
  linkType: number
  interfaceId: number
  data: string
  origLen: number
}

function run(input: Uint8Array, chunks: number[] = [input.length]) {
  const packets: Seen[] = []
  const r = new CaptureReader((p) =>
    packets.push({
      tsUs: p.tsUs,
      linkType: p.linkType,
      interfaceId: p.interfaceId,
      data: toHex(p.data),
      origLen: p.origLen,
    }),
  )
  let pos = 0
  for (const n of chunks) {
    // Copy each chunk into a fresh buffer so that views into earlier chunks would be caught.
    r.push(input.slice(pos, pos + n))
    pos += n
  }
  if (pos < input.length) r.push(input.slice(pos))
  const summary: CaptureSummary = structuredClone(r.end())
  return { packets, summary, failed: r.failed }
}

/** The same result for the whole input, every two-chunk split and one-byte chunks. */
function assertSplitInvariant(input: Uint8Array): ReturnType<typeof run> {
  const whole = run(input)
  for (let i = 0; i <= input.length; i++) {
    assert.deepEqual(run(input, [i, input.length - i]), whole, `split at ${i}`)
  }
  assert.deepEqual(run(input, Array<number>(input.length).fill(1)), whole, 'one-byte chunks')
  return whole
}

// ---- pcap ------------------------------------------------------------------------------------

const records: PcapRec[] = [
  { sec: 1_700_000_000, frac: 123_456, data: payload(60, 1) },
  { sec: 1_700_000_001, frac: 999_999, data: payload(1, 2), origLen: 1514 },
  { sec: 4_000_000_000, frac: 0, data: new Uint8Array(0) },
]

for (const le of [true, false]) {
  for (const nanos of [false, true]) {
    test(`pcap ${nanos ? 'ns' : 'µs'} ${le ? 'little' : 'big'}-endian at every split`, () => {
      const recs = records.map((r) => ({ ...r, frac: nanos ? r.frac * 1000 + 999 : r.frac }))
      const input = pcapFile({ le, nanos, linkType: LinkType.ETHERNET, records: recs })
      const { packets, summary, failed } = assertSplitInvariant(input)
      assert.equal(failed, false)
      assert.deepEqual(
        packets.map((p) => p.tsUs),
        [1_700_000_000_123_456, 1_700_000_001_999_999, 4_000_000_000_000_000],
      )
      assert.deepEqual(
        packets.map((p) => p.data),
        records.map((r) => toHex(r.data)),
      )
      assert.deepEqual(
        packets.map((p) => p.origLen),
        [60, 1514, 0],
      )
      assert.ok(packets.every((p) => p.linkType === 1 && p.interfaceId === 0))
      assert.equal(summary.format, 'pcap')
      assert.equal(summary.packets, 3)
      assert.equal(summary.bytes, 61)
      assert.equal(summary.inputBytes, input.length)
      assert.equal(summary.truncated, false)
      assert.deepEqual(summary.anomalies, {})
    })
  }
}

test('pcap link type keeps only the low 16 bits (FCS information above)', () => {
  const input = pcapFile({ le: true, nanos: false, linkType: 0x14000000 | 113, records })
  assert.equal(run(input).packets[0]?.linkType, LinkType.LINUX_SLL)
})

test('pcap record above MAX_PACKET_BYTES is skipped without buffering, then reading goes on', () => {
  const big = payload(MAX_PACKET_BYTES + 1, 3)
  const input = pcapFile({
    le: true,
    nanos: false,
    linkType: 1,
    records: [records[0]!, { sec: 5, frac: 0, data: big }, records[1]!],
  })
  const whole = run(input)
  assert.equal(whole.summary.packets, 2)
  assert.deepEqual(whole.summary.anomalies, { 'pcap.oversized_record': 1 })
  assert.equal(whole.failed, false)
  // Spot-check splits inside the header, inside the skipped body and right after it.
  const bigStart = 24 + 16 + 60
  for (const at of [bigStart + 3, bigStart + 16, bigStart + 1000, bigStart + 16 + big.length]) {
    assert.deepEqual(run(input, [at]), whole, `split at ${at}`)
  }
  assert.deepEqual(run(input, Array<number>(Math.ceil(input.length / 4096)).fill(4096)), whole)
})

test('pcap record claiming gigabytes is corruption: stop, keep what came before', () => {
  const input = concat(
    pcapFile({ le: false, nanos: false, linkType: 1, records: [records[0]!] }),
    new ByteBuilder().u32(1).u32(0).u32(0xf0000000).u32(60).zeros(100).build(),
  )
  const { packets, summary, failed } = run(input)
  assert.equal(failed, true)
  assert.equal(packets.length, 1)
  assert.equal(summary.error?.code, 'corrupt')
  assert.equal(summary.error?.offset, 24 + 16 + 60 + 8)
  assert.match(summary.error?.message ?? '', /4026531840/)
})

test('pcap truncated tail: earlier packets delivered, summary truncated', () => {
  const full = pcapFile({ le: true, nanos: false, linkType: 1, records })
  for (const cut of [24 + 16 + 30, 24 + 5, 24 + 16 + 60 + 16]) {
    const { packets, summary, failed } = run(full.subarray(0, cut))
    assert.equal(failed, false)
    assert.equal(summary.truncated, true, `cut at ${cut}`)
    assert.deepEqual(summary.anomalies, { 'pcap.truncated_record': 1 })
    assert.equal(packets.length, cut > 24 + 16 + 60 ? 1 : 0)
  }
  const header = run(full.subarray(0, 10))
  assert.equal(header.summary.truncated, true)
  assert.equal(header.summary.format, 'pcap')
  assert.equal(header.failed, false)
})

test('pcap with no records is a valid empty capture', () => {
  const { summary, failed } = run(pcapFile({ le: true, nanos: true, linkType: 1, records: [] }))
  assert.equal(failed, false)
  assert.equal(summary.packets, 0)
  assert.equal(summary.truncated, false)
})

// ---- not a capture ---------------------------------------------------------------------------

test('HTML is not a capture; the error names the first bytes', () => {
  const html = new ByteBuilder().ascii('<html><body>hi</body></html>').build()
  const r = new CaptureReader(() => assert.fail('no packets expected'))
  r.push(html.subarray(0, 3))
  assert.equal(r.failed, false)
  r.push(html.subarray(3))
  assert.equal(r.failed, true)
  assert.deepEqual(r.summary.error, {
    code: 'not_a_capture',
    message: 'not a pcap or pcapng capture (starts with 3c68746d)',
    offset: 0,
  })
  r.push(html)
  assert.equal(r.end().inputBytes, html.length)
})

test('empty and too-short inputs are not captures', () => {
  const empty = run(new Uint8Array(0))
  assert.equal(empty.failed, true)
  assert.equal(empty.summary.error?.code, 'not_a_capture')
  assert.match(empty.summary.error?.message ?? '', /empty input/)
  const short = run(Uint8Array.of(0xd4, 0xc3))
  assert.equal(short.summary.error?.code, 'not_a_capture')
  assert.match(short.summary.error?.message ?? '', /2 bytes: d4c3/)
})

test('text starting with CR/LF like a pcapng SHB but without byte-order magic', () => {
  const text = new ByteBuilder()
    .bytes([0x0a, 0x0d, 0x0d, 0x0a])
    .ascii('hello world, no capture')
    .build()
  const { summary } = run(text)
  assert.equal(summary.error?.code, 'not_a_capture')
  assert.match(summary.error?.message ?? '', /starts with 0a0d0d0a/)
})

// ---- pcapng ----------------------------------------------------------------------------------

const NS_TS = 1_700_000_000_123_456_789n

function pcapngSection(le: boolean): Uint8Array {
  return concat(
    shb(le),
    // Interface 0: Ethernet, default resolution (µs).
    idb(le, LinkType.ETHERNET, 262144),
    // Interface 1: raw IP, ns resolution.
    idb(le, LinkType.RAW, 0, [option(le, 9, Uint8Array.of(9))]),
    // Interface 2: SLL2, 2^-20 s resolution and a 10 s offset.
    idb(le, LinkType.LINUX_SLL2, 128, [
      option(le, 9, Uint8Array.of(0x80 | 20)),
      option(
        le,
        14,
        body(le, (o) => (le ? o.u32(10).u32(0) : o.u32(0).u32(10))),
      ),
    ]),
    spb(le, payload(5, 9)),
    epb(le, 0, 1_700_000_000_000_001n, payload(42, 4)),
    block(le, 0x0bad, payload(17, 5)),
    epb(le, 1, NS_TS, payload(7, 6), 1500),
    epb(le, 2, (1_700_000_000n << 20n) + (1n << 19n), payload(3, 7)),
    spb(le, payload(9, 8)),
    obsoletePb(le, 0, 1_600_000_000_000_000n, payload(4, 10)),
  )
}

for (const le of [true, false]) {
  test(`pcapng ${le ? 'little' : 'big'}-endian: interfaces, resolutions, SPB, PB, unknown blocks`, () => {
    const input = pcapngSection(le)
    const { packets, summary, failed } = assertSplitInvariant(input)
    assert.equal(failed, false)
    assert.equal(summary.format, 'pcapng')
    assert.deepEqual(summary.anomalies, {})
    assert.deepEqual(
      packets.map((p) => [p.interfaceId, p.linkType, p.tsUs, p.data.length / 2, p.origLen]),
      [
        // SPB before any timestamped packet: timestamp 0.
        [0, LinkType.ETHERNET, 0, 5, 5],
        [0, LinkType.ETHERNET, 1_700_000_000_000_001, 42, 42],
        // ns truncated to µs, exactly (the ns value exceeds 2^53).
        [1, LinkType.RAW, 1_700_000_000_123_456, 7, 1500],
        // 2^-20 units: 1.7e9 s + half a second, plus the 10 s interface offset.
        [2, LinkType.LINUX_SLL2, 1_700_000_010_500_000, 3, 3],
        // SPB: previous packet's timestamp, interface 0.
        [0, LinkType.ETHERNET, 1_700_000_010_500_000, 9, 9],
        [0, LinkType.ETHERNET, 1_600_000_000_000_000, 4, 4],
      ],
    )
    assert.equal(packets[1]?.data, toHex(payload(42, 4)))
  })
}

test('pcapng sections with different byte orders restart interface numbering', () => {
  const input = concat(
    shb(true),
    idb(true, LinkType.ETHERNET, 0),
    epb(true, 0, 1n, payload(8, 1)),
    shb(false),
    idb(false, LinkType.RAW, 0, [option(false, 9, Uint8Array.of(3))]),
    idb(false, LinkType.NULL, 0),
    epb(false, 1, 2n, payload(8, 2)),
    epb(false, 0, 5n, payload(8, 3)),
    // Interface 1 of section 1 does not exist in section 3.
    shb(true),
    idb(true, LinkType.LOOP, 0),
    epb(true, 1, 3n, payload(8, 4)),
    epb(true, 0, 3n, payload(8, 5)),
  )
  const { packets, summary } = assertSplitInvariant(input)
  assert.deepEqual(
    packets.map((p) => [p.interfaceId, p.linkType, p.tsUs]),
    [
      [0, LinkType.ETHERNET, 1],
      [1, LinkType.NULL, 2],
      // ms resolution → ×1000.
      [0, LinkType.RAW, 5000],
      [0, LinkType.LOOP, 3],
    ],
  )
  assert.deepEqual(summary.anomalies, { 'pcapng.unknown_interface': 1 })
})

test('pcapng packet blocks that lie about their lengths are skipped with anomalies', () => {
  const bad = block(
    true,
    6,
    body(true, (o, b) => {
      o.u32(0).u32(0).u32(1).u32(400).u32(400)
      b.zeros(16)
    }),
  )
  const input = concat(
    shb(true),
    idb(true, 1, 0),
    bad,
    spb(true, payload(4, 1)),
    block(true, 6, payload(8, 1)),
    epb(true, 0, 9n, payload(4, 2)),
  )
  const { packets, summary } = run(input)
  assert.deepEqual(
    packets.map((p) => p.tsUs),
    [0, 9],
  )
  assert.deepEqual(summary.anomalies, {
    'pcapng.bad_packet_length': 1,
    'pcapng.bad_block_length': 1,
  })
})

test('pcapng SPB is cut to the interface snap length', () => {
  const input = concat(shb(false), idb(false, 1, 6), spb(false, payload(10, 1), 10))
  const { packets } = run(input)
  assert.equal(packets[0]?.data, toHex(payload(6, 1)))
  assert.equal(packets[0]?.origLen, 10)
})

test('pcapng block lengths: not a multiple of 4, below 12, trailer mismatch → corrupt', () => {
  const good = concat(shb(true), idb(true, 1, 0), epb(true, 0, 1n, payload(8, 1)))
  const cases: [string, Uint8Array][] = [
    ['odd length', new ByteBuilder().u32le(6).u32le(14).zeros(6).build()],
    ['too short', new ByteBuilder().u32le(6).u32le(8).zeros(8).build()],
    ['trailer', new ByteBuilder().u32le(0x0bad).u32le(16).u32le(0).u32le(20).build()],
    ['huge', new ByteBuilder().u32le(6).u32le(0x7ffffffc).zeros(8).build()],
  ]
  for (const [name, tail] of cases) {
    const { packets, summary, failed } = run(concat(good, tail))
    assert.equal(failed, true, name)
    assert.equal(summary.error?.code, 'corrupt', name)
    assert.equal(packets.length, 1, name)
    const code = name === 'huge' ? 'pcapng.oversized_block' : 'pcapng.bad_block_length'
    assert.equal(summary.anomalies[code], 1, name)
  }
})

test('pcapng truncated tail', () => {
  const full = pcapngSection(true)
  const cut = full.length - 7
  const { packets, summary, failed } = run(full.subarray(0, cut))
  assert.equal(failed, false)
  assert.equal(summary.truncated, true)
  assert.deepEqual(summary.anomalies, { 'pcapng.truncated_block': 1 })
  assert.equal(packets.length, 5)
})

test('pcapng interfaces beyond MAX_PCAPNG_INTERFACES are ignored', () => {
  const one = idb(true, 1, 0)
  const parts = [shb(true)]
  for (let i = 0; i <= MAX_PCAPNG_INTERFACES; i++) parts.push(one)
  parts.push(epb(true, MAX_PCAPNG_INTERFACES, 1n, payload(4, 1)))
  parts.push(epb(true, MAX_PCAPNG_INTERFACES - 1, 1n, payload(4, 1)))
  const { packets, summary } = run(concat(...parts))
  assert.equal(packets.length, 1)
  assert.equal(summary.anomalies['pcapng.too_many_interfaces'], 1)
  assert.equal(summary.anomalies['pcapng.unknown_interface'], 1)
})

test('summary counters are live during reading', () => {
  const input = pcapFile({ le: true, nanos: false, linkType: 1, records })
  const seen: number[] = []
  const r = new CaptureReader(() => seen.push(r.summary.packets))
  r.push(input)
  assert.deepEqual(seen, [1, 2, 3])
})

test('the data view points into the pushed chunk when a record does not straddle', () => {
  const input = pcapFile({ le: true, nanos: false, linkType: 1, records })
  let buffer: ArrayBufferLike | undefined
  const r = new CaptureReader((p) => {
    buffer ??= p.data.buffer
  })
  r.push(input)
  assert.equal(buffer, input.buffer)
})

// ---- robustness ------------------------------------------------------------------------------

test('arbitrary bytes after a valid header never throw', () => {
  const pcapHeader = pcapFile({ le: true, nanos: false, linkType: 1, records: [] })
  const ngHeader = concat(shb(true), idb(true, 1, 0))
  fc.assert(
    fc.property(
      fc.constantFrom(new Uint8Array(0), pcapHeader, ngHeader),
      fc.uint8Array({ maxLength: 300 }),
      fc.integer({ min: 1, max: 64 }),
      (head, tail, chunk) => {
        const input = concat(head, tail)
        const r = new CaptureReader(() => {})
        for (let i = 0; i < input.length; i += chunk) r.push(input.subarray(i, i + chunk))
        const s = r.end()
        assert.ok(s.packets >= 0)
      },
    ),
    { numRuns: 300 },
  )
})

test('packet views are plain Uint8Arrays even when the input is a Buffer (slice copies)', () => {
  const input = Buffer.from(pcapFile({ le: true, nanos: false, linkType: 1, records }))
  const seen: boolean[] = []
  const reader = new CaptureReader((p) => {
    seen.push(Object.getPrototypeOf(p.data) === Uint8Array.prototype)
    // A parser keeping bytes copies them with `slice`; on a Buffer that would be a view.
    const kept = p.data.slice()
    kept.fill(0)
  })
  reader.push(input)
  reader.end()
  assert.ok(seen.length > 0 && seen.every(Boolean))
  assert.deepEqual(
    new Uint8Array(input),
    pcapFile({ le: true, nanos: false, linkType: 1, records }),
  )
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { requireTool } from '../../../test/helpers/tools.ts'
import {
  MAX_SYSLOG_FRAME_BYTES,
  MAX_SYSLOG_SKIP_FRAME_BYTES,
  SyslogTcpFramer,
  octetCountFrame,
  type SyslogTcpFramerOptions,
} from './framing.ts'
import { parseSyslog } from './decode.ts'

const enc = new TextEncoder()
const dec = new TextDecoder()

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Frames of `stream` pushed in the given pieces, then `end()`, as strings. */
function frame(pieces: Uint8Array[], options?: SyslogTcpFramerOptions) {
  const f = new SyslogTcpFramer(options)
  const out: string[] = []
  for (const p of pieces) for (const m of f.push(p)) out.push(dec.decode(m))
  for (const m of f.end()) out.push(dec.decode(m))
  return { out, stats: f.stats, framer: f }
}

const MIXED = concat([
  octetCountFrame('<13>1 - h a - - - counted one'),
  enc.encode('<13>1 - h a - - - lf one\n'),
  octetCountFrame('<13>1 - h a - - - has\nan LF inside'),
  enc.encode('<13>Nov 22 10:00:00 h crlf: x\r\n'),
  enc.encode('<13>nul trailer\0'),
  octetCountFrame('<13>1 - h a - - - héllo'),
  enc.encode('\n\r\n'), // empty frames between messages
  enc.encode('<13>last, no trailer'),
])
const MIXED_EXPECTED = [
  '<13>1 - h a - - - counted one',
  '<13>1 - h a - - - lf one',
  '<13>1 - h a - - - has\nan LF inside',
  '<13>Nov 22 10:00:00 h crlf: x',
  '<13>nul trailer',
  '<13>1 - h a - - - héllo',
  '<13>last, no trailer',
]

test('octet counting and LF / CRLF / NUL trailers mixed in one stream', () => {
  const { out, stats } = frame([MIXED])
  assert.deepEqual(out, MIXED_EXPECTED)
  assert.equal(stats.frames, 7)
  assert.equal(stats.octetCountedFrames, 3)
  assert.equal(stats.nonTransparentFrames, 4)
  assert.equal(stats.oversizedFrames, 0)
})

test('same frames at every split point and in one-byte chunks', () => {
  for (let i = 0; i <= MIXED.length; i++) {
    assert.deepEqual(
      frame([MIXED.subarray(0, i), MIXED.subarray(i)]).out,
      MIXED_EXPECTED,
      `split ${i}`,
    )
  }
  const bytes = Array.from(MIXED, (_, i) => MIXED.subarray(i, i + 1))
  assert.deepEqual(frame(bytes).out, MIXED_EXPECTED)
})

test('a number not followed by SP starts a line; octet counting can be turned off', () => {
  const a = frame([enc.encode('123abc\n2024-01-01 x\n')])
  assert.deepEqual(a.out, ['123abc', '2024-01-01 x'])
  assert.equal(a.stats.octetCountedFrames, 0)
  // More digits than any accepted count: a line that begins with a long number.
  assert.deepEqual(frame([enc.encode('1234567890 x\n')]).out, ['1234567890 x'])
  // NDJSON: a line may begin with "12 " and is still one line.
  const ndjson = frame([enc.encode('12 ab\n{"a":1}\n{"b":2}')], { octetCounting: false })
  assert.deepEqual(ndjson.out, ['12 ab', '{"a":1}', '{"b":2}'])
  assert.equal(ndjson.stats.octetCountedFrames, 0)
})

test('end(): a last unterminated line is a frame; a cut octet-counted frame is counted', () => {
  const cut = frame([enc.encode('<13>ok\n10 abc')])
  assert.deepEqual(cut.out, ['<13>ok'])
  assert.equal(cut.stats.truncatedFrames, 1)
  assert.equal(cut.stats.discardedBytes, 3)
  assert.equal(cut.framer.bufferedBytes, 0)
  assert.deepEqual(frame([enc.encode('42')]).out, ['42'])
  assert.deepEqual(frame([enc.encode('tail\r')]).out, ['tail'])
})

test('an oversized LF frame is skipped and the framer resyncs at the next LF, bounded', () => {
  const max = 64
  const f = new SyslogTcpFramer({ maxFrameBytes: max })
  const out: string[] = []
  const push = (s: string) => {
    for (const m of f.push(enc.encode(s))) out.push(dec.decode(m))
    assert.ok(f.bufferedBytes <= max + 1, `buffered ${f.bufferedBytes}`)
  }
  push('<13>before\n<13>')
  for (let i = 0; i < 100; i++) push('x'.repeat(50)) // 5 KB without a trailer
  push('end of the long one\n<13>after\n')
  push(`<13>${'y'.repeat(max - 4)}\n`) // exactly max: kept
  push(`<13>${'y'.repeat(max - 4)}\r\n`) // max, then CRLF: kept (the CR is the trailer's)
  push(`<13>${'y'.repeat(max - 3)}\n`) // max + 1: dropped
  assert.deepEqual(out, [
    '<13>before',
    '<13>after',
    `<13>${'y'.repeat(max - 4)}`,
    `<13>${'y'.repeat(max - 4)}`,
  ])
  assert.equal(f.stats.oversizedFrames, 2)
  assert.equal(f.stats.discardedBytes, 4 + 5_000 + 'end of the long one'.length + max + 1)
})

test('an oversized octet-counted frame is skipped by its count; a huge count resyncs at LF', () => {
  const big = 'z'.repeat(MAX_SYSLOG_FRAME_BYTES + 1)
  const stream = concat([
    octetCountFrame(big),
    octetCountFrame('<13>next'),
    enc.encode(`${MAX_SYSLOG_SKIP_FRAME_BYTES + 1} garbage that is not a frame\n`),
    octetCountFrame('<13>resynced'),
  ])
  const pieces: Uint8Array[] = []
  for (let i = 0; i < stream.length; i += 4_096) pieces.push(stream.subarray(i, i + 4_096))
  const { out, stats } = frame(pieces)
  assert.deepEqual(out, ['<13>next', '<13>resynced'])
  assert.equal(stats.oversizedFrames, 2)
  assert.equal(stats.discardedBytes, big.length + 'garbage that is not a frame'.length)
})

test('property: any messages, either framing, any chunking, give the messages back', () => {
  // A non-transparent message must not hold its trailer, start like an octet count or an empty
  // frame, or end in CR; real syslog lines start with `<`.
  const lineMsg = fc
    .uint8Array({ minLength: 0, maxLength: 200 })
    .map((b) => concat([enc.encode('<'), b.map((c) => (c === 0x0a || c === 0x00 ? 0x20 : c))]))
    .filter((b) => b[b.length - 1] !== 0x0d)
  const countedMsg = fc.uint8Array({ minLength: 1, maxLength: 300 })
  const item = fc.oneof(
    fc.record({
      kind: fc.constant('lf' as const),
      msg: lineMsg,
      trailer: fc.constantFrom('\n', '\r\n', '\0'),
    }),
    fc.record({ kind: fc.constant('count' as const), msg: countedMsg, trailer: fc.constant('') }),
  )
  fc.assert(
    fc.property(
      fc.array(item, { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (items, cuts) => {
        const stream = concat(
          items.map((it) =>
            it.kind === 'count'
              ? octetCountFrame(it.msg)
              : concat([it.msg, enc.encode(it.trailer)]),
          ),
        )
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b)
        const pieces: Uint8Array[] = []
        let last = 0
        for (const p of [...points, stream.length]) {
          pieces.push(stream.slice(last, p))
          last = p
        }
        const f = new SyslogTcpFramer()
        const got: Uint8Array[] = []
        for (const p of pieces) got.push(...f.push(p).map((m) => m.slice()))
        got.push(...f.end())
        assert.deepEqual(
          got.map((m) => Buffer.from(m).toString('hex')),
          items.map((it) => Buffer.from(it.msg).toString('hex')),
        )
        assert.equal(f.stats.frames, items.length)
        assert.equal(f.stats.oversizedFrames + f.stats.truncatedFrames, 0)
      },
    ),
    { numRuns: 1_000 },
  )
})

test('property: any bytes in any chunks never throw and never buffer past the limit', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      fc.boolean(),
      (chunks, oc) => {
        const f = new SyslogTcpFramer({ maxFrameBytes: 100, octetCounting: oc })
        for (const c of chunks) {
          for (const m of f.push(c)) assert.ok(m.length > 0 && m.length <= 100)
          assert.ok(f.bufferedBytes <= 101)
        }
        for (const m of f.end()) assert.ok(m.length > 0 && m.length <= 100)
      },
    ),
    { numRuns: 2_000 },
  )
})

test('octetCountFrame counts bytes, not characters', () => {
  assert.equal(dec.decode(octetCountFrame('héllo')), '6 héllo')
  assert.deepEqual(octetCountFrame(Uint8Array.of(1, 2)), Uint8Array.of(0x32, 0x20, 1, 2))
})

const logger = requireTool('logger', 'bsdutils')

test(
  'real util-linux logger over TCP: octet counting and LF framing',
  { skip: logger.ok ? false : logger.skip },
  async () => {
    const framer = new SyslogTcpFramer()
    const frames: Uint8Array[] = []
    const server = createServer((sock) => {
      sock.on('data', (chunk) => frames.push(...framer.push(chunk).map((m) => m.slice())))
      sock.on('end', () => frames.push(...framer.end()))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = String((server.address() as AddressInfo).port)
    const run = promisify(execFile)
    try {
      const args = ['-T', '-n', '127.0.0.1', '-P', port, '-t', 'tlsight-test']
      await run('logger', [...args, '--octet-count', '--rfc5424', 'counted {"a":1}'])
      await run('logger', [...args, '--rfc5424', 'line {"a":2}'])
      await run('logger', [...args, '--rfc3164', 'bsd {"a":3}'])
      const deadline = Date.now() + 5_000
      while (frames.length < 3 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const parsed = frames.map((m) => {
        const r = parseSyslog(m, { now: Date.now() })
        assert.ok(r.ok)
        return r.value
      })
      assert.deepEqual(
        parsed.map((p) => [p.format, p.appName, p.message]),
        [
          ['rfc5424', 'tlsight-test', 'counted {"a":1}'],
          ['rfc5424', 'tlsight-test', 'line {"a":2}'],
          ['rfc3164', 'tlsight-test', 'bsd {"a":3}'],
        ],
      )
      assert.equal(framer.stats.octetCountedFrames, 1)
      assert.equal(framer.stats.nonTransparentFrames, 2)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  },
)

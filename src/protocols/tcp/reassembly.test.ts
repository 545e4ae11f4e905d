import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TcpStreamReassembler } from './reassembly.ts'

const data = Uint8Array.from({ length: 100 }, (_, i) => i)

function collect(r: TcpStreamReassembler, segs: [number, Uint8Array][]): Uint8Array {
  const out: Uint8Array[] = []
  for (const [seq, p] of segs) r.push(seq, p, out)
  const all = new Uint8Array(out.reduce((n, c) => n + c.length, 0))
  let o = 0
  for (const c of out) {
    all.set(c, o)
    o += c.length
  }
  return all
}

test('in-order segments after a SYN are delivered from ISN + 1', () => {
  const r = new TcpStreamReassembler(1000)
  r.syn(999)
  const got = collect(r, [
    [1000, data.subarray(0, 40)],
    [1040, data.subarray(40)],
  ])
  assert.deepEqual(got, data)
})

test('every split point and every arrival order of two segments gives the same bytes', () => {
  for (let cut = 1; cut < data.length; cut++) {
    const a: [number, Uint8Array] = [5000, data.subarray(0, cut)]
    const b: [number, Uint8Array] = [5000 + cut, data.subarray(cut)]
    for (const order of [
      [a, b],
      [b, a],
    ]) {
      const r = new TcpStreamReassembler(1000)
      r.syn(4999)
      assert.deepEqual(collect(r, order), data, `cut ${cut}`)
    }
  }
})

test('one-byte segments in reverse order reassemble', () => {
  const r = new TcpStreamReassembler(1000)
  r.syn(0)
  const segs: [number, Uint8Array][] = []
  for (let i = data.length - 1; i >= 0; i--) segs.push([1 + i, data.subarray(i, i + 1)])
  assert.deepEqual(collect(r, segs), data)
})

test('retransmissions and overlaps are delivered once, first copy wins', () => {
  const r = new TcpStreamReassembler(1000)
  r.syn(9)
  const altered = data.slice()
  altered.fill(0xee, 20, 40)
  const got = collect(r, [
    [10, data.subarray(0, 30)],
    [10, data.subarray(0, 30)], // exact retransmission
    [30, altered.subarray(20, 60)], // overlaps 20..30 with different bytes
    [50, data.subarray(40, 100)],
  ])
  assert.equal(got.length, 100)
  assert.deepEqual(got.subarray(0, 30), data.subarray(0, 30))
  assert.deepEqual(got.subarray(30, 40), altered.subarray(30, 40))
  assert.deepEqual(got.subarray(40), data.subarray(40))
})

test('sequence numbers wrap around 2^32', () => {
  const r = new TcpStreamReassembler(1000)
  r.syn(0xffffffff - 10)
  const got = collect(r, [
    [(0xffffffff - 9 + 50) >>> 0, data.subarray(50)],
    [0xffffffff - 9, data.subarray(0, 50)],
  ])
  assert.deepEqual(got, data)
})

test('a capture that starts mid-stream uses the first data segment as byte 0', () => {
  const r = new TcpStreamReassembler(1000)
  const got = collect(r, [
    [777, data.subarray(0, 10)],
    [787, data.subarray(10, 20)],
  ])
  assert.deepEqual(got, data.subarray(0, 20))
})

test('delivery stops at the byte limit and records it', () => {
  const r = new TcpStreamReassembler(64)
  r.syn(0)
  const got = collect(r, [
    [1, data.subarray(0, 50)],
    [51, data.subarray(50)],
  ])
  assert.equal(got.length, 64)
  assert.ok(r.full)
  assert.deepEqual(r.anomalies, ['tcp.stream_limit'])
  assert.equal(collect(r, [[200, data.subarray(0, 10)]]).length, 0)
})

test('a gap that never fills is skipped once the pending limit is reached', () => {
  const r = new TcpStreamReassembler(100_000)
  r.syn(0)
  const segs: [number, Uint8Array][] = [[1, data.subarray(0, 10)]]
  // bytes 10..19 are lost; 300 later segments keep arriving
  for (let i = 0; i < 300; i++) segs.push([21 + i * 10, data.subarray(0, 10)])
  const got = collect(r, segs)
  assert.ok(r.anomalies.includes('tcp.pending_limit'))
  assert.ok(r.anomalies.includes('tcp.gap_skipped'))
  assert.equal(r.gaps, 1)
  assert.equal(got.length, 10 + 300 * 10)
})

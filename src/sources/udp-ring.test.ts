import assert from 'node:assert/strict'
import test from 'node:test'
import { Worker } from 'node:worker_threads'
import { createUdpRing, MAX_PEER_CHARS, RingReader, RingWriter } from './udp-ring.ts'

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

function drain(r: RingReader, max = Infinity): { peer: string; bytes: number[] }[] {
  const out: { peer: string; bytes: number[] }[] = []
  r.take(max, (peer, b) => out.push({ peer, bytes: [...b] }))
  return out
}

test('udp ring: records come out whole and in order, across the end of the ring', () => {
  const ring = createUdpRing(1024, 1000)
  const w = new RingWriter(ring)
  const r = new RingReader(ring)
  let wakes = 0
  const wake = () => wakes++
  let sent = 0
  let got = 0
  // Record sizes that do not divide the ring: every lap wraps at a different place.
  for (let lap = 0; lap < 50; lap++) {
    for (let i = 0; i < 3; i++) {
      assert.ok(w.push(`10.0.0.${sent % 250}`, bytes(100 + (sent % 37), sent % 256), wake))
      sent++
    }
    for (const rec of drain(r)) {
      assert.equal(rec.peer, `10.0.0.${got % 250}`)
      assert.equal(rec.bytes.length, 100 + (got % 37))
      assert.ok(rec.bytes.every((b) => b === got % 256))
      got++
    }
    assert.equal(r.records, 0)
  }
  assert.equal(got, sent)
  // The reader starts stopped: only the first record had to wake it.
  assert.equal(wakes, 1)
})

test('udp ring: full by bytes or by records refuses; room comes back once read', () => {
  const ring = createUdpRing(1024, 3)
  const w = new RingWriter(ring)
  const r = new RingReader(ring)
  const wake = () => undefined
  assert.ok(w.push('a', bytes(10, 1), wake))
  assert.ok(w.push('a', bytes(10, 2), wake))
  assert.ok(w.push('a', bytes(10, 3), wake))
  assert.equal(w.push('a', bytes(10, 4), wake), false, 'three records at most')
  assert.equal(drain(r, 2).length, 2, 'take honours max')
  assert.equal(r.records, 1)
  assert.ok(w.push('a', bytes(900, 5), wake))
  assert.equal(w.push('a', bytes(200, 6), wake), false, 'no room for 200 more bytes')
  assert.deepEqual(
    drain(r).map((x) => x.bytes[0]),
    [3, 5],
  )
  // A record larger than the whole ring never fits.
  assert.equal(w.push('a', bytes(2000, 7), wake), false)
  // Peer addresses are cut to MAX_PEER_CHARS (the length byte 0xff marks a wrap).
  assert.ok(w.push('x'.repeat(300), bytes(1, 8), wake))
  assert.equal(drain(r)[0]?.peer.length, MAX_PEER_CHARS)
})

test('udp ring: stop() and the writer agree on who wakes the reader', () => {
  const ring = createUdpRing(4096, 100)
  const w = new RingWriter(ring)
  const r = new RingReader(ring)
  let wakes = 0
  const wake = () => wakes++
  w.push('a', bytes(1, 1), wake)
  assert.equal(wakes, 1)
  // Reading: pushes do not wake.
  w.push('a', bytes(1, 2), wake)
  assert.equal(wakes, 1)
  drain(r)
  // Empty: the reader stops, the next push wakes it.
  assert.equal(r.stop(), false)
  w.push('a', bytes(1, 3), wake)
  assert.equal(wakes, 2)
  drain(r)
  assert.equal(r.stop(), false)
})

test('udp ring: another thread writes 200k records while this one reads, nothing lost or torn', async () => {
  const total = 200_000
  const ring = createUdpRing(64 * 1024, total)
  const r = new RingReader(ring)
  const writer = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads')
     import('tsx/esm/api').then((m) => { m.register(); return import(workerData.module) }).then(({ RingWriter }) => {
       const w = new RingWriter(workerData.ring)
       let full = 0
       for (let i = 0; i < ${total}; i++) {
         const b = new Uint8Array(20 + (i % 200)).fill(i % 251)
         new DataView(b.buffer).setUint32(0, i, true)
         while (!w.push('p' + (i % 7), b, () => {})) full++
       }
       parentPort.postMessage(full)
     })`,
    {
      eval: true,
      workerData: { ring, module: new URL('./udp-ring.ts', import.meta.url).href },
    },
  )
  const done = new Promise<number>((resolve, reject) => {
    writer.once('message', resolve)
    writer.once('error', reject)
  })
  let next = 0
  let finished = false
  void done.then(() => (finished = true))
  while (next < total) {
    r.take(1000, (peer, b) => {
      const i = new DataView(b.buffer, b.byteOffset).getUint32(0, true)
      assert.equal(i, next)
      assert.equal(peer, 'p' + (i % 7))
      assert.equal(b.length, 20 + (i % 200))
      assert.equal(b[b.length - 1], i % 251)
      next++
    })
    if (r.records === 0) await new Promise((resolve) => setImmediate(resolve))
    if (finished && r.records === 0 && next < total) break
  }
  await done
  assert.equal(next, total)
  await writer.terminate()
})

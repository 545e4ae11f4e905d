import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AppError } from '../errors.ts'
import { decodeMessage } from './decode.ts'
import { DropSampler, SinkGate, SourceStats, type CollectedEvent } from './stats.ts'
import { recordingLogger } from './test-helpers.ts'

const enc = new TextEncoder()
const CTX = { source: 'udp', sensor: 's', now: new Date(Date.UTC(2026, 10, 22)) }
const REC = '{"src_ip":"192.0.2.1","method":"GET","path":"/"}'

test('the sampler logs each reason at most once per interval and counts the rest', () => {
  const log = recordingLogger()
  let now = 10_000
  const s = new DropSampler(log, () => now)
  assert.equal(s.logSample('not_json', { peer: '192.0.2.1', sample: 'x'.repeat(1000) }), true)
  for (let i = 0; i < 50; i++) assert.equal(s.logSample('not_json', { peer: 'p' }), false)
  // Another reason has its own budget.
  assert.equal(s.logSample('bad_json', {}), true)
  now += 999
  assert.equal(s.logSample('not_json', {}), false)
  now += 1
  assert.equal(s.logSample('not_json', { peer: 'q' }), true)
  assert.deepEqual(
    log.lines.map((l) => [l.level, l.fields.reason, l.fields.suppressed, l.msg]),
    [
      ['warn', 'not_json', 0, 'Log input dropped.'],
      ['warn', 'bad_json', 0, 'Log input dropped.'],
      ['warn', 'not_json', 51, 'Log input dropped.'],
    ],
  )
  // Samples are bounded.
  assert.ok(String(log.lines[0]?.fields.sample).length <= 257)
})

test('gate: datagrams beyond max pending are dropped queue_full; streams wait for room', async () => {
  const stats = new SourceStats()
  const resolvers: (() => void)[] = []
  const got: CollectedEvent[] = []
  const sink = (batch: readonly CollectedEvent[]) =>
    new Promise<void>((resolve) => {
      got.push(...batch)
      resolvers.push(resolve)
    })
  const gate = new SinkGate(sink, 3, stats, new DropSampler(recordingLogger()))
  const batch = decodeMessage(enc.encode([REC, REC, REC, REC, REC, 'junk'].join('\n')), CTX)
  gate.deliver('udp', batch, '127.0.0.1', false)
  // Datagram events wait for the end of the event-loop turn, counted as pending meanwhile.
  assert.equal(got.length, 0)
  assert.equal(stats.pending, 3)
  await new Promise((r) => setImmediate(r))
  assert.equal(got.length, 3)
  assert.equal(resolvers.length, 1, 'one batch')
  assert.equal(gate.saturated, true)
  assert.deepEqual(
    [stats.by.udp.received, stats.by.udp.dropped.queue_full, stats.by.udp.dropped.not_json],
    [6, 2, 1],
  )
  let roomy = false
  const room = gate.room().then(() => (roomy = true))
  await Promise.resolve()
  assert.equal(roomy, false)
  resolvers.shift()?.()
  await room
  assert.equal(roomy, true)
  // A stream delivery never drops for saturation: the caller paused instead.
  gate.deliver('tcp', decodeMessage(enc.encode(`${REC}\n${REC}`), CTX), '127.0.0.1', true)
  assert.equal(stats.pending, 2)
  assert.equal(stats.by.tcp.dropped.queue_full, 0)
  const idle = gate.idle()
  for (const r of resolvers.splice(0)) r()
  await idle
  assert.equal(stats.pending, 0)
  assert.equal(stats.by.udp.accepted, 3)
  assert.equal(stats.by.tcp.accepted, 2)
})

test('gate: sink failures, thrown or rejected, are sink_error drops with the error code', async () => {
  const stats = new SourceStats()
  const log = recordingLogger()
  let n = 0
  const sink = (): Promise<void> | void => {
    n++
    if (n === 1) throw new Error('sync failure')
    if (n === 2) return Promise.reject(new AppError('E_STORE_BACKPRESSURE', 'too many pending'))
  }
  const gate = new SinkGate(sink, 10, stats, new DropSampler(log, () => n * 10_000))
  // Three messages, three batches: the first throws, the second rejects, the third is taken.
  for (let i = 0; i < 3; i++)
    gate.deliver('unix', decodeMessage(enc.encode(REC), CTX), 'unix', true)
  await gate.idle()
  assert.equal(stats.by.unix.dropped.sink_error, 2)
  assert.equal(stats.by.unix.accepted, 1)
  assert.deepEqual(
    log.lines.map((l) => l.fields.code),
    ['unknown', 'E_STORE_BACKPRESSURE'],
  )
  const snap = stats.snapshot()
  stats.by.unix.accepted = 99
  assert.equal(snap.sources.unix.accepted, 1)
})

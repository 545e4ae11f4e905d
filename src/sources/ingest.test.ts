import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AppError } from '../errors.ts'
import { ingestRecords } from './ingest.ts'
import { DropSampler, SinkGate, SourceStats, type EventSink } from './stats.ts'
import { collectingSink, recordingLogger } from './test-helpers.ts'

const REC = (i: number) =>
  `{"ClientIP":"198.51.100.${i % 250}","ClientRequestMethod":"GET","ClientRequestURI":"/r${i}","EdgeResponseStatus":200}`

function gate(sink: EventSink, maxPending = 1_000): SinkGate {
  return new SinkGate(sink, maxPending, new SourceStats(), new DropSampler(recordingLogger()))
}

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield Buffer.from(p)
}

test('ingestRecords: lines across chunks become events; drops counted by reason', async () => {
  const c = collectingSink()
  const g = gate(c.sink)
  const long = `{"pad":"${'x'.repeat(300)}"}`
  const r = await ingestRecords(
    chunks(REC(1) + '\n' + REC(2).slice(0, 20), REC(2).slice(20) + '\nnot json\n', long + '\n'),
    { gate: g, sensor: 's', maxRecordBytes: 200 },
  )
  assert.deepEqual(r, { received: 4, accepted: 2, dropped: { not_json: 1, oversized: 1 } })
  assert.equal(c.events.length, 2)
  assert.equal(g.stats.by.ingest.received, 4)
})

test('ingestRecords: events the sink refuses fail the body with E_STORE_BACKPRESSURE', async () => {
  const g = gate(() => Promise.reject(new AppError('E_STORE_BACKPRESSURE', 'busy')))
  await assert.rejects(
    ingestRecords(chunks(`${REC(1)}\n${REC(2)}\n`), { gate: g, sensor: 's', maxRecordBytes: 1024 }),
    (e: unknown) =>
      e instanceof AppError && e.code === 'E_STORE_BACKPRESSURE' && /2 of 2/.test(e.message),
  )
  assert.equal(g.stats.by.ingest.dropped.sink_error, 2)
})

test('ingestRecords: a body that breaks off fails with its error, after what came before', async () => {
  const c = collectingSink()
  async function* broken(): AsyncGenerator<Uint8Array> {
    yield Buffer.from(`${REC(1)}\n`)
    throw new Error('connection reset')
  }
  await assert.rejects(
    ingestRecords(broken(), { gate: gate(c.sink), sensor: 's', maxRecordBytes: 1024 }),
    /connection reset/,
  )
  assert.equal(c.events.length, 1)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REJECTED_DIR, Spool, type SpooledBatch } from './spool.ts'
import { body, bodyRows, tempDir } from './test-helpers/fixtures.ts'

const LIMITS = { max_bytes: 1 << 20, segment_max_bytes: 300 }

function batch(i: number): SpooledBatch {
  const rows = [{ n: i, s: `it's a \\ "row" ${i}` }, { n: -i }]
  return { id: `b${i}`, type: 'tls', rows: rows.length, body: body(rows) }
}

async function drain(s: Spool): Promise<SpooledBatch[]> {
  const out: SpooledBatch[] = []
  for (let b = await s.peek(); b !== undefined; b = await s.peek()) {
    out.push(b)
    await s.ack()
  }
  return out
}

function segments(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.ndjson'))
}

test('batches come back in append order across segments; replayed segments are deleted', async () => {
  const dir = tempDir('spool')
  const s = await Spool.open(dir, LIMITS)
  assert.equal(s.isEmpty, true)
  for (let i = 0; i < 10; i++) await s.append(batch(i))
  assert.equal(s.isEmpty, false)
  assert.ok(segments(dir).length > 1, 'segment_max_bytes rotates segments')
  const bytes = segments(dir).reduce((n, f) => n + readFileSync(join(dir, f)).length, 0)
  assert.equal(s.bytes, bytes)
  const got = await drain(s)
  assert.deepEqual(
    got,
    Array.from({ length: 10 }, (_, i) => batch(i)),
  )
  assert.equal(s.isEmpty, true)
  assert.equal(s.bytes, 0)
  assert.deepEqual(segments(dir), [])
  await s.close()
})

test('appends interleaved with reads keep FIFO order', async () => {
  const s = await Spool.open(tempDir('spool'), LIMITS)
  await s.append(batch(0))
  await s.append(batch(1))
  assert.equal((await s.peek())?.id, 'b0')
  await s.append(batch(2))
  await s.ack()
  await s.append(batch(3))
  assert.deepEqual(
    (await drain(s)).map((b) => b.id),
    ['b1', 'b2', 'b3'],
  )
  await s.close()
})

test('a reopened spool replays what an earlier process left, without a torn last line', async () => {
  const dir = tempDir('spool')
  const a = await Spool.open(dir, LIMITS)
  for (let i = 0; i < 4; i++) await a.append(batch(i))
  await a.close()
  // A crash in the middle of a write leaves a line without its newline: never acknowledged.
  const last = segments(dir).sort().at(-1)!
  appendFileSync(join(dir, last), '{"batch":"torn","type":"tls","rows":3}\n{"n":1}\n{"n"')
  const b = await Spool.open(dir, LIMITS)
  assert.deepEqual(
    (await drain(b)).map((x) => x.id),
    ['b0', 'b1', 'b2', 'b3'],
  )
  assert.deepEqual(readdirSync(join(dir, REJECTED_DIR)), [], 'a torn write is not corruption')
  await b.close()
})

test('a corrupt line is kept in rejected/ and does not block the batches after it', async () => {
  const dir = tempDir('spool')
  const a = await Spool.open(dir, { max_bytes: 1 << 20, segment_max_bytes: 1 << 20 })
  await a.append(batch(0))
  await a.close()
  const seg = segments(dir)[0]!
  appendFileSync(join(dir, seg), 'not json\n{"x":1}\n')
  const b1 = batch(1)
  appendFileSync(join(dir, seg), `{"batch":"b1","type":"tls","rows":${b1.rows}}\n`)
  appendFileSync(join(dir, seg), b1.body)
  const b = await Spool.open(dir, LIMITS)
  assert.deepEqual(
    (await drain(b)).map((x) => x.id),
    ['b0', 'b1'],
  )
  const kept = readdirSync(join(dir, REJECTED_DIR))
  assert.equal(kept.length, 1)
  assert.equal(readFileSync(join(dir, REJECTED_DIR, kept[0]!), 'utf8'), 'not json\n{"x":1}\n')
  await b.close()
})

test('past max_bytes an append fails E_SPOOL_FULL and nothing is written', async () => {
  const dir = tempDir('spool')
  const s = await Spool.open(dir, { max_bytes: 200, segment_max_bytes: 1000 })
  await s.append(batch(0))
  const before = s.bytes
  await assert.rejects(
    s.append({ id: 'big', type: 'http', rows: 1, body: body([{ x: 'y'.repeat(300) }]) }),
    {
      code: 'E_SPOOL_FULL',
    },
  )
  assert.equal(s.bytes, before)
  // Room comes back once batches are replayed.
  await drain(s)
  await s.append(batch(1))
  assert.equal((await s.peek())?.id, 'b1')
  await s.close()
})

test('reject() moves the head batch aside', async () => {
  const dir = tempDir('spool')
  const s = await Spool.open(dir, LIMITS)
  await s.append(batch(0))
  await s.append(batch(1))
  await s.peek()
  await s.reject('refused')
  assert.equal((await s.peek())?.id, 'b1')
  const [note, ...rows] = bodyRows(readFileSync(join(dir, REJECTED_DIR, 'b0.ndjson')))
  assert.equal(note!['reason'], 'refused')
  assert.deepEqual(rows, bodyRows(batch(0).body))
  await s.close()
})

test('one process per spool: a second open fails E_SPOOL_IO, a stale lock is taken over', async () => {
  const dir = tempDir('spool')
  const s = await Spool.open(dir, LIMITS)
  await assert.rejects(Spool.open(dir, LIMITS), { code: 'E_SPOOL_IO' })
  await s.close()
  // A lock whose process is gone (pid far above pid_max).
  appendFileSync(join(dir, 'spool.lock'), '999999999')
  const t = await Spool.open(dir, LIMITS)
  await t.close()
})

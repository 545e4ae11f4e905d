import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SpoolReplay, type ReplayTarget } from './replay.ts'
import { REJECTED_DIR, Spool, type SpooledBatch } from './spool.ts'
import { body, tempDir } from './test-helpers/fixtures.ts'

const SETTINGS = { retry_min_ms: 5, retry_max_ms: 40, max_attempts: 3, target_name: 'test target' }

function batch(id: string): SpooledBatch {
  return { id, type: 'http', rows: 1, body: body([{ id }]) }
}

/** A target that applies what `plan` says for each batch id, and records what happened. */
function scripted(plan: (id: string, attempt: number) => 'ok' | 'down' | 'refuse' | 'foreign') {
  const attempts = new Map<string, number>()
  const log: string[] = []
  let drained: () => void = () => undefined
  const done = new Promise<void>((resolve) => (drained = resolve))
  const target: ReplayTarget = {
    apply(b) {
      const n = (attempts.get(b.id) ?? 0) + 1
      attempts.set(b.id, n)
      const what = plan(b.id, n)
      if (what === 'foreign') return Promise.resolve(null)
      if (what !== 'ok') return Promise.reject(new Error(what))
      return Promise.resolve(() => log.push(`applied ${b.id}`))
    },
    refused: (b, e) => Promise.resolve(e instanceof Error && e.message === 'refuse'),
    setAside: (b, why) => log.push(`aside ${b.id} ${why}`),
    drained: () => {
      log.push('drained')
      drained()
    },
  }
  return { target, log, attempts, done }
}

test('replays in order through outages; refused and foreign batches are set aside', async () => {
  const dir = tempDir('replay')
  const spool = await Spool.open(dir, { max_bytes: 1 << 20, segment_max_bytes: 1 << 16 })
  for (const id of ['a', 'b', 'c', 'd']) await spool.append(batch(id))
  const t = scripted((id, n) => {
    if (id === 'a') return n < 3 ? 'down' : 'ok' // an outage: waits, then the same batch again
    if (id === 'b') return 'refuse' // the target answers and refuses it every time
    if (id === 'c') return 'foreign'
    return 'ok'
  })
  const replay = new SpoolReplay(spool, SETTINGS, t.target)
  replay.kick()
  replay.kick() // one loop at a time
  await t.done
  assert.deepEqual(t.log, [
    'applied a',
    'aside b refused',
    'aside c foreign',
    'applied d',
    'drained',
  ])
  assert.equal(t.attempts.get('a'), 3)
  assert.equal(t.attempts.get('b'), SETTINGS.max_attempts)
  assert.equal(spool.isEmpty, true)
  const aside = readdirSync(join(dir, REJECTED_DIR)).sort()
  assert.deepEqual(aside, ['b.ndjson', 'c.ndjson'])
  assert.match(
    readFileSync(join(dir, REJECTED_DIR, 'b.ndjson'), 'utf8'),
    /refused 3 times by a test target that answers/,
  )
  await replay.stop()
  await spool.close()
})

test('stop() ends a wait at once and keeps the batch; kick() after stop() does nothing', async () => {
  const dir = tempDir('replay')
  const spool = await Spool.open(dir, { max_bytes: 1 << 20, segment_max_bytes: 1 << 16 })
  await spool.append(batch('x'))
  const t = scripted(() => 'down')
  const replay = new SpoolReplay(spool, { ...SETTINGS, retry_min_ms: 60_000 }, t.target)
  replay.kick()
  while (t.attempts.get('x') === undefined) await new Promise((r) => setTimeout(r, 1))
  const t0 = Date.now()
  await replay.stop()
  assert.ok(Date.now() - t0 < 1_000, 'the 60 s wait was cut short')
  replay.kick()
  await new Promise((r) => setTimeout(r, 20))
  assert.equal(t.attempts.get('x'), 1)
  assert.equal(spool.isEmpty, false)
  await spool.close()
})

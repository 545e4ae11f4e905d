import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  EMBEDDED_MERGE_NICE,
  redactUrl,
  STAGING_DIR,
  withoutLowCardinality,
} from './connection.ts'
import { openStore } from './index.ts'
import { httpEvent, nowUs, tempDir, testConfig } from './test-helpers/fixtures.ts'
import { isoFromUs } from '../events/time.ts'

test('withoutLowCardinality unwraps every LowCardinality, nested ones too', () => {
  assert.equal(withoutLowCardinality('LowCardinality(String)'), 'String')
  assert.equal(withoutLowCardinality('LowCardinality(Nullable(String))'), 'Nullable(String)')
  assert.equal(withoutLowCardinality('Array(LowCardinality(String))'), 'Array(String)')
  assert.equal(
    withoutLowCardinality(
      'Array(Tuple(role LowCardinality(String), subject Nullable(String), sans Array(LowCardinality(String))))',
    ),
    'Array(Tuple(role String, subject Nullable(String), sans Array(String)))',
  )
  assert.equal(withoutLowCardinality("DateTime64(6, 'UTC')"), "DateTime64(6, 'UTC')")
  // An unbalanced type (never produced by the engine) is left as it is, not cut.
  assert.equal(withoutLowCardinality('LowCardinality(String'), 'LowCardinality(String')
})

test('redactUrl drops credentials', () => {
  assert.equal(redactUrl('http://u:secret@ch:8123/'), 'http://ch:8123/')
  assert.equal(redactUrl('not a url'), '<invalid url>')
})

test('a data directory whose name has glob characters still stores events', async () => {
  // The embedded engine reads staged batches with file(), which would take these as globs.
  const dir = join(tempDir('glob'), 'data-{a,b}*[1]?')
  mkdirSync(dir)
  const store = await openStore(testConfig(dir, 'glob'))
  try {
    const e = httpEvent(1, { path: '/glob' })
    await store.writer.write(e)
    await store.writer.flush()
    const page = await store.queries.listEvents({
      type: 'http',
      from: isoFromUs(nowUs(3600)),
      to: isoFromUs(nowUs(-60)),
    })
    assert.deepEqual(
      page.events.map((x) => (x as { path: string }).path),
      ['/glob'],
    )
    assert.deepEqual(readdirSync(join(dir, STAGING_DIR)), [])
  } finally {
    await store.close()
  }
})

test('the embedded engine starts with its merge threads at a lower priority', async () => {
  const store = await openStore(testConfig(tempDir('nice'), 'nice'))
  try {
    const rows = await store.connection.query<{ value: string }>(
      `SELECT value FROM system.server_settings WHERE name = 'os_threads_nice_value_merge_mutate'`,
    )
    assert.deepEqual(rows, [{ value: String(EMBEDDED_MERGE_NICE) }])
  } finally {
    await store.close()
  }
  // The engine session holding the arguments is closed too: the engine binds one directory per
  // process, so another directory opens only once it has let go.
  const again = await openStore(testConfig(tempDir('nice'), 'nice'))
  await again.close()
})

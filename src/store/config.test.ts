import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { storeConfigFromEnv, STORE_TUNING_DEFAULTS } from './config.ts'

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    return (e as { code?: string }).code
  }
  return undefined
}

test('defaults: embedded store under ./data, 30 days, the documented database names', () => {
  const c = storeConfigFromEnv({ NODE_NAME: 'n1' })
  assert.equal(c.data_dir, resolve('./data'))
  assert.equal(c.clickhouse_url, null)
  assert.equal(c.db_logs, 'tlsight_logs')
  assert.equal(c.db_processing, 'tlsight_processing')
  assert.equal(c.retention_days, 30)
  assert.equal(c.sensor, 'n1')
  assert.equal(c.batch_max_events, STORE_TUNING_DEFAULTS.batch_max_events)
})

test('env overrides the file section, which overrides defaults', () => {
  const c = storeConfigFromEnv(
    {
      TLSIGHT_DATA_DIR: '/tmp/x',
      TLSIGHT_RETENTION_DAYS: '7',
      CLICKHOUSE_URL: 'http://127.0.0.1:8123',
      CLICKHOUSE_USER: 'u',
      CLICKHOUSE_PASSWORD: 'p',
      CLICKHOUSE_DB_LOGS: 'l1',
      CLICKHOUSE_DB_PROCESSING: 'p1',
      TLSIGHT_STORE__BATCH_MAX_EVENTS: '250',
    },
    { batch_max_events: 100, flush_interval_ms: 200 },
  )
  assert.equal(c.data_dir, '/tmp/x')
  assert.equal(c.retention_days, 7)
  assert.equal(c.clickhouse_url, 'http://127.0.0.1:8123')
  assert.equal(c.clickhouse_user, 'u')
  assert.equal(c.clickhouse_password, 'p')
  assert.deepEqual([c.db_logs, c.db_processing], ['l1', 'p1'])
  assert.equal(c.batch_max_events, 250)
  assert.equal(c.flush_interval_ms, 200)
})

test('unknown and invalid values are E_CONFIG_INVALID', () => {
  const bad: [NodeJS.ProcessEnv, unknown][] = [
    [{ TLSIGHT_STORE__BATCH_MAX_EVENT: '5' }, {}],
    [{ TLSIGHT_STORE__BATCH_MAX_EVENTS: '0' }, {}],
    [{ TLSIGHT_STORE__BATCH_MAX_EVENTS: '12abc' }, {}],
    [{ TLSIGHT_STORE__SPOOL_MAX_BYTES: '-1' }, {}],
    [{ TLSIGHT_RETENTION_DAYS: '0' }, {}],
    [{ TLSIGHT_RETENTION_DAYS: '1.5' }, {}],
    [{ CLICKHOUSE_DB_LOGS: 'logs; DROP TABLE x' }, {}],
    [{ CLICKHOUSE_DB_LOGS: 'a-b' }, {}],
    [{ CLICKHOUSE_DB_LOGS: 'same', CLICKHOUSE_DB_PROCESSING: 'same' }, {}],
    [{ CLICKHOUSE_URL: 'ftp://x' }, {}],
    [{ CLICKHOUSE_URL: 'not a url' }, {}],
    [{ TLSIGHT_STORE__RETRY_MIN_MS: '100', TLSIGHT_STORE__RETRY_MAX_MS: '10' }, {}],
    [{}, { unknown_key: 1 }],
    [{}, { batch_max_events: '10' }],
    [{}, []],
  ]
  for (const [env, file] of bad)
    assert.equal(
      code(() => storeConfigFromEnv(env, file)),
      'E_CONFIG_INVALID',
      JSON.stringify(env),
    )
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { tempDir } from '../test-helpers/fixtures.ts'
import {
  MYSQL_SINK_TUNING_DEFAULTS,
  mysqlSinkConfigFromEnv,
  parseMysqlUrl,
  redactedUrl,
} from './config.ts'

const PW = 'hunter2:/@%?#pw'
const URL_WITH_PW = `mysql://sink:${encodeURIComponent(PW)}@db.example:3307/signalytics`

function code(e: unknown): string | undefined {
  return (e as { code?: string }).code
}

test('no DATABASE_URL: the sink is off', () => {
  assert.equal(mysqlSinkConfigFromEnv({}), null)
  assert.equal(mysqlSinkConfigFromEnv({ DATABASE_URL: '' }), null)
})

test('parses mysql://user:password@host:port/database, percent-decoding user and password', () => {
  const s = parseMysqlUrl(URL_WITH_PW)
  assert.equal(s.host, 'db.example')
  assert.equal(s.port, 3307)
  assert.equal(s.user, 'sink')
  assert.equal(s.password?.reveal(), PW)
  assert.equal(s.database, 'signalytics')
  assert.equal(s.ssl_mode, 'disabled')
  assert.equal(parseMysqlUrl('mariadb://u@h/d').port, 3306)
  assert.equal(parseMysqlUrl('mariadb://u@h/d').password, null)
  assert.equal(parseMysqlUrl('mysql://u:p@[::1]:3306/d').host, '::1')
  assert.equal(
    parseMysqlUrl('mysql://u:p@h/d?ssl-mode=VERIFY_IDENTITY').ssl_mode,
    'verify_identity',
  )
  assert.equal(redactedUrl(s), 'mysql://sink:***@db.example:3307/signalytics')
  assert.equal(redactedUrl(parseMysqlUrl('mysql://u@[::1]/d')), 'mysql://u@[::1]:3306/d')
})

test('a bad URL is E_CONFIG_INVALID naming the key, without the password', () => {
  for (const url of [
    'not a url',
    `postgres://u:${encodeURIComponent(PW)}@h/d`,
    `mysql://u:${encodeURIComponent(PW)}@h`,
    `mysql://u:${encodeURIComponent(PW)}@h/`,
    `mysql://u:${encodeURIComponent(PW)}@h/a/b`,
    `mysql://:${encodeURIComponent(PW)}@h/d`,
    `mysql://u:${PW}@h:70000/d`,
    `mysql://u:${encodeURIComponent(PW)}@h/d?ssl-mode=${encodeURIComponent(PW)}`,
    `mysql://u:${encodeURIComponent(PW)}@h/d?${encodeURIComponent(PW)}=1`,
    'mysql://u:%E0%A4%A@h/d',
  ])
    assert.throws(
      () => mysqlSinkConfigFromEnv({ DATABASE_URL: url }),
      (e: unknown) => {
        assert.equal(code(e), 'E_CONFIG_INVALID', url)
        assert.match(String(e), /DATABASE_URL/)
        assert.ok(!inspect(e).includes(PW) && !inspect(e).includes(encodeURIComponent(PW)), url)
        return true
      },
    )
})

test('the password never prints: inspect, JSON, string', () => {
  const c = mysqlSinkConfigFromEnv({ DATABASE_URL: URL_WITH_PW })
  assert.ok(c !== null)
  for (const text of [
    inspect(c, { depth: Infinity, showHidden: true }),
    JSON.stringify(c),
    `${c.server.password}`,
  ])
    assert.ok(!text.includes(PW), text)
  assert.match(JSON.stringify(c), /"password":"\*\*\*"/)
})

test('DATABASE_URL_FILE, as signalytics reads it; DATABASE_URL wins', () => {
  const dir = tempDir('mysql-config')
  const file = join(dir, 'url')
  writeFileSync(file, `${URL_WITH_PW}\n`)
  assert.equal(mysqlSinkConfigFromEnv({ DATABASE_URL_FILE: file })?.server.database, 'signalytics')
  assert.equal(
    mysqlSinkConfigFromEnv({ DATABASE_URL_FILE: file, DATABASE_URL: 'mysql://u@h/other' })?.server
      .database,
    'other',
  )
  assert.throws(
    () => mysqlSinkConfigFromEnv({ DATABASE_URL_FILE: join(dir, 'missing') }),
    (e: unknown) => code(e) === 'E_CONFIG_INVALID' && /DATABASE_URL_FILE/.test(String(e)),
  )
})

test('tuning: defaults < file < env, units in names, unknown keys rejected', () => {
  const base = { DATABASE_URL: 'mysql://u@h/d', TLSIGHT_DATA_DIR: '/var/lib/tlsight' }
  const d = mysqlSinkConfigFromEnv(base)
  assert.ok(d !== null)
  assert.equal(d.batch_max_events, MYSQL_SINK_TUNING_DEFAULTS.batch_max_events)
  assert.equal(d.spool_dir, '/var/lib/tlsight/mysql-spool')
  const c = mysqlSinkConfigFromEnv(
    { ...base, TLSIGHT_MYSQL__FLUSH_INTERVAL_MS: '250' },
    { flush_interval_ms: 100, batch_max_events: 10 },
  )
  assert.equal(c?.flush_interval_ms, 250)
  assert.equal(c?.batch_max_events, 10)
  for (const [env, file] of [
    [{ TLSIGHT_MYSQL__BATCH_MAX_EVENT: '1' }, {}],
    [{ TLSIGHT_MYSQL__BATCH_MAX_EVENTS: '0' }, {}],
    [{ TLSIGHT_MYSQL__BATCH_MAX_EVENTS: '1.5' }, {}],
    [{}, { flush_interval: 1 }],
    [{}, { flush_interval_ms: '100' }],
    [{ TLSIGHT_MYSQL__RETRY_MIN_MS: '1000', TLSIGHT_MYSQL__RETRY_MAX_MS: '10' }, {}],
  ] as const)
    assert.throws(
      () => mysqlSinkConfigFromEnv({ ...base, ...env }, file),
      (e: unknown) => code(e) === 'E_CONFIG_INVALID',
    )
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { apiPort, fileSettings, loadSettings, logLevel } from './config.ts'
import { storeConfigFromEnv } from '../store/config.ts'

test('file keys map onto the environment names the stages read', () => {
  const env = fileSettings(`
port: 4100
log_level: debug
data_dir: /var/lib/tlsight
store:
  batch_max_events: 2000
sources:
  trusted_cidrs: [127.0.0.0/8, "::1/128"]
correlator:
  window_ms: 3000
`)
  assert.deepEqual(env, {
    PORT: '4100',
    LOG_LEVEL: 'debug',
    TLSIGHT_DATA_DIR: '/var/lib/tlsight',
    TLSIGHT_STORE__BATCH_MAX_EVENTS: '2000',
    TLSIGHT_TRUSTED_CIDRS: '127.0.0.0/8,::1/128',
    TLSIGHT_CORRELATION_WINDOW_MS: '3000',
  })
  // The store validates what the file gave it, its tuning keys included.
  assert.equal(storeConfigFromEnv(env).data_dir, '/var/lib/tlsight')
  assert.throws(() => storeConfigFromEnv(fileSettings('store:\n  batch_size: 5\n')), /BATCH_SIZE/)
})

test('unknown keys are rejected by name', () => {
  assert.throws(
    () => fileSettings('port: 1\nprot: 2\nsources:\n  udp: 5\n'),
    (e: Error & { code?: string }) =>
      e.code === 'E_CONFIG_INVALID' && /prot, sources\.udp/.test(e.message),
  )
  assert.throws(() => fileSettings('- a\n- b\n'), /top level must be a mapping/)
  assert.throws(() => fileSettings('port: [1, {a: 2}]'), /port: expected/)
})

test('the environment wins over the file; the file over the defaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-config-'))
  const f = join(dir, 'tlsight.yaml')
  writeFileSync(f, 'port: 4100\nlog_level: warn\n')
  const { env } = loadSettings({ PORT: '4200' }, f)
  assert.equal(apiPort(env), 4200)
  assert.equal(logLevel(env), 'warn')
  assert.equal(apiPort({}), 4000)
  assert.throws(() => apiPort({ PORT: '70000' }), /PORT/)
  assert.throws(() => logLevel({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { runMigrate } from './migrate.ts'

function io(env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (c: Buffer) => (out += c.toString()))
  stderr.on('data', (c: Buffer) => (err += c.toString()))
  return { io: { stdout, stderr, env }, out: () => out, err: () => err }
}

test('tlsight migrate applies the migrations once, then reports the store up to date', async () => {
  const env = { TLSIGHT_DATA_DIR: mkdtempSync(join(tmpdir(), 'tlsight-cli-migrate-')) }
  const first = io(env)
  assert.equal(await runMigrate([], first.io), 0)
  // Every file of migrations/, in order.
  const files = readdirSync(join(import.meta.dirname, '../../migrations'))
    .filter((f) => /^\d{4}_.*\.sql$/.test(f))
    .sort()
  const versions = files.map((f) => f.slice(0, 4))
  assert.ok(versions.length >= 4)
  assert.match(first.out(), new RegExp(`embedded store in .*: applied ${versions.join(', ')}`))
  const second = io(env)
  assert.equal(await runMigrate([], second.io), 0)
  assert.match(
    second.out(),
    new RegExp(`up to date \\(${versions.length} migrations applied before\\)`),
  )
})

test('tlsight migrate: bad config exits 78 naming the key, bad usage 64, --help 0', async () => {
  const bad = io({ TLSIGHT_RETENTION_DAYS: 'forever' })
  assert.equal(await runMigrate([], bad.io), 78)
  assert.match(bad.err(), /TLSIGHT_RETENTION_DAYS/)
  assert.equal(await runMigrate(['--nope'], io({}).io), 64)
  const help = io({})
  assert.equal(await runMigrate(['--help'], help.io), 0)
  assert.match(help.out(), /Usage: tlsight migrate/)
})

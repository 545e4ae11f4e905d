import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { requireTool } from '../../test/helpers/tools.ts'
import { errorCode } from '../errors.ts'
import type { HttpEvent } from '../events/http.ts'
import { sourcesConfigFromEnv, startSources } from './index.ts'
import { collectingSink, recordingLogger, waitFor } from './test-helpers.ts'

const run = promisify(execFile)

const REC = (path: string) =>
  `{"remote_ip":"192.0.2.9","remote_port":1234,"method":"GET","uri":"${path}","status":200}`

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tlsight-unix-'))
}

async function start(path: string, env: Record<string, string> = {}) {
  const c = collectingSink()
  const config = sourcesConfigFromEnv({
    TLSIGHT_UDP_PORT: 'off',
    TLSIGHT_TCP_PORT: 'off',
    TLSIGHT_UNIX_SOCKET: path,
    ...env,
  })
  const sources = await startSources(config, c.sink, recordingLogger())
  return { sources, events: c.events }
}

test('unix: logger -u (stream fallback) and a plain NDJSON writer; mode set, file removed', async (t) => {
  const req = requireTool('logger', 'bsdutils')
  if (!req.ok) return t.skip(req.skip)
  const dir = tempDir()
  const path = join(dir, 'log.sock')
  const { sources, events } = await start(path, { TLSIGHT_UNIX_SOCKET_MODE: '640' })
  try {
    assert.equal(sources.addresses.unix, path)
    assert.equal(statSync(path).mode & 0o777, 0o640)
    // As Apache's piped log runs it (examples/apache/tlsight.conf).
    await run('logger', [
      '--socket-errors=off',
      '--size',
      '65536',
      '-u',
      path,
      '-t',
      'apache',
      REC('/logger'),
    ])
    const s = connect(path)
    await new Promise<void>((resolve) => s.on('connect', () => resolve()))
    s.end(`${REC('/ndjson1')}\n${REC('/ndjson2')}`)
    await waitFor(() => events.length === 3, 'three events')
    const byPath = new Map(events.map((e) => [(e as HttpEvent).path, e as HttpEvent]))
    assert.deepEqual([...byPath.keys()].sort(), ['/logger', '/ndjson1', '/ndjson2'])
    assert.equal(byPath.get('/logger')?.source, 'apache')
    assert.equal(sources.stats.by.unix.connections, 2)
  } finally {
    await sources.close()
    assert.equal(existsSync(path), false)
    rmSync(dir, { recursive: true, force: true })
  }
})

test('unix: a stale socket file is replaced; a live one or a regular file is refused', async () => {
  const dir = tempDir()
  try {
    // A live listener owns the path.
    const live = join(dir, 'live.sock')
    const other = createServer()
    await new Promise<void>((resolve) => other.listen(live, () => resolve()))
    await assert.rejects(
      start(live),
      (e) => errorCode(e) === 'E_CONFIG_INVALID' && /in use/.test(String(e)),
    )
    // Once it is gone without removing its file, the file is stale.
    await new Promise<void>((resolve) => other.close(() => resolve()))
    const stale = join(dir, 'stale.sock')
    // A crashed process leaves its socket file behind: listen in a child, then SIGKILL it.
    const child = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(stale)})`,
    ])
    await waitFor(() => existsSync(stale), 'the child to listen')
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    assert.equal(existsSync(stale), true)
    const { sources } = await start(stale)
    await sources.close()
    const file = join(dir, 'regular')
    writeFileSync(file, 'keep me')
    await assert.rejects(
      start(file),
      (e) => errorCode(e) === 'E_CONFIG_INVALID' && /not a socket/.test(String(e)),
    )
    assert.equal(existsSync(file), true)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { runOk } from '../../test/helpers/run.ts'
import { createSelfSignedCert, startNodeTlsServer } from '../../test/helpers/tls-server.ts'
import { allOf, requireRoot, requireTool } from '../../test/helpers/tools.ts'
import { parseSyslog } from '../protocols/syslog/index.ts'
import { CAPTURE_HELP, parsePortList, runCapture } from './capture.ts'
import { EXIT_IO, EXIT_OK, EXIT_USAGE } from './exit-codes.ts'

function io(env: NodeJS.ProcessEnv = {}, signal?: AbortSignal) {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.setEncoding('utf8').on('data', (s: string) => (out += s))
  stderr.setEncoding('utf8').on('data', (s: string) => (err += s))
  return {
    io: { stdout, stderr, env, signal: signal ?? new AbortController().signal },
    out: () => out,
    err: () => err,
  }
}

test('capture --help and --print-filter', async () => {
  const h = io()
  assert.equal(await runCapture(['--help'], h.io), EXIT_OK)
  assert.equal(h.out(), CAPTURE_HELP)
  const f = io()
  assert.equal(
    await runCapture(['--print-filter', '--tls-ports', '+4433', '--no-quic'], f.io),
    EXIT_OK,
  )
  assert.match(f.out(), /tcp dst port 443 /)
  assert.match(f.out(), /tcp dst port 4433/)
  assert.doesNotMatch(f.out(), /udp/)
  const b = io()
  assert.equal(await runCapture(['--print-filter', '--bpf', 'tcp port 443'], b.io), EXIT_OK)
  assert.equal(b.out(), 'tcp port 443\n')
})

test('capture: usage errors exit 64 with a message', async () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [[], {}, /an interface is required/],
    [['-i', 'lo', '--format', 'table'], {}, /unknown --format/],
    [['-i', 'lo', '--tls-ports', '443,x'], {}, /--tls-ports/],
    [['-i', 'lo', '--http-ports', '70000'], {}, /--http-ports/],
    [['-i', 'lo', '--fingerprints', 'ja5'], {}, /unknown fingerprint families: ja5/],
    [['-i', 'lo', '--stats-interval', '-1'], {}, /--stats-interval/],
    [['-i', 'lo', '--bogus'], {}, /bogus/],
    [['-i', 'lo'], { DEDUP_TTL: 'soon' }, /DEDUP_TTL/],
    [['-i', 'lo'], { TLSIGHT_SESSION_TTL: '0' }, /TLSIGHT_SESSION_TTL/],
    [['-i', 'lo'], { TLSIGHT_MAX_SESSIONS: '1e9' }, /TLSIGHT_MAX_SESSIONS/],
    [['-i', 'lo', '--output', 'ftp://x:1'], {}, /unknown scheme/],
  ]
  for (const [argv, env, re] of cases) {
    const r = io(env)
    assert.equal(await runCapture(argv, r.io), EXIT_USAGE, argv.join(' '))
    assert.match(r.err(), re, argv.join(' '))
  }
})

test('port lists', () => {
  assert.deepEqual(parsePortList('443, 8443', [1]), [443, 8443])
  assert.deepEqual(parsePortList('+4433', [443]), [443, 4433])
  assert.equal(parsePortList('0', []), undefined)
  assert.equal(parsePortList('44x', []), undefined)
})

test('capture: a missing tcpdump exits 1 naming the package', async () => {
  const r = io({ TLSIGHT_TCPDUMP: '/nonexistent/tcpdump' })
  assert.equal(await runCapture(['-i', 'lo'], r.io), EXIT_IO)
  assert.match(r.err(), /E_CAPTURE_TOOL_MISSING/)
  assert.match(r.err(), /apt-get install tcpdump/)
})

test('capture -i lo: events on stdout and to UDP syslog, counters at the end', async (t) => {
  const req = allOf(
    requireRoot('capturing on lo'),
    requireTool('tcpdump', 'tcpdump'),
    requireTool('curl', 'curl'),
  )
  if (!req.ok) return t.skip(req.skip)
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-cli-capture-'))
  const server = await startNodeTlsServer({ ...(await createSelfSignedCert(dir)) })
  const udp = createSocket('udp4')
  const datagrams: Buffer[] = []
  udp.on('message', (m) => datagrams.push(m))
  udp.bind(0, '127.0.0.1')
  await once(udp, 'listening')
  try {
    const stop = new AbortController()
    const r = io({ NODE_NAME: 'cli-sensor', DEDUP_TTL: '0' }, stop.signal)
    const argv = ['-i', 'lo', '--tls-ports', `${server.port}`, '--http-ports', '']
    argv.push('--output', '-', '--output', `udp://127.0.0.1:${udp.address().port}`)
    const running = runCapture(argv, r.io)
    const deadline = Date.now() + 10_000
    while (!r.err().includes('listening on lo') && Date.now() < deadline) await sleep(20)
    assert.match(r.err(), /listening on lo/)
    const url = `https://127.0.0.1:${server.port}/`
    await runOk('curl', ['-k', '-sS', '-o', '/dev/null', '--max-time', '10', url])
    await sleep(300)
    stop.abort()
    assert.equal(await running, EXIT_OK)
    const lines = r
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const tls = lines.filter((e) => e.type === 'tls')
    assert.equal(tls.length, 1)
    assert.equal(tls[0]?.sensor, 'cli-sensor')
    assert.equal(tls[0]?.dst_port, server.port)
    const last = r.err().trim().split('\n').at(-1) ?? ''
    const final = JSON.parse(last) as Record<string, unknown>
    assert.equal(final.type, 'capture_stats_final')
    assert.equal(final.kernel_dropped, 0)
    assert.equal(final.own_dropped, 0)
    assert.equal(final.events_emitted, lines.length)
    assert.equal(datagrams.length, lines.length, 'the same events over UDP')
    const m = parseSyslog(datagrams[0]!)
    assert.ok(m.ok)
    assert.equal(m.value.hostname, 'cli-sensor')
  } finally {
    udp.close()
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

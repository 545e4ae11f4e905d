/** `tlsight analyze` as users run it: a child process, files and stdin, formats, exit codes. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from './helpers/run.ts'
import { parseSyslog } from '../src/protocols/syslog/decode.ts'

const ROOT = join(import.meta.dirname, '..')
const FIXTURE = join(ROOT, 'test/fixtures/pcap/real-clients.pcap')
const tmp = mkdtempSync(join(tmpdir(), 'tlsight-cli-'))

function analyze(args: string[], input?: Uint8Array, env?: Record<string, string>) {
  return run(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'analyze', ...args],
    {
      cwd: ROOT,
      input,
      timeoutMs: 60_000,
      env: env === undefined ? undefined : { ...process.env, ...env },
    },
  )
}

function lines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

test('a file gives one JSON line per ClientHello and exit code 0', async () => {
  const r = await analyze([FIXTURE, '--format', 'jsonl'])
  assert.equal(r.code, 0, r.stderr)
  const events = lines(r.stdout)
  assert.equal(events.length, 17)
  assert.ok(
    events.every(
      (e) => e.type === 'tls' && typeof e.ja4 === 'string' && typeof e.ja3s === 'string',
    ),
  )
})

test('stdin ("-") gives the same lines as the file', async () => {
  const fromFile = await analyze([FIXTURE, '--format', 'jsonl', '--threads', '1'])
  const fromStdin = await analyze(
    ['-', '--format', 'jsonl', '--threads', '1'],
    readFileSync(FIXTURE),
  )
  assert.equal(fromStdin.code, 0, fromStdin.stderr)
  assert.equal(fromStdin.stdout, fromFile.stdout)
})

test('worker threads give the same events as one thread', async () => {
  const one = await analyze([FIXTURE, '--format', 'jsonl', '--threads', '1'])
  const sort = (s: string): string[] =>
    s
      .split('\n')
      .filter((l) => l !== '')
      .sort()
  // 2 threads: one worker, fingerprints in the main thread, the same order as one thread;
  // 3: two shards, fingerprints in the main thread; 5: four shards fingerprinting themselves.
  for (const threads of ['2', '3', '5']) {
    const r = await analyze([FIXTURE, '--format', 'jsonl', '--threads', threads, '--stats'])
    assert.equal(r.code, 0, r.stderr)
    if (threads === '2') assert.equal(r.stdout, one.stdout)
    else assert.deepEqual(sort(r.stdout), sort(one.stdout), `--threads ${threads}`)
    const stats = JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}') as {
      engine: { events: number }
    }
    assert.equal(stats.engine.events, 17)
  }
  // Lines formatted in the workers (table: UTF-8 text), the same set as from one thread.
  const table = await analyze([FIXTURE, '--format', 'table', '--threads', '5'])
  const tableOne = await analyze([FIXTURE, '--format', 'table', '--threads', '1'])
  assert.deepEqual(sort(table.stdout), sort(tableOne.stdout))
})

test('stdin with worker threads gives the same events', async () => {
  const one = await analyze([FIXTURE, '--format', 'jsonl', '--threads', '1'])
  const two = await analyze(['-', '--format', 'jsonl', '--threads', '2'], readFileSync(FIXTURE))
  assert.equal(two.code, 0, two.stderr)
  const sort = (s: string): string[] =>
    s
      .split('\n')
      .filter((l) => l !== '')
      .sort()
  assert.deepEqual(sort(two.stdout), sort(one.stdout))
})

test('not a capture, read by worker threads: exit 2', async () => {
  const f = join(tmp, 'notes.txt')
  writeFileSync(f, 'hello world, certainly not a capture file\n'.repeat(100))
  const r = await analyze([f, '--threads', '2'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /not a pcap or pcapng capture/)
})

test('--no-ja4plus leaves the JA4+ fields out, JA3S stays', async () => {
  const r = await analyze([FIXTURE, '--format', 'jsonl', '--no-ja4plus'])
  const events = lines(r.stdout)
  assert.ok(events.every((e) => e.ja4s === null && e.ja4s_r === null && typeof e.ja3s === 'string'))
})

test('--fingerprints computes only the selected families', async () => {
  const r = await analyze([
    FIXTURE,
    '--format',
    'jsonl',
    '--fingerprints',
    'ja4,ja3s',
    '--threads',
    '2',
  ])
  assert.equal(r.code, 0, r.stderr)
  const events = lines(r.stdout)
  assert.equal(events.length, 17)
  assert.ok(events.every((e) => typeof e.ja4 === 'string' && typeof e.ja3s === 'string'))
  assert.ok(
    events.every(
      (e) => e.ja3 === null && e.ja4s === null && e.ja4_stable === null && e.ja4t === null,
    ),
  )
  const bad = await analyze([FIXTURE, '--fingerprints', 'ja4,ja5'])
  assert.equal(bad.code, 64)
  assert.match(bad.stderr, /unknown fingerprint families: ja5/)
})

test('table format has a header and one row per hello', async () => {
  const r = await analyze([FIXTURE, '--format', 'table'])
  assert.equal(r.code, 0)
  const rows = r.stdout.trimEnd().split('\n')
  assert.match(
    rows[0] ?? '',
    /^TIME\s+TYPE\s+CLIENT\s+SERVER\s+SNI\/HOST\s+JA4\/JA4H\/JA4T\s+JA3\s+JA4S\/JA4TS$/,
  )
  assert.equal(rows.length, 18)
  assert.ok(rows.slice(1).every((row) => /^\S+\s+tls\s/.test(row)))
})

test('a file that is not a capture exits 2 with a clear message', async () => {
  const f = join(tmp, 'page.html')
  writeFileSync(f, '<html><body>not a capture</body></html>')
  const r = await analyze([f])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /not a pcap or pcapng capture/)
  assert.equal(r.stdout, '')
})

test('a missing file exits 1', async () => {
  const r = await analyze([join(tmp, 'absent.pcap')])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /cannot read/)
})

test('a truncated capture prints what it holds and warns with the anomaly count', async () => {
  const whole = readFileSync(FIXTURE)
  const f = join(tmp, 'cut.pcap')
  writeFileSync(f, whole.subarray(0, Math.floor(whole.length * 0.6)))
  const r = await analyze([f, '--format', 'jsonl'])
  assert.equal(r.code, 0)
  const n = lines(r.stdout).length
  assert.ok(n > 0 && n < 17, `${n} events`)
  assert.match(
    r.stderr,
    /is truncated; printed what it holds: \d+ packets, \d+ handshakes, \d+ anomalies/,
  )
})

test('bad usage exits 64', async () => {
  assert.equal((await analyze([])).code, 64)
  assert.equal((await analyze([FIXTURE, '--format', 'xml'])).code, 64)
  assert.equal((await analyze([FIXTURE, '--threads', '0'])).code, 64)
})

test('syslog format: one RFC 5424 line per event, the JSON event as MSG', async () => {
  const env = { NODE_NAME: 'sensor-7' }
  const jsonl = await analyze([FIXTURE, '--format', 'jsonl', '--threads', '1'], undefined, env)
  const json = lines(jsonl.stdout)
  assert.ok(json.every((e) => e.sensor === 'sensor-7'))
  const r = await analyze([FIXTURE, '--format', 'syslog', '--threads', '1'], undefined, env)
  assert.equal(r.code, 0, r.stderr)
  const rows = r.stdout.trimEnd().split('\n')
  assert.equal(rows.length, json.length)
  rows.forEach((row, i) => {
    const m = parseSyslog(row)
    assert.ok(m.ok, row)
    assert.equal(m.value.format, 'rfc5424')
    assert.equal(m.value.hostname, 'sensor-7')
    assert.equal(m.value.appName, 'tlsight')
    assert.equal(m.value.msgId, 'tls')
    assert.equal(m.value.facility, 16)
    assert.equal(m.value.severity, 6)
    assert.deepEqual(JSON.parse(m.value.message), json[i])
    assert.equal(m.value.timestamp, json[i]?.ts)
  })
})

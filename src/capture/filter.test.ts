import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { errorCode } from '../errors.ts'
import type { CaptureEvent } from '../events/capture.ts'
import { CaptureAnalyzer } from '../pipeline/capture-analyzer.ts'
import { requireTool } from '../../test/helpers/tools.ts'
import { runOk } from '../../test/helpers/run.ts'
import {
  DEFAULT_HTTP_PORTS,
  DEFAULT_TLS_PORTS,
  MAX_BPF_INSTRUCTIONS,
  defaultCaptureFilter,
} from './filter.ts'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const SHARED = resolve(REPO, process.env.TLSIGHT_SHARED_DIR ?? '../shared')
const GENERATOR = join(SHARED, 'tools/perf/gen_pcap.py')

/** `tcpdump -d` on a dead handle of the link type: the compiled program's instruction count. */
async function compile(filter: string, linkType: string): Promise<number> {
  const { stdout } = await runOk('tcpdump', ['-y', linkType, '-d', filter])
  return stdout.split('\n').filter((l) => /^\(\d+\)/.test(l)).length
}

function analyze(file: string): CaptureEvent[] {
  const events: CaptureEvent[] = []
  const a = new CaptureAnalyzer({ onEvent: (e) => events.push(e) })
  a.push(new Uint8Array(readFileSync(file)))
  a.end()
  return events
}

const FIELDS = [
  'ja3', 'ja3_str', 'ja4', 'ja4_r', 'ja3s', 'ja4s', 'sni', 'alpn', 'ja4t', 'ja4ts', 'ja4l_c',
  'ja4l_s', 'ja4h', 'host', 'method', 'path', 'user_agent',
] as const // prettier-ignore

/** Differences between the events of a full capture and of its filtered copy, as lines. */
function diffEvents(full: readonly CaptureEvent[], filtered: readonly CaptureEvent[]): string[] {
  const key = (e: CaptureEvent): string =>
    `${e.type} ${e.src_ip}:${e.src_port ?? ''} ${e.type === 'tls' ? e.hello_index : ''}`
  const byKey = new Map(filtered.map((e) => [key(e), e]))
  const out: string[] = []
  for (const e of full) {
    const f = byKey.get(key(e))
    if (f === undefined) {
      out.push(`missing ${key(e)}`)
      continue
    }
    for (const name of FIELDS) {
      const a = JSON.stringify((e as unknown as Record<string, unknown>)[name])
      const b = JSON.stringify((f as unknown as Record<string, unknown>)[name])
      if (a !== b) out.push(`${key(e)} ${name}: ${a} vs ${b}`)
    }
  }
  if (filtered.length !== full.length) out.push(`${full.length} events vs ${filtered.length}`)
  return out
}

test('default filter: every clause, for IPv4 and IPv6', () => {
  const f = defaultCaptureFilter()
  for (const p of [...DEFAULT_TLS_PORTS, ...DEFAULT_HTTP_PORTS]) {
    assert.ok(f.includes(`tcp dst port ${p}`), `IPv4 port ${p}`)
    assert.ok(f.includes(`ip6[42:2] = ${p}`), `IPv6 port ${p}`)
  }
  assert.ok(f.includes('tcp[13] & 0x7 != 0'), 'SYN/FIN/RST')
  assert.ok(f.includes('!= 0x17'), 'client: not application data')
  assert.ok(f.includes('>= 0x14') && f.includes('<= 0x16'), 'server: CCS, alert, handshake')
  assert.ok(f.includes('= 0x47455420'), 'GET ')
  assert.ok(f.includes('udp[8] & 0xc0 = 0xc0') && f.includes('ip6[48] & 0xc0 = 0xc0'), 'QUIC')
  assert.ok(f.includes(') = 0 and tcp[13] & 0x7 = 0'), 'pure ACKs for JA4L')
  assert.ok(f.includes('ip[6:2] & 0x3fff != 0'), 'IPv4 fragments')
})

test('default filter: switches and port lists', () => {
  const f = defaultCaptureFilter({ tlsPorts: [4433], httpPorts: [], quic: false, ja4l: false })
  assert.ok(f.includes('tcp dst port 4433'))
  assert.ok(!f.includes('tcp dst port 443 '), 'the list replaces the defaults')
  assert.ok(!f.includes('udp'), 'no QUIC')
  assert.ok(!f.includes('0x47455420'), 'no HTTP')
  assert.ok(!f.includes('& 0x7 = 0'), 'no pure ACKs')
  for (const bad of [[0], [65_536], [1.5], [Number.NaN]]) {
    assert.throws(
      () => defaultCaptureFilter({ tlsPorts: bad }),
      (e) => errorCode(e) === 'E_CONFIG_INVALID',
    )
  }
  assert.throws(
    () => defaultCaptureFilter({ tlsPorts: [], httpPorts: [], quic: false }),
    (e) => errorCode(e) === 'E_CONFIG_INVALID',
  )
})

test('default filter compiles (tcpdump -d) within the kernel limit', async (t) => {
  const req = requireTool('tcpdump', 'tcpdump')
  if (!req.ok) return t.skip(req.skip)
  const many = Array.from({ length: 40 }, (_, i) => 10_000 + i)
  for (const [name, filter] of [
    ['default', defaultCaptureFilter()],
    ['40 TLS ports', defaultCaptureFilter({ tlsPorts: many })],
    ['TLS only', defaultCaptureFilter({ httpPorts: [], quic: false, ja4l: false })],
  ] as const) {
    for (const link of ['EN10MB', 'LINUX_SLL', 'LINUX_SLL2', 'RAW']) {
      const n = await compile(filter, link)
      assert.ok(n > 10 && n < MAX_BPF_INSTRUCTIONS, `${name} on ${link}: ${n} instructions`)
      if (link === 'EN10MB') t.diagnostic(`${name}: ${n} BPF instructions`)
    }
  }
})

test('filtered real clients give the same events as the full capture', async (t) => {
  const req = requireTool('tcpdump', 'tcpdump')
  if (!req.ok) return t.skip(req.skip)
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-filter-'))
  try {
    for (const name of ['real-clients', 'chromium', 'ipv4-fragmented-client-hello']) {
      const input = join(REPO, `test/fixtures/pcap/${name}.pcap`)
      const full = analyze(input)
      const ports = [...new Set(full.map((e) => e.dst_port ?? 0))]
      const out = join(dir, `${name}.pcap`)
      await runOk('tcpdump', ['-r', input, '-w', out, defaultCaptureFilter({ tlsPorts: ports })])
      const diff = diffEvents(full, analyze(out))
      assert.deepEqual(diff, [], `${name}:\n${diff.join('\n')}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('filtered synthetic traffic (split hellos, server flights, noise): same events', async (t) => {
  const req = requireTool('tcpdump', 'tcpdump')
  if (!req.ok) return t.skip(req.skip)
  if (!existsSync(GENERATOR)) return t.skip(`${GENERATOR} not found (TLSIGHT_SHARED_DIR)`)
  const py = requireTool('python3', 'python3')
  if (!py.ok) return t.skip(py.skip)
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-filter-'))
  try {
    const input = join(dir, 'gen.pcap')
    const out = join(dir, 'filtered.pcap')
    // --ch-mss/--mss 1448: hellos over one segment are split, server flights span segments.
    await runOk('python3', [
      GENERATOR, '--templates', join(SHARED, 'tools/perf/templates.json'), '-n', '300',
      '--ch-mss', '1448', '--mss', '1448', '--seed', '7', '-o', input,
    ]) // prettier-ignore
    await runOk('tcpdump', ['-r', input, '-w', out, defaultCaptureFilter()])
    const full = analyze(input)
    const filtered = analyze(out)
    const diff = diffEvents(full, filtered)
    assert.deepEqual(diff, [], diff.slice(0, 20).join('\n'))
    const tls = full.filter((e) => e.type === 'tls').length
    assert.ok(tls >= 300, `${tls} tls events`)
    assert.ok(
      full.some((e) => e.type === 'http'),
      'the noise has HTTP requests',
    )
    const size = (f: string): number => readFileSync(f).length
    t.diagnostic(
      `${full.length} events equal; filtered capture ${size(out)} of ${size(input)} bytes`,
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/**
 * Sanity run of the capture reader and the decoder over every capture of the shared reference
 * corpus (`TLSIGHT_CONFORMANCE_DIR`, default `../shared/testdata` next to the repository): no
 * reader failure, no `error` outcome, and the same packets and timestamps as tshark.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CaptureReader } from '../pcap/reader.ts'
import { PacketDecoder } from './decode.ts'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const corpusDir = resolve(
  process.env.TLSIGHT_CONFORMANCE_DIR ?? join(repoRoot, '../shared/testdata'),
)
const pcapDir = join(corpusDir, 'pcap')
const requireAll = process.env.TLSIGHT_REQUIRE_ALL === '1'
const CHUNK_BYTES = 65_536

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name)
      return statSync(p).isDirectory() ? walk(p) : [p]
    })
}

function hasTshark(): boolean {
  const r = spawnSync('tshark', ['--version'], { stdio: 'ignore' })
  return r.error === undefined && r.status === 0
}

/** `frame.time_epoch` ("1700000000.123456789") to whole µs, truncated like the reader does. */
function epochToUs(text: string): number {
  const [sec = '0', frac = ''] = text.split('.')
  return Number(sec) * 1_000_000 + Number(frac.padEnd(6, '0').slice(0, 6))
}

if (!existsSync(pcapDir)) {
  test(
    'reference corpus',
    { skip: `no corpus at ${pcapDir} (set TLSIGHT_CONFORMANCE_DIR)` },
    () => {},
  )
} else {
  const tshark = hasTshark()
  const noTshark = 'tshark not installed (Debian package `tshark`): packet counts not compared'
  if (!tshark && requireAll) {
    test('tshark is required (TLSIGHT_REQUIRE_ALL=1)', () => {
      assert.fail('install the Debian package `tshark`')
    })
  }

  for (const file of walk(pcapDir)) {
    const name = relative(pcapDir, file)
    test(`corpus ${name}: read and decode`, () => {
      const bytes = readFileSync(file)
      const decoder = new PacketDecoder()
      const timestamps: number[] = []
      const errors: string[] = []
      const reader = new CaptureReader((p) => {
        timestamps.push(p.tsUs)
        const out = decoder.decode(p)
        if (out.kind === 'error') errors.push(`#${timestamps.length}: ${out.anomalies.join(',')}`)
      })
      for (let i = 0; i < bytes.length; i += CHUNK_BYTES) {
        reader.push(bytes.subarray(i, i + CHUNK_BYTES))
      }
      const summary = reader.end()
      assert.equal(reader.failed, false, summary.error?.message)
      assert.equal(summary.truncated, false)
      assert.deepEqual(errors, [])
      assert.ok(summary.packets > 0)

      if (!tshark) return
      const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.time_epoch'], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      })
      assert.equal(r.status, 0, r.stderr)
      const lines = r.stdout.split('\n').filter((l) => l !== '')
      assert.equal(summary.packets, lines.length, 'packet count differs from tshark')
      assert.deepEqual(timestamps, lines.map(epochToUs), 'timestamps differ from tshark')
    })
  }
  if (!tshark && !requireAll) test('corpus vs tshark', { skip: noTshark }, () => {})
}

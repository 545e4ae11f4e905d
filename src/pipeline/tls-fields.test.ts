import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CaptureAnalyzer } from './capture-analyzer.ts'
import { completeTls, type DeferredTls } from './tls-fields.ts'
import { familySwitches } from '../fingerprints/families.ts'
import { captureEventJson } from '../events/json.ts'
import type { CaptureEvent } from '../events/capture.ts'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const corpus = resolve(process.env.TLSIGHT_CONFORMANCE_DIR ?? join(repoRoot, '../shared/testdata'))

function captures(dir: string): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && /\.(pcap|pcapng|cap)$/.test(e.name)) out.push(join(e.parentPath, e.name))
  }
  return out.sort()
}

/** Every event line of a capture, with fingerprints computed by the engine or deferred. */
function lines(bytes: Uint8Array, deferred: boolean): { lines: string[]; deferredCount: number } {
  const out: string[] = []
  let deferredCount = 0
  const fam = familySwitches(undefined, true)
  const a = new CaptureAnalyzer({
    sensor: 's',
    onEvent: (e: CaptureEvent) => out.push(captureEventJson(e)),
    ...(deferred
      ? {
          onDeferredTls: (d: DeferredTls) => {
            deferredCount++
            // As it crosses to another thread: a structured clone.
            out.push(captureEventJson(completeTls(structuredClone(d), fam)))
          },
        }
      : {}),
  })
  a.push(bytes)
  a.end()
  return { lines: out, deferredCount }
}

const files = [...captures(join(corpus, 'pcap')), ...captures(join(repoRoot, 'test/fixtures/pcap'))]

test('deferred fingerprints give the same events, in the same order, on every capture', () => {
  assert.ok(files.length > 0, 'no captures found')
  let events = 0
  let deferred = 0
  for (const f of files) {
    const bytes = readFileSync(f)
    // One Buffer for both runs: the first must not change it (opening a QUIC Initial once
    // removed its header protection in place through a Buffer's `slice`, which is a view).
    const direct = lines(bytes, false)
    const late = lines(bytes, true)
    assert.deepEqual(late.lines, direct.lines, f)
    events += direct.lines.length
    deferred += late.deferredCount
  }
  // The corpus has TLS over TCP, DTLS and QUIC handshakes, HTTP and TCP-only connections.
  assert.ok(deferred > 100, `only ${deferred} tls events deferred`)
  assert.ok(events > deferred, 'no other event types seen')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CaptureAnalyzer } from './capture-analyzer.ts'
import { DeferredBatchReader, DeferredBatchWriter } from './deferred-batch.ts'
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

/**
 * Every event line of a capture: fingerprints computed by the engine, or deferred through a
 * batch writer and reader (as between a worker thread and the main one), with a batch taken
 * every `every` bytes of input so that hellos wait across batches.
 */
function lines(bytes: Uint8Array, deferred: boolean, every = 4096): string[] {
  const out: string[] = []
  const push = (e: CaptureEvent): void => {
    out.push(captureEventJson(e))
  }
  if (!deferred) {
    const a = new CaptureAnalyzer({ sensor: 's', onEvent: push })
    a.push(bytes)
    a.end()
    return out
  }
  const writer = new DeferredBatchWriter()
  const reader = new DeferredBatchReader('s', familySwitches(undefined, true))
  const a = new CaptureAnalyzer({ sensor: 's', onEvent: (e) => writer.event(e), deferred: writer })
  const flush = (): void => {
    const batch = writer.take()
    // As a transferred buffer arrives: a copy, nothing shared with the writer.
    if (batch !== undefined) reader.read(batch.slice(), push)
  }
  for (let at = 0; at < bytes.length; at += every) {
    a.push(bytes.subarray(at, at + every))
    flush()
  }
  a.end()
  flush()
  assert.equal(reader.waiting, 0, 'every hello body was used by its event')
  return out
}

const files = [...captures(join(corpus, 'pcap')), ...captures(join(repoRoot, 'test/fixtures/pcap'))]

test('deferred fingerprints give the same events, in the same order, on every capture', () => {
  assert.ok(files.length > 0, 'no captures found')
  const types = new Map<string, number>()
  for (const f of files) {
    const bytes = readFileSync(f)
    // One Buffer for every run: none may change it (opening a QUIC Initial once removed its
    // header protection in place through a Buffer's `slice`, which is a view).
    const direct = lines(bytes, false)
    assert.deepEqual(lines(bytes, true), direct, f)
    assert.deepEqual(lines(bytes, true, 1 << 30), direct, f)
    for (const l of direct) {
      const e = JSON.parse(l) as { type: string; transport?: string; certs?: unknown[] }
      for (const k of [e.type, e.transport, e.certs?.length ? 'certs' : undefined]) {
        if (k !== undefined) types.set(k, (types.get(k) ?? 0) + 1)
      }
    }
  }
  // The corpus has TLS over TCP (with certificate chains), DTLS and QUIC, HTTP requests and
  // TCP-only connections.
  const seen = JSON.stringify([...types])
  assert.ok((types.get('tls') ?? 0) > 100, seen)
  for (const k of ['http', 'dtls', 'quic', 'certs']) assert.ok((types.get(k) ?? 0) > 0, seen)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  DeferredBatchError,
  DeferredBatchReader,
  DeferredBatchWriter,
  NO_BODY,
} from './deferred-batch.ts'
import type { TlsEventBase } from './tls-fields.ts'
import { familySwitches } from '../fingerprints/families.ts'
import type { CaptureEvent } from '../events/capture.ts'
import type { TcpEvent } from '../events/tcp.ts'
import { serverHelloBody } from '../protocols/tls/test-helpers/fixtures.ts'

const base: TlsEventBase = {
  tsUs: 1_700_000_000_123_456,
  sensor: 'ignored: the reader names its own sensor',
  srcIp: '2001:db8::1',
  srcPort: 50123,
  dstIp: '192.0.2.7',
  dstPort: 443,
  transport: 'dtls',
  helloIndex: 0,
  negotiated: 'dtls1.2',
  ja4t: null,
  ja4ts: null,
  ja4l_c: null,
  ja4l_s: null,
  certs: [],
  anomalies: ['tls.client_hello_not_seen', 'x.y'],
}

const tcp: TcpEvent = {
  type: 'tcp',
  ts: '2024-01-01T00:00:00.000001Z',
  sensor: 's',
  src_ip: '10.0.0.1',
  src_port: 1,
  dst_ip: '10.0.0.2',
  dst_port: 2,
  ja4t: '64240_2-4-8-1-3_1460_7',
  ja4ts: null,
  ja4l_c: null,
  ja4l_s: null,
}

function read(batch: Uint8Array, reader = new DeferredBatchReader('s', familySwitches())) {
  const out: CaptureEvent[] = []
  reader.read(batch, (e) => out.push(e))
  return out
}

test('an event without hellos and any other event cross in order', () => {
  const w = new DeferredBatchWriter()
  w.event(tcp)
  w.tls(base, NO_BODY, NO_BODY, NO_BODY)
  assert.equal(w.records, 2)
  const batch = w.take()
  assert.ok(batch !== undefined)
  assert.equal(w.take(), undefined, 'nothing written since')
  const [first, second] = read(batch)
  assert.deepEqual(first, tcp)
  assert.equal(second?.type, 'tls')
  if (second?.type !== 'tls') return
  assert.equal(second.ts, '2023-11-14T22:13:20.123456Z')
  assert.equal(second.sensor, 's')
  assert.equal(second.src_ip, '2001:db8::1')
  assert.equal(second.transport, 'dtls')
  assert.equal(second.tls_version, null)
  assert.equal(second.tls_version_negotiated, 'dtls1.2')
  assert.deepEqual(second.anomalies, base.anomalies)
})

test('a batch that does not decode is an error with a code, not a wrong event', () => {
  const w = new DeferredBatchWriter()
  w.tls(base, NO_BODY, NO_BODY, NO_BODY)
  const batch = w.take() ?? new Uint8Array(0)
  for (const cut of [1, 9, batch.length - 1]) {
    assert.throws(() => read(batch.subarray(0, cut)), DeferredBatchError, `cut at ${cut}`)
  }
  assert.throws(() => read(Uint8Array.of(99)), /unknown record tag 99/)
  // An event referring to a body that was never written.
  w.tls(base, 7, NO_BODY, NO_BODY)
  assert.throws(() => read(w.take() ?? new Uint8Array(0)), /hello body 7 was never written/)
})

test('a body waits across batches, copied out of the batch it came in', () => {
  const w = new DeferredBatchWriter()
  const reader = new DeferredBatchReader('s', familySwitches())
  const id = w.body(serverHelloBody({ cipher: 0xc02f }))
  const bad = w.body(Uint8Array.of(1, 2, 3))
  const first = w.take() ?? new Uint8Array(0)
  assert.deepEqual(read(first, reader), [])
  assert.equal(reader.waiting, 2)
  // The batch's memory is reused once read: the waiting bodies must not be views of it.
  first.fill(0)
  w.tls({ ...base, transport: 'tcp' }, NO_BODY, id, NO_BODY)
  // A body that does not parse (the engine parsed it, so only a bug gets here): null fields.
  w.tls({ ...base, transport: 'tcp' }, NO_BODY, bad, NO_BODY)
  const [e, f] = read(w.take() ?? new Uint8Array(0), reader)
  assert.equal(reader.waiting, 0)
  assert.equal(e?.type === 'tls' ? e.ja3s_str : 'none', '771,49199,')
  assert.equal(f?.type === 'tls' ? f.ja3s : 'none', null)
})

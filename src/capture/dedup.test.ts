import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { CaptureEvent } from '../events/capture.ts'
import type { HttpEvent } from '../events/http.ts'
import type { TcpEvent } from '../events/tcp.ts'
import type { TlsEvent } from '../events/tls.ts'
import { isoFromUs } from '../events/time.ts'
import { Deduper, dedupKey } from './dedup.ts'

const T0 = Date.UTC(2026, 0, 1) * 1000

function tls(sec: number, over: Partial<TlsEvent> = {}): CaptureEvent {
  return {
    type: 'tls',
    ts: isoFromUs(T0 + sec * 1_000_000),
    src_ip: '192.0.2.1',
    src_port: 40_000 + sec,
    ja4: 't13d1516h2_8daaf6152771_e5627efa2ab1',
    ja3: 'aaaa',
    ja4s: 't130200_1301_234ea6891581',
    sni: 'example.com',
    ...over,
  } as TlsEvent
}

function http(sec: number, over: Partial<HttpEvent> = {}): CaptureEvent {
  return {
    type: 'http',
    ts: isoFromUs(T0 + sec * 1_000_000),
    src_ip: '192.0.2.1',
    ja4h: 'ge11nn05enus_1',
    tfh: null,
    host: 'example.com',
    user_agent: 'curl/8',
    ...over,
  } as HttpEvent
}

function tcp(sec: number, over: Partial<TcpEvent> = {}): CaptureEvent {
  return {
    type: 'tcp',
    ts: isoFromUs(T0 + sec * 1_000_000),
    src_ip: '192.0.2.1',
    ja4t: '64240_2-4-8-1-3_1460_7',
    ja4ts: null,
    ...over,
  } as TcpEvent
}

test('dedup: a repeat within the TTL is suppressed, after it passes again', () => {
  const d = new Deduper(300)
  assert.equal(d.accept(tls(0)), true)
  assert.equal(d.accept(tls(10)), false, 'same client, other port: same sighting')
  assert.equal(d.accept(tls(299)), false)
  assert.equal(d.accept(tls(300)), true, 'the window does not slide with repeats')
  assert.equal(d.accept(tls(301)), false)
  assert.deepEqual(d.stats(), { passed: 2, suppressed: 3, evicted: 0, entries: 1 })
})

test('dedup: keys per event type', () => {
  const d = new Deduper(300)
  assert.equal(d.accept(tls(0)), true)
  for (const other of [
    tls(1, { src_ip: '192.0.2.2' }),
    tls(1, { ja4: 'x' }),
    tls(1, { ja3: 'x' }),
    tls(1, { ja4s: null }),
    tls(1, { sni: null }),
  ]) {
    assert.equal(d.accept(other), true, dedupKey(other))
  }
  assert.equal(d.accept(http(0)), true)
  assert.equal(d.accept(http(1, { src_port: 1 } as Partial<HttpEvent>)), false)
  assert.equal(d.accept(http(1, { user_agent: 'other' })), true)
  assert.equal(d.accept(http(1, { host: 'other' })), true)
  assert.equal(d.accept(tcp(0)), true)
  assert.equal(d.accept(tcp(1)), false)
  assert.equal(d.accept(tcp(1, { ja4ts: '1' })), true)
})

test('dedup: TTL 0 passes everything', () => {
  const d = new Deduper(0)
  assert.equal(d.enabled, false)
  for (let i = 0; i < 5; i++) assert.equal(d.accept(tls(0)), true)
  assert.deepEqual(d.stats(), { passed: 5, suppressed: 0, evicted: 0, entries: 0 })
})

test('dedup: bounded, the oldest key is forgotten first', () => {
  const d = new Deduper(300, 3)
  for (let i = 0; i < 4; i++) assert.equal(d.accept(tls(i, { src_ip: `10.0.0.${i}` })), true)
  assert.equal(d.stats().entries, 3)
  assert.equal(d.stats().evicted, 1)
  assert.equal(d.accept(tls(5, { src_ip: '10.0.0.0' })), true, 'evicted: reported again')
  assert.equal(d.accept(tls(5, { src_ip: '10.0.0.3' })), false, 'still remembered')
})

test('dedup: expired keys leave the table', () => {
  const d = new Deduper(10)
  for (let i = 0; i < 100; i++) d.accept(tls(i, { src_ip: `10.0.${i >> 8}.${i & 255}` }))
  assert.ok(d.stats().entries <= 11, `${d.stats().entries} entries`)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Correlator } from './correlator.ts'
import type { SessionEvent } from '../events/session.ts'
import type { HttpEvent } from '../events/http.ts'
import { generateLoad, httpEvent, tlsEvent } from './test-helpers/load.ts'
import { scoreLoad } from './test-helpers/score.ts'

const T = Date.UTC(2026, 10, 22, 12, 0, 0)

function collect() {
  const sessions: SessionEvent[] = []
  const unmatched: HttpEvent[] = []
  return {
    sessions,
    unmatched,
    onSession: (s: SessionEvent) => sessions.push(s),
    onUnmatched: (e: HttpEvent) => unmatched.push(e),
  }
}

test('a request joins the handshake of its client ip:port, with the lag', () => {
  const out = collect()
  const c = new Correlator(out)
  c.addTls(tlsEvent('192.0.2.1', 40000, T, 'a'), T)
  c.addHttp(httpEvent('192.0.2.1', 40000, T + 150, '/x'), T + 200)
  c.addTls(tlsEvent('192.0.2.9', 1, T + 1000, 'later'), T + 1000)
  assert.equal(out.sessions.length, 1)
  const s = out.sessions[0]!
  assert.equal(s.type, 'session')
  assert.equal(s.ja3, 'a')
  assert.equal(s.path, '/x')
  assert.equal(s.lag_ms, 150)
  assert.equal(s.join, 'ip_port')
  assert.equal(s.ts, httpEvent('192.0.2.1', 40000, T + 150, '/x').ts)
})

test('a reused port: each request goes to the latest handshake that started before it', () => {
  const out = collect()
  const c = new Correlator({ ...out, windowMs: 60_000 })
  // The log arrives before both handshakes are known; decided once the sensor has moved on.
  c.addHttp(httpEvent('192.0.2.1', 40000, T + 4_000, '/second'), T)
  c.addHttp(httpEvent('192.0.2.1', 40000, T + 500, '/first'), T)
  c.addTls(tlsEvent('192.0.2.1', 40000, T, 'conn-1'), T + 10)
  c.addTls(tlsEvent('192.0.2.1', 40000, T + 3_000, 'conn-2'), T + 3_010)
  assert.equal(out.sessions.length, 1, 'the first request is decided, the second waits')
  c.addTls(tlsEvent('192.0.2.7', 1, T + 5_000, 'other'), T + 5_000)
  const by = Object.fromEntries(out.sessions.map((s) => [s.path, s.ja3]))
  assert.deepEqual(by, { '/first': 'conn-1', '/second': 'conn-2' })
})

test('clock skew: a request stamped slightly before its handshake still joins it', () => {
  const out = collect()
  const c = new Correlator({ ...out, skewMs: 250 })
  c.addTls(tlsEvent('192.0.2.1', 40000, T, 'a'), T)
  c.addHttp(httpEvent('192.0.2.1', 40000, T - 100, '/early'), T + 5)
  c.addTls(tlsEvent('192.0.2.2', 1, T + 400, 'b'), T + 400)
  assert.equal(out.sessions[0]?.ja3, 'a')
  assert.equal(out.sessions[0]?.lag_ms, -100)
})

test('no handshake within the window: unmatched after settle time, stored as is', () => {
  const out = collect()
  const c = new Correlator({ ...out, windowMs: 5_000, settleMs: 2_000 })
  c.addTls(tlsEvent('192.0.2.1', 40000, T, 'old'), T)
  c.addHttp(httpEvent('192.0.2.1', 40000, T + 6_000, '/late'), T + 6_000)
  c.addHttp(httpEvent('192.0.2.3', 40000, T + 6_000, '/stranger'), T + 6_000)
  c.tick(T + 7_000)
  assert.equal(out.unmatched.length, 0, 'waits for the sensor or settle_ms')
  c.tick(T + 8_001)
  assert.deepEqual(out.unmatched.map((e) => e.path).sort(), ['/late', '/stranger'])
  assert.equal(c.stats.unmatched, 2)
  assert.equal(out.sessions.length, 0)
})

test('awaitHandshakes false: requests before the first handshake are decided at once', () => {
  const out = collect()
  const c = new Correlator({ ...out, awaitHandshakes: false, settleMs: 2_000 })
  c.addHttp(httpEvent('192.0.2.1', 40000, T, '/before'), T)
  assert.deepEqual(
    out.unmatched.map((e) => e.path),
    ['/before'],
    'not held for settle_ms',
  )
  assert.deepEqual(c.size, { requests: 0, handshakes: 0 })
  // Once handshakes arrive from the logs, requests wait for them as usual.
  c.addTls(tlsEvent('192.0.2.1', 40001, T + 10, 'a'), T + 10)
  c.addHttp(httpEvent('192.0.2.1', 40001, T + 20, '/after'), T + 20)
  c.addTls(tlsEvent('192.0.2.9', 1, T + 1_000, 'later'), T + 1_000)
  assert.deepEqual(
    out.sessions.map((x) => [x.path, x.ja3]),
    [['/after', 'a']],
  )
  assert.deepEqual([c.stats.requests, c.stats.unmatched, c.stats.sessions], [2, 1, 1])
})

test('the server address must agree when the log knows it', () => {
  const out = collect()
  const c = new Correlator(out)
  c.addTls(tlsEvent('192.0.2.1', 40000, T, 'a'), T)
  const req = { ...httpEvent('192.0.2.1', 40000, T + 10, '/x'), dst_ip: '10.9.0.2', dst_port: 443 }
  c.addHttp(req, T + 10)
  c.flush()
  assert.equal(out.sessions.length, 0)
  assert.equal(out.unmatched.length, 1)
})

test('memory is bounded: pending requests and handshakes have caps, evictions are counted', () => {
  const out = collect()
  const c = new Correlator({ ...out, maxPendingRequests: 10, maxHandshakes: 5, settleMs: 1e9 })
  for (let i = 0; i < 50; i++) c.addTls(tlsEvent('192.0.2.1', 1000 + i, T, `h${i}`), T)
  assert.equal(c.size.handshakes, 5)
  assert.equal(c.stats.evictedHandshakes, 45)
  for (let i = 0; i < 30; i++) c.addHttp(httpEvent('192.0.2.5', 1, T + 60_000 + i, `/r${i}`), T)
  assert.equal(c.size.requests, 10)
  assert.equal(c.stats.evictedRequests, 20)
})

test('generated load: ports reused, logs up to 2 s late and shuffled, clocks 120 ms apart', () => {
  const load = generateLoad({ connections: 3_000, seed: 7 })
  assert.ok(load.reusedPorts > 1_000, `ports reused ${load.reusedPorts} times`)
  const s = scoreLoad(load)
  assert.equal(s.wrong, 0)
  assert.ok(s.correct / s.joinable >= 0.999, `${s.correct}/${s.joinable}`)
  assert.equal(s.correct + s.missed, s.joinable)
  assert.equal(s.rightlyUnmatched, s.requests - s.joinable)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FlowTable, RecentKeys, flowKey } from './flows.ts'

const a = Uint8Array.of(10, 0, 0, 1)
const b = Uint8Array.of(10, 0, 0, 2)

test('both directions of a flow share a key', () => {
  const f = flowKey(6, a, 5000, b, 443)
  const r = flowKey(6, b, 443, a, 5000)
  assert.equal(f.key, r.key)
  assert.notEqual(f.srcIsLow, r.srcIsLow)
  assert.notEqual(f.key, flowKey(17, a, 5000, b, 443).key)
  assert.notEqual(f.key, flowKey(6, a, 5001, b, 443).key)
})

test('same address both sides is ordered by port', () => {
  const f = flowKey(6, a, 5000, a, 443)
  const r = flowKey(6, a, 443, a, 5000)
  assert.equal(f.key, r.key)
  assert.equal(f.srcIsLow, false)
})

test('IPv4 and IPv6 keys never collide', () => {
  const v6 = new Uint8Array(16)
  assert.notEqual(flowKey(6, a, 1, b, 2).key, flowKey(6, v6, 1, v6, 2).key)
})

test('idle flows expire, active ones stay', () => {
  const expired: string[] = []
  const t = new FlowTable<string>({
    idleTimeoutUs: 1000,
    onExpire: (f, why) => expired.push(`${f}:${why}`),
  })
  t.add('x', 'x', 0)
  t.add('y', 'y', 0)
  t.get('y', 900)
  t.tick(1500)
  assert.deepEqual(expired, ['x:idle'])
  assert.equal(t.size, 1)
  t.drain()
  assert.deepEqual(expired, ['x:idle', 'y:end'])
})

test('a full table evicts the oldest flow and counts it', () => {
  const expired: string[] = []
  const t = new FlowTable<number>({
    maxFlows: 3,
    onExpire: (f, why) => expired.push(`${f}:${why}`),
  })
  for (let i = 0; i < 5; i++) t.add(String(i), i, i)
  assert.equal(t.size, 3)
  assert.equal(t.evicted, 2)
  assert.deepEqual(expired, ['0:evicted', '1:evicted'])
  assert.deepEqual([...t.values()], [2, 3, 4])
})

test('the IPv4 fast path builds the same key as the general path', () => {
  const v4in6 = (ip: Uint8Array): string => {
    let s = ''
    for (let i = 0; i < ip.length; i += 2)
      s += String.fromCharCode(((ip[i] ?? 0) << 8) | (ip[i + 1] ?? 0))
    return s
  }
  const k = flowKey(6, b, 443, a, 5000)
  assert.equal(
    k.key,
    String.fromCharCode(6) +
      v4in6(a) +
      String.fromCharCode(5000) +
      v4in6(b) +
      String.fromCharCode(443),
  )
})

test('RecentKeys forgets the oldest key when full and keys older than its TTL', () => {
  const r = new RecentKeys(2, 1000)
  r.add('a', 0)
  r.add('b', 10)
  assert.equal(r.has('a', 20), true)
  r.add('c', 30)
  assert.equal(r.has('a', 40), false, 'evicted as the oldest')
  assert.equal(r.has('b', 40), true)
  assert.equal(r.has('b', 1011), false, 'past its TTL')
  assert.equal(r.size, 1)
  r.delete('c')
  assert.equal(r.size, 0)
})

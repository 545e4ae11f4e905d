import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HTTP_EVENT_FIELDS } from '../events/http.ts'
import { errorCode } from '../errors.ts'
import { eventLine, genericLine, type StoreEvent } from './schema.ts'
import { httpEvent } from './test-helpers/fixtures.ts'

/** Deterministic choices (xorshift32), so a failure names a case that can be replayed. */
function rng(seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

const STRINGS = [
  '',
  'plain',
  'quote " and \\ back',
  'tab\there',
  'é ünïcode ✓',
  '\u0001\u001f',
  '-',
]

test('the http line written field by field equals the generic one, for every kind of value', () => {
  const r = rng(2026)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
  const nullable = (v: unknown) => pick([v, v, null, undefined])
  for (let i = 0; i < 5_000; i++) {
    const e: Record<string, unknown> = { ...httpEvent(i) }
    for (const f of HTTP_EVENT_FIELDS) {
      if (f === 'type' || f === 'ts') continue
      if (['src_port', 'dst_port', 'status'].includes(f)) e[f] = nullable(pick([0, 1, 443, 65535]))
      else if (f === 'hello_length') e[f] = nullable(pick([0, 517, 0xffff_ffff]))
      else if (f === 'request_time_ms') e[f] = nullable(pick([0, 0.125, 1e21, 12.5]))
      else if (['source', 'src_ip', 'method', 'path'].includes(f)) e[f] = pick(STRINGS)
      else e[f] = nullable(pick(STRINGS))
    }
    if (r() < 0.2) delete e['sensor']
    e['ts'] = pick([
      '2026-11-22T10:00:00.123456Z',
      '2026-11-22T10:00:00Z',
      '2026-11-22T10:00:00+02:00',
    ])
    const line = eventLine(e as unknown as StoreEvent, 'node-1').line
    assert.equal(line, genericLine(e, 'http', 'node-1'), `case ${i}`)
    assert.deepEqual(Object.keys(JSON.parse(line) as object), HTTP_EVENT_FIELDS.slice(1))
  }
})

test('an http value of the wrong kind is refused naming its field, as by the generic path', () => {
  const cases: [string, unknown][] = [
    ['src_port', 70_000],
    ['status', -1],
    ['status', 1.5],
    ['host', 42],
    ['method', null],
    ['request_time_ms', Number.NaN],
    ['request_time_ms', '12'],
    ['hello_length', 2 ** 32],
    ['ts', '22/11/2026'],
    ['sensor', 7],
  ]
  for (const [field, value] of cases) {
    const e = { ...httpEvent(1), [field]: value } as unknown as StoreEvent
    assert.throws(
      () => eventLine(e, 'node-1'),
      (err) => errorCode(err) === 'E_INVALID_ARGUMENT' && String(err).includes(field),
      `${field} = ${String(value)}`,
    )
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseClientHello } from '../protocols/tls/client-hello.ts'
import { chromeHelloSpec, clientHelloBody, ext } from '../protocols/tls/test-helpers/fixtures.ts'
import { ja4 } from './ja4.ts'
import { JA4_STABLE_EXCLUDED, ja4Stable as fromJa4 } from './ja4-stable.ts'
import type { ClientHello } from '../protocols/tls/types.ts'

const ja4Stable = (ch: ClientHello, t: 't' | 'q' | 'd'): string => fromJa4(ch, ja4(ch, t))
/** The definition, computed the slow way: JA4 of the hello without the excluded extensions. */
const oracle = (ch: ClientHello, t: 't' | 'q' | 'd'): string =>
  ja4({ ...ch, extensions: ch.extensions.filter((e) => !JA4_STABLE_EXCLUDED.has(e.type)) }, t).ja4

function hello(extra: ReturnType<typeof ext>[], drop: number[] = []) {
  const spec = chromeHelloSpec()
  spec.extensions = [...(spec.extensions ?? []).filter((e) => !drop.includes(e.type)), ...extra]
  const r = parseClientHello(clientHelloBody(spec))
  assert.ok(r.ok)
  return r.value
}

test('ja4_stable leaves out padding, pre_shared_key and early_data', () => {
  const fresh = hello([])
  const resumed = hello([ext(0x002a), ext(0x0029, [0, 0])])
  assert.notEqual(ja4(fresh, 't').ja4, ja4(resumed, 't').ja4)
  assert.equal(ja4Stable(resumed, 't'), ja4Stable(fresh, 't'))
  // Padding (0x0015) is in Chrome's hello: the stable count has one extension less.
  assert.equal(ja4(fresh, 't').ja4.slice(0, 10), 't13d1516h2')
  assert.equal(ja4Stable(fresh, 't').slice(0, 10), 't13d1515h2')
  assert.equal(ja4Stable(fresh, 't'), ja4(hello([], [0x0015]), 't').ja4)
})

test('without those extensions ja4_stable is ja4', () => {
  const h = hello([], [0x0015])
  assert.equal(ja4Stable(h, 'q'), ja4(h, 'q').ja4)
})

test('ja4_stable derived from ja4_r equals the JA4 of the hello without those extensions', () => {
  const cases = [
    hello([]),
    hello([ext(0x0029, [0, 0])]),
    hello([ext(0x002a), ext(0x0029, [0, 0])], [0x000d]),
    hello([ext(0x0015, [0])], [0x0015, 0x000d, 0x0000, 0x0010]),
  ]
  for (const h of cases)
    for (const t of ['t', 'q', 'd'] as const) assert.equal(ja4Stable(h, t), oracle(h, t))
  // Only excluded extensions (plus GREASE): the c section is the empty-list hash.
  const onlyPadding = parseClientHello(
    clientHelloBody({ ciphers: [0x1301], extensions: [ext(0x0a0a), ext(0x0015, [0, 0])] }),
  )
  assert.ok(onlyPadding.ok)
  assert.equal(ja4Stable(onlyPadding.value, 't'), oracle(onlyPadding.value, 't'))
  assert.match(ja4Stable(onlyPadding.value, 't'), /_000000000000$/)
})

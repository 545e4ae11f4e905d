import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseClientHello } from '../protocols/tls/client-hello.ts'
import { chromeHelloSpec, clientHelloBody, ext } from '../protocols/tls/test-helpers/fixtures.ts'
import { ja4 } from './ja4.ts'
import { ja4Stable } from './ja4-stable.ts'

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

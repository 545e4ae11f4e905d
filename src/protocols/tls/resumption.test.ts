import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseClientHello } from './client-hello.ts'
import { clientHelloBody, ext, supportedVersionsExt } from './test-helpers/fixtures.ts'
import { resumptionSignals } from './resumption.ts'

function signals(spec: Parameters<typeof clientHelloBody>[0]) {
  const r = parseClientHello(clientHelloBody(spec))
  assert.ok(r.ok)
  return resumptionSignals(r.value)
}

test('a fresh TLS 1.2 hello attempts nothing; an empty ticket extension is only support', () => {
  assert.deepEqual(signals({ ciphers: [0xc02f], extensions: [ext(0x0023)] }), [])
})

test('a TLS 1.2 hello with a ticket and a session id', () => {
  const id = new Uint8Array(32).fill(9)
  assert.deepEqual(
    signals({ ciphers: [0xc02f], sessionId: id, extensions: [ext(0x0023, [1, 2, 3])] }),
    ['session_ticket', 'session_id'],
  )
})

test('TLS 1.3: PSK and 0-RTT; the compatibility session id is not resumption', () => {
  const id = new Uint8Array(32).fill(9)
  const exts = [supportedVersionsExt([0x0304, 0x0303]), ext(0x002a), ext(0x0029, [0, 0])]
  assert.deepEqual(signals({ ciphers: [0x1301], sessionId: id, extensions: exts }), [
    'psk',
    'early_data',
  ])
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseServerHello } from '../../protocols/tls/server-hello.ts'
import { HELLO_RETRY_REQUEST_RANDOM } from '../../protocols/tls/server-hello.ts'
import {
  alpnExt,
  ext,
  serverHelloBody,
  type ServerHelloSpec,
} from '../../protocols/tls/test-helpers/fixtures.ts'
import { hash12 } from '../hash.ts'
import { ja4s } from './ja4s.ts'

function sh(spec: ServerHelloSpec) {
  const r = parseServerHello(serverHelloBody(spec))
  assert.ok(r.ok)
  return r.value
}

test('JA4S of a TLS 1.2 ServerHello: extensions hashed in wire order', () => {
  const r = ja4s(
    sh({ cipher: 0xc030, extensions: [ext(0x0005), ext(0x0017), ext(0xff01, [0]), ext(0x0000)] }),
    't',
  )
  assert.equal(r.ja4s_r, 't120400_c030_0005,0017,ff01,0000')
  assert.equal(r.ja4s, 't120400_c030_4e8089b08790')
  assert.notEqual(r.ja4s.split('_')[2], hash12('0000,0005,0017,ff01'))
})

test('JA4S of a HelloRetryRequest uses selected_version', () => {
  const hrr = sh({
    random: HELLO_RETRY_REQUEST_RANDOM,
    cipher: 0x1302,
    extensions: [ext(0x002b, [3, 4]), ext(0x0033, [0, 0x1d])],
  })
  assert.equal(hrr.isHelloRetryRequest, true)
  const r = ja4s(hrr, 't')
  assert.equal(r.ja4s, 't130200_1302_a56c5b993250')
  assert.equal(r.ja4s_r, 't130200_1302_002b,0033')
})

test('JA4S with the server ALPN, and with no extensions', () => {
  const h2 = ja4s(sh({ cipher: 0xc02f, extensions: [ext(0xff01, [0]), alpnExt(['h2'])] }), 't')
  assert.ok(h2.ja4s.startsWith('t1202h2_c02f_'))
  const none = ja4s(sh({ legacyVersion: 0x0302, cipher: 0x0035 }), 't')
  assert.equal(none.ja4s, 't110000_0035_000000000000')
  assert.equal(none.ja4s_r, 't110000_0035_')
  assert.ok(
    ja4s(sh({ legacyVersion: 0xfefd, cipher: 0xc02b }), 'd').ja4s.startsWith('dd20000_c02b_'),
  )
})

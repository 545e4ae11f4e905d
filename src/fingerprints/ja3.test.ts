import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseClientHello } from '../protocols/tls/client-hello.ts'
import { parseServerHello } from '../protocols/tls/server-hello.ts'
import {
  chromeHelloSpec,
  clientHelloBody,
  ecPointFormatsExt,
  ext,
  GREASE_A,
  groupsExt,
  serverHelloBody,
  type ClientHelloSpec,
  type ServerHelloSpec,
} from '../protocols/tls/test-helpers/fixtures.ts'
import { md5Hex } from './hash.ts'
import { ja3, ja3s } from './ja3.ts'

function ch(spec: ClientHelloSpec, dtls = false) {
  const r = parseClientHello(clientHelloBody(spec), { dtls })
  assert.ok(r.ok)
  return r.value
}

function sh(spec: ServerHelloSpec) {
  const r = parseServerHello(serverHelloBody(spec))
  assert.ok(r.ok)
  return r.value
}

test('JA3 of the Chrome example: legacy version, GREASE removed from every list', () => {
  const r = ja3(ch(chromeHelloSpec()))
  assert.equal(
    r.ja3_str,
    '771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,' +
      '65281-51-45-5-17513-13-16-35-27-43-0-18-10-23-11-21,29-23-24,0',
  )
  assert.equal(r.ja3, '1c258ebef8eee2dfa3df6d8d07285af9')
})

test('JA3 keeps commas of empty fields', () => {
  const old = ja3(ch({ legacyVersion: 0x0301, ciphers: [4, 5, 10] }))
  assert.equal(old.ja3_str, '769,4-5-10,,,')
  assert.equal(old.ja3, md5Hex('769,4-5-10,,,'))
  const tls13 = ja3(ch({ ciphers: [4865, 4867], extensions: [ext(0), groupsExt([GREASE_A, 23])] }))
  assert.equal(tls13.ja3_str, '771,4865-4867,0-10,23,')
})

test('JA3 keeps SCSVs and point formats as sent, DTLS legacy version in decimal', () => {
  const r = ja3(
    ch(
      {
        legacyVersion: 0xfefd,
        cookie: new Uint8Array(0),
        ciphers: [0x00ff, 0x5600],
        extensions: [ecPointFormatsExt([0, 1, 2])],
      },
      true,
    ),
  )
  assert.equal(r.ja3_str, '65277,255-22016,11,,0-1-2')
})

test('JA3S: the FINGERPRINTS.md §1 example', () => {
  const r = ja3s(
    sh({
      cipher: 49199,
      extensions: [
        ext(65281, [0]),
        ext(0),
        ext(11, [1, 0]),
        ext(16, [0, 3, 2, 0x68, 0x32]),
        ext(23),
      ],
    }),
  )
  assert.equal(r.ja3s_str, '771,49199,65281-0-11-16-23')
  assert.equal(r.ja3s, '5d79edf64e03689ff559a54e9d9487bc')
})

test('JA3S without extensions keeps its trailing comma', () => {
  const r = ja3s(sh({ legacyVersion: 0x0302, cipher: 0x0035 }))
  assert.equal(r.ja3s_str, '770,53,')
})

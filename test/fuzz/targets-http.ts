/**
 * Fuzz targets for cleartext HTTP/1.x request heads and JA4H: mutated realistic client streams
 * pushed in random chunks. Besides "never throws", the stream must not care where chunks end.
 */
import { deepStrictEqual } from 'node:assert/strict'
import { ja4h } from '../../src/fingerprints/ja4plus/ja4h.ts'
import {
  HttpRequestStream,
  MAX_HTTP_HEAD_BYTES,
  looksLikeHttpRequest,
  parseRequestHead,
} from '../../src/protocols/http/request.ts'
import type { HttpRequest } from '../../src/protocols/http/types.ts'
import { chunks } from './mutate.ts'
import type { Target } from './targets.ts'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

const browser = text(
  'GET /search?q=tls HTTP/1.1\r\nHost: www.example.com\r\nConnection: keep-alive\r\n' +
    'Upgrade-Insecure-Requests: 1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0\r\n' +
    'Accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8\r\nReferer: http://www.example.com/\r\n' +
    'Accept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.9\r\n' +
    'Cookie: sid=abc123; theme=dark; flag\r\n\r\n',
)
const curl = text(
  'GET / HTTP/1.1\r\nHost: localhost:8000\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n',
)
const pipelined = text(
  'POST /api HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n' +
    '{"k":"value"}\r\nPUT /b HTTP/1.0\nContent-Length: 0\n\n' +
    'HEAD /c HTTP/1.1\r\nHost: a\r\nX-Fold: one\r\n two\r\n\r\n',
)
const chunked = text(
  'POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n' +
    '4;name=v\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n' +
    'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\n\r\n',
)

function fingerprint(reqs: HttpRequest[]): string[] {
  return reqs.map((r) => {
    if (r.headLength > MAX_HTTP_HEAD_BYTES) throw new Error(`headLength ${r.headLength}`)
    const f = ja4h(r)
    return `${f.ja4h} ${f.ja4h_r} ${f.ja4h_ro} ${r.anomalies.join(',')}`
  })
}

export const httpTargets: Target[] = [
  {
    name: 'http-requests',
    seeds: [browser, curl, pipelined, chunked],
    run: (input, rng) => {
      looksLikeHttpRequest(input, rng.int(4))
      const head = parseRequestHead(input)
      if (head.ok) fingerprint([head.value])

      const whole = new HttpRequestStream()
      const expected = fingerprint(whole.push(input))
      const split = new HttpRequestStream()
      const got = fingerprint(chunks(input, rng).flatMap((c) => split.push(c)))
      // Property: chunk boundaries change nothing.
      deepStrictEqual(got, expected)
      deepStrictEqual(split.anomalies, whole.anomalies)
      deepStrictEqual(split.state, whole.state)
    },
  },
]

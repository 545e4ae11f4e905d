import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  HttpRequestStream,
  MAX_HTTP_HEAD_BYTES,
  MAX_HTTP_HEADERS,
  MAX_HTTP_REQUESTS_PER_CONNECTION,
  looksLikeHttpRequest,
  parseRequestHead,
} from './request.ts'
import type { HttpRequest } from './types.ts'

const enc = new TextEncoder()
const bytes = (s: string): Uint8Array => enc.encode(s)

function parsed(text: string): HttpRequest {
  const r = parseRequestHead(bytes(text))
  assert.ok(r.ok, `parse failed: ${JSON.stringify(r)}`)
  return r.value
}

/** What a test compares: method, target and header names of each request. */
function summary(reqs: HttpRequest[]): string[] {
  return reqs.map((r) => `${r.method} ${r.target} ${r.headers.map((h) => h.name).join(',')}`)
}

/** Feeds `input` whole, split at every offset, and in one-byte chunks; `check` sees each run. */
function forEverySplit(
  input: Uint8Array,
  check: (reqs: HttpRequest[], s: HttpRequestStream, label: string) => void,
): void {
  const whole = new HttpRequestStream()
  check(whole.push(input), whole, 'whole')
  for (let i = 1; i < input.length; i++) {
    const s = new HttpRequestStream()
    check([...s.push(input.slice(0, i)), ...s.push(input.slice(i))], s, `split at ${i}`)
  }
  const s = new HttpRequestStream()
  const reqs: HttpRequest[] = []
  for (let i = 0; i < input.length; i++) reqs.push(...s.push(input.slice(i, i + 1)))
  check(reqs, s, 'one-byte chunks')
}

const browser =
  'GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0\r\n' +
  'Accept: text/html\r\nAccept-Language: en-US,en;q=0.9\r\nCookie: a=1; b=2\r\n\r\n'

test('looksLikeHttpRequest accepts request lines and rejects TLS, SSH, SMTP and binary', () => {
  assert.equal(looksLikeHttpRequest(bytes(browser), 0), true)
  assert.equal(looksLikeHttpRequest(bytes('M-SEARCH * HTTP/1.1\r\n'), 0), true)
  assert.equal(looksLikeHttpRequest(bytes('xxPOST /a HTTP/1.0\r\n'), 2), true)
  assert.equal(looksLikeHttpRequest(bytes('CONNECT example.com:443 HTTP/1.1\r\n'), 0), true)
  // Line not yet complete: judged on what is there.
  assert.equal(looksLikeHttpRequest(bytes('GET /very/long/path'), 0), true)
  assert.equal(looksLikeHttpRequest(Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01), 0), false)
  assert.equal(looksLikeHttpRequest(bytes('SSH-2.0-OpenSSH_9.6\r\n'), 0), false)
  assert.equal(looksLikeHttpRequest(bytes('EHLO mail.example.com\r\n'), 0), false)
  assert.equal(looksLikeHttpRequest(bytes('get / HTTP/1.1\r\n'), 0), false)
  assert.equal(looksLikeHttpRequest(bytes('GET'), 0), false)
  assert.equal(looksLikeHttpRequest(bytes(''), 0), false)
  assert.equal(looksLikeHttpRequest(bytes(`${'A'.repeat(20)} / HTTP/1.1\r\n`), 0), true)
  assert.equal(looksLikeHttpRequest(bytes(`${'A'.repeat(21)} / HTTP/1.1\r\n`), 0), false)
  assert.equal(
    looksLikeHttpRequest(Uint8Array.of(0x47, 0x45, 0x54, 0x20, 0x2f, 0x00, 0x01), 0),
    false,
  )
  assert.equal(looksLikeHttpRequest(bytes('GET  HTTP/1.1\r\n'), 0), false)
  // Random binary never passes (seeded, reproducible).
  let seed = 7
  const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff
  for (let n = 0; n < 20_000; n++) {
    const b = Uint8Array.from({ length: 300 }, rand)
    assert.equal(looksLikeHttpRequest(b, 0), false, `random input ${n}`)
  }
})

test('parseRequestHead reads the request line and fields as sent', () => {
  const r = parsed(browser)
  assert.equal(r.method, 'GET')
  assert.equal(r.target, '/index.html')
  assert.equal(r.version, 11)
  assert.deepEqual(r.headers[0], { name: 'Host', value: 'example.com' })
  assert.equal(r.headers.length, 5)
  assert.equal(r.headLength, browser.length)
  assert.deepEqual(r.anomalies, [])
  // Bytes after the head are not part of it.
  const withBody = parseRequestHead(bytes(`${browser}GARBAGE`))
  assert.ok(withBody.ok)
  assert.equal(withBody.value.headLength, browser.length)
})

test('parseRequestHead: versions', () => {
  assert.equal(parsed('GET / HTTP/1.0\r\n\r\n').version, 10)
  assert.equal(parsed('PRI * HTTP/2.0\r\n\r\n').version, 20)
  assert.equal(parsed('GET / HTTP/2\r\n\r\n').version, 20)
  assert.equal(parsed('GET / HTTP/3\r\n\r\n').version, 30)
  const odd = parsed('GET / HTTP/one\r\n\r\n')
  assert.equal(odd.version, 0)
  assert.deepEqual(odd.anomalies, ['http.bad_request_line'])
})

test('parseRequestHead: bare LF, obs-fold, bad lines, whitespace, header values trimmed', () => {
  const r = parsed(
    'GET /a b HTTP/1.0\nHost:  x \t\nX-Fold: one\r\n  two\r\nno colon here\r\nBad Name: v\r\n' +
      ':pseudo: v\r\nEmpty:\r\n\n',
  )
  assert.equal(r.target, '/a b')
  assert.deepEqual(r.headers, [
    { name: 'Host', value: 'x' },
    { name: 'X-Fold', value: 'one two' },
    { name: 'Bad Name', value: 'v' },
    { name: 'Empty', value: '' },
  ])
  assert.deepEqual([...r.anomalies].sort(), [
    'http.bad_header_line',
    'http.bad_request_line',
    'http.bare_lf',
    'http.obsolete_line_folding',
  ])
  const ws = parsed('GET / HTTP/1.1\r\n Host: x\r\nA: b\r\n\r\n')
  assert.deepEqual(ws.headers, [{ name: 'A', value: 'b' }])
  assert.deepEqual(ws.anomalies, ['http.bad_header_line'])
})

test('parseRequestHead skips leading empty lines and counts them in headLength', () => {
  const r = parsed('\r\n\r\nGET / HTTP/1.1\r\n\r\n')
  assert.equal(r.method, 'GET')
  assert.equal(r.headLength, 22)
})

test('parseRequestHead failures: truncated, too long, not a request line', () => {
  const t = parseRequestHead(bytes('GET / HTTP/1.1\r\nHost: x\r\n'))
  assert.ok(!t.ok && t.error.code === 'truncated')
  const long = parseRequestHead(
    bytes(`GET / HTTP/1.1\r\nX: ${'a'.repeat(MAX_HTTP_HEAD_BYTES)}\r\n\r\n`),
  )
  assert.ok(!long.ok && long.error.code === 'limit_exceeded')
  for (const bad of [
    'GET /\r\n\r\n',
    'GET\r\n\r\n',
    ' GET / HTTP/1.1\r\n\r\n',
    'G(T / HTTP/1.1\r\n\r\n',
  ]) {
    const r = parseRequestHead(bytes(bad))
    assert.ok(!r.ok && r.error.code === 'bad_value', JSON.stringify(bad))
  }
  assert.ok(!parseRequestHead(new Uint8Array(0)).ok)
})

test('parseRequestHead keeps MAX_HTTP_HEADERS fields and flags the rest', () => {
  const lines = Array.from({ length: MAX_HTTP_HEADERS + 20 }, (_, i) => `X-${i}: v\r\n`).join('')
  const r = parsed(`GET / HTTP/1.1\r\n${lines}\r\n`)
  assert.equal(r.headers.length, MAX_HTTP_HEADERS)
  assert.equal(r.headers.at(-1)?.name, `X-${MAX_HTTP_HEADERS - 1}`)
  assert.deepEqual(r.anomalies, ['http.too_many_headers'])
  const exact = Array.from({ length: MAX_HTTP_HEADERS }, (_, i) => `X-${i}: v\r\n`).join('')
  assert.deepEqual(parsed(`GET / HTTP/1.1\r\n${exact}\r\n`).anomalies, [])
})

test('parseRequestHead flags body framing problems (RFC 9112 §6.3)', () => {
  const a = (h: string): string[] => parsed(`POST / HTTP/1.1\r\n${h}\r\n`).anomalies
  assert.deepEqual(a('Content-Length: 5\r\n'), [])
  assert.deepEqual(a('Content-Length: 5, 5\r\nContent-Length: 5\r\n'), [])
  assert.deepEqual(a('Content-Length: 5\r\nContent-Length: 6\r\n'), ['http.bad_content_length'])
  assert.deepEqual(a('Content-Length: -1\r\n'), ['http.bad_content_length'])
  assert.deepEqual(a('Content-Length: 1234567890123456\r\n'), ['http.bad_content_length'])
  assert.deepEqual(a('Transfer-Encoding: chunked\r\nContent-Length: 5\r\n'), [
    'http.transfer_encoding_with_content_length',
  ])
  assert.deepEqual(a('Transfer-Encoding: chunked, gzip\r\n'), ['http.unknown_body_length'])
  assert.deepEqual(a('Transfer-Encoding: gzip\r\ntransfer-encoding: CHUNKED\r\n'), [])
})

test('pipelined requests with Content-Length and chunked bodies, at every split point', () => {
  const input = bytes(
    browser +
      'POST /form HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\n\r\nhello=world' +
      '\r\n' + // stray CRLF after a body (RFC 9112 §2.2)
      'POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;ext=1\r\nGET /\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n3\nabc\n0\r\nX-Trailer: 1\r\n\r\n' +
      'HEAD /last HTTP/1.1\nHost: example.com\n\n',
  )
  const want = [
    'GET /index.html Host,User-Agent,Accept,Accept-Language,Cookie',
    'POST /form Host,Content-Length',
    'POST /up Transfer-Encoding',
    'HEAD /last Host',
  ]
  forEverySplit(input, (reqs, s, label) => {
    assert.deepEqual(summary(reqs), want, label)
    assert.equal(s.state, 'head', label)
    assert.deepEqual(s.anomalies, [], label)
    assert.equal(s.requests, 4, label)
  })
})

test('a head split byte by byte yields the same request as parseRequestHead', () => {
  const s = new HttpRequestStream()
  const input = bytes(browser)
  const got: HttpRequest[] = []
  for (const b of input) got.push(...s.push(Uint8Array.of(b)))
  assert.deepEqual(got, [parsed(browser)])
})

test('the stream copies what it keeps: later changes to the caller buffer do not matter', () => {
  const s = new HttpRequestStream()
  const input = bytes(browser)
  const first = input.slice(0, 40)
  assert.deepEqual(s.push(first), [])
  first.fill(0x41)
  assert.deepEqual(s.push(input.slice(40)), [parsed(browser)])
})

test('the stream gives up on non-HTTP bytes, over-long heads and bad chunks', () => {
  const tls = new HttpRequestStream()
  assert.deepEqual(tls.push(Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0x10)), [])
  assert.equal(tls.state, 'done')
  assert.deepEqual(tls.anomalies, ['http.not_a_request'])
  assert.deepEqual(tls.push(bytes(browser)), [])

  const long = new HttpRequestStream()
  long.push(bytes('GET / HTTP/1.1\r\n'))
  const line = bytes(`X-Pad: ${'a'.repeat(1000)}\r\n`)
  for (let i = 0; i < 20 && long.state !== 'done'; i++) assert.deepEqual(long.push(line), [])
  assert.equal(long.state, 'done')
  assert.deepEqual(long.anomalies, ['http.head_too_long'])
  // One big push over the limit is cut the same way.
  const big = new HttpRequestStream()
  big.push(bytes(`GET / HTTP/1.1\r\nX: ${'a'.repeat(MAX_HTTP_HEAD_BYTES)}\r\n\r\n`))
  assert.deepEqual(big.anomalies, ['http.head_too_long'])

  for (const body of [
    'zz\r\n',
    '5\r\nhelloXX',
    `${'f'.repeat(14)}\r\n`,
    `5;${'x'.repeat(2000)}\r\n`,
  ]) {
    const s = new HttpRequestStream()
    const reqs = s.push(
      bytes(`POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${body}${browser}`),
    )
    assert.equal(reqs.length, 1, JSON.stringify(body))
    assert.equal(s.state, 'done')
    assert.deepEqual(s.anomalies, ['http.bad_chunk'])
  }

  const junk = new HttpRequestStream()
  assert.equal(junk.push(bytes(`${browser}\x00\x01binary`)).length, 1)
  assert.deepEqual(junk.anomalies, ['http.not_a_request'])

  const noVersion = new HttpRequestStream()
  assert.deepEqual(noVersion.push(bytes('GET /no-version\r\n\r\n')), [])
  assert.deepEqual(noVersion.anomalies, ['http.not_a_request'])
  // A line longer than the sniffing window is judged by the parser.
  const badLine = new HttpRequestStream()
  assert.deepEqual(badLine.push(bytes(`GET /${'a'.repeat(300)}\r\n\r\n`)), [])
  assert.deepEqual(badLine.anomalies, ['http.bad_request_line'])
})

test('the stream stops after a body it cannot delimit, CONNECT, the HTTP/2 preface', () => {
  const te = new HttpRequestStream()
  const r = te.push(bytes(`POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxxxx${browser}`))
  assert.equal(r.length, 1)
  assert.deepEqual(r[0]?.anomalies, ['http.unknown_body_length'])
  assert.equal(te.state, 'done')

  const connect = new HttpRequestStream()
  const c = connect.push(
    bytes(`CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n${browser}`),
  )
  assert.deepEqual(summary(c), ['CONNECT a.example:443 Host'])
  assert.equal(connect.state, 'done')
  assert.deepEqual(connect.anomalies, [])

  const h2 = new HttpRequestStream()
  assert.deepEqual(h2.push(bytes('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04')), [])
  assert.equal(h2.state, 'done')
  assert.deepEqual(h2.anomalies, [])
})

test('after an Upgrade request, non-HTTP bytes end the stream quietly', () => {
  const s = new HttpRequestStream()
  const up = 'GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'
  assert.equal(s.push(bytes(up)).length, 1)
  assert.deepEqual(s.push(Uint8Array.of(0x81, 0x85, 1, 2, 3, 4)), [])
  assert.equal(s.state, 'done')
  assert.deepEqual(s.anomalies, [])
})

test('the stream follows at most MAX_HTTP_REQUESTS_PER_CONNECTION requests', () => {
  const s = new HttpRequestStream()
  const one = bytes('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  let n = 0
  for (let i = 0; i < MAX_HTTP_REQUESTS_PER_CONNECTION + 5; i++) n += s.push(one).length
  assert.equal(n, MAX_HTTP_REQUESTS_PER_CONNECTION)
  assert.equal(s.state, 'done')
  assert.deepEqual(s.anomalies, ['http.too_many_requests'])
})

test('property: any bytes, any chunking: no throw, bounded output', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 2048 }),
      fc.array(fc.nat(64), { maxLength: 16 }),
      (data, cuts) => {
        parseRequestHead(data)
        looksLikeHttpRequest(data, 0)
        const s = new HttpRequestStream()
        let at = 0
        for (const c of cuts) {
          s.push(data.subarray(at, at + c))
          at += c
        }
        s.push(data.subarray(at))
      },
    ),
    { numRuns: 500 },
  )
  // The same with mostly-valid text: heads with random fields and bodies.
  const token = fc.stringMatching(/^[A-Za-z-]{1,12}$/)
  fc.assert(
    fc.property(
      fc.array(fc.tuple(token, fc.string({ maxLength: 20 })), { maxLength: 12 }),
      fc.nat(30),
      (fields, body) => {
        const text =
          `POST / HTTP/1.1\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}` +
          `Content-Length: ${body}\r\n\r\n${'b'.repeat(body)}GET / HTTP/1.1\r\n\r\n`
        const s = new HttpRequestStream()
        const reqs = [...s.push(bytes(text).subarray(0, 10)), ...s.push(bytes(text).subarray(10))]
        const direct = parseRequestHead(bytes(text))
        if (direct.ok && direct.value.anomalies.length === 0) assert.ok(reqs.length >= 1)
      },
    ),
    { numRuns: 300 },
  )
})

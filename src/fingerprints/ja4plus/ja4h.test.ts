import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HttpRequestStream, parseRequestHead } from '../../protocols/http/request.ts'
import type { HttpHeader, HttpRequest } from '../../protocols/http/types.ts'
import { ja4h } from './ja4h.ts'

const enc = new TextEncoder()

function head(text: string): HttpRequest {
  const r = parseRequestHead(enc.encode(text))
  assert.ok(r.ok, `parse failed: ${JSON.stringify(r)}`)
  return r.value
}

function req(method: string, version: number, headers: [string, string][]): HttpRequest {
  return {
    method,
    target: '/',
    version,
    headers: headers.map(([name, value]) => ({ name, value })),
    headLength: 0,
    anomalies: [],
  }
}

test('pins the documented example (curl with Referer, two cookies, Accept-Language da)', () => {
  const r = ja4h(
    head(
      'GET / HTTP/1.1\r\nHost: localhost:8000\r\nUser-Agent: curl/8.1.2\r\nAccept: */*\r\n' +
        'Referer: https://fake.example\r\nCookie: yummy_cookie=choco; tasty_cookie=strawberry\r\n' +
        'Accept-Language: da, en-GB;q=0.8, en;q=0.7\r\n\r\n',
    ),
  )
  assert.equal(r.ja4h, 'ge11cr04da00_8ddaef5d77af_280f366eaa04_c2fb0fe53442')
  assert.equal(
    r.ja4h_r,
    'ge11cr04da00_Host,User-Agent,Accept,Accept-Language_tasty_cookie,yummy_cookie_' +
      'tasty_cookie=strawberry,yummy_cookie=choco',
  )
  assert.equal(
    r.ja4h_ro,
    'ge11cr04da00_Host,User-Agent,Accept,Accept-Language_yummy_cookie,tasty_cookie_' +
      'yummy_cookie=choco,tasty_cookie=strawberry',
  )
})

test('no headers: b hashes the empty list, c and d are zeros, raw forms keep four sections', () => {
  const r = ja4h(head('GET /Hello Arkime HTTP/1.0\r\n\r\n'))
  assert.equal(r.ja4h, 'ge10nn000000_e3b0c44298fc_000000000000_000000000000')
  assert.equal(r.ja4h_r, 'ge10nn000000___')
  assert.equal(r.ja4h_ro, 'ge10nn000000___')
})

test('without cookies the raw forms end in two underscores', () => {
  const r = ja4h(
    req('POST', 11, [
      ['Host', 'x'],
      ['User-Agent', 'y'],
    ]),
  )
  assert.equal(r.ja4h_r, 'po11nn020000_Host,User-Agent__')
  assert.match(r.ja4h, /^po11nn020000_[0-9a-f]{12}_000000000000_000000000000$/)
})

test('cookies from every Cookie field; duplicate names sort stably; a piece without = is its own name', () => {
  const r = ja4h(
    req('GET', 20, [
      ['cookie', 'b=2; a=1'],
      ['user-agent', 'ua'],
      ['Cookie', 'flag; a=0; ;'],
    ]),
  )
  assert.equal(r.ja4h_ro, 'ge20cn010000_user-agent_b,a,flag,a_b=2,a=1,flag,a=0')
  assert.equal(r.ja4h_r, 'ge20cn010000_user-agent_a,a,b,flag_a=1,a=0,b=2,flag')
  // The hashes are of exactly those raw lists.
  const [, , c, d] = r.ja4h.split('_')
  const other = ja4h(
    req('GET', 20, [
      ['Cookie', 'a=1; a=0; b=2; flag'],
      ['user-agent', 'ua'],
    ]),
  )
  assert.equal(other.ja4h.split('_')[2], c)
  assert.equal(other.ja4h.split('_')[3], d)
})

test('a Cookie field with no cookie sets the flag but leaves c and d empty', () => {
  const r = ja4h(req('GET', 11, [['Cookie', ' ; ']]))
  assert.equal(r.ja4h, 'ge11cn000000_e3b0c44298fc_000000000000_000000000000')
  assert.equal(r.ja4h_r, 'ge11cn000000___')
})

test('Referer by exact name (any case); Referrer is an ordinary header', () => {
  assert.equal(ja4h(req('GET', 11, [['REFERER', 'x']])).ja4h.slice(0, 12), 'ge11nr000000')
  assert.equal(ja4h(req('GET', 11, [['Referrer', 'x']])).ja4h.slice(0, 12), 'ge11nn010000')
  assert.equal(ja4h(req('GET', 11, [['X-Referer', 'x']])).ja4h.slice(0, 12), 'ge11nn010000')
  assert.equal(ja4h(req('GET', 11, [['Cookie2', 'x']])).ja4h.slice(0, 12), 'ge11nn010000')
})

test('Accept-Language: primary tag without dashes, 4 characters, zero-padded', () => {
  const a = (v: string): string => ja4h(req('GET', 11, [['Accept-Language', v]])).ja4h.slice(8, 12)
  assert.equal(a('en-US,en;q=0.9'), 'enus')
  assert.equal(a('da'), 'da00')
  assert.equal(a('zh-CN'), 'zhcn')
  assert.equal(a('fr;q=0.5'), 'fr00')
  assert.equal(a('es-419'), 'es41')
  assert.equal(a('*'), '*000')
  assert.equal(a(''), '0000')
  assert.equal(a('a_b c'), 'a0b0')
  assert.equal(ja4h(req('GET', 11, [])).ja4h.slice(8, 12), '0000')
  // Only the first Accept-Language field counts.
  const two = ja4h(
    req('GET', 11, [
      ['accept-language', 'ru'],
      ['Accept-Language', 'de'],
    ]),
  )
  assert.equal(two.ja4h.slice(0, 12), 'ge11nn02ru00')
})

test('method code: first two letters, other characters skipped, zero-padded', () => {
  const m = (method: string): string => ja4h(req(method, 11, [])).ja4h.slice(0, 2)
  assert.equal(m('GET'), 'ge')
  assert.equal(m('OPTIONS'), 'op')
  assert.equal(m('M-SEARCH'), 'ms')
  assert.equal(m('X'), 'x0')
  assert.equal(m('1-2'), '00')
  assert.equal(ja4h(req('GET', 0, [])).ja4h.slice(2, 4), '00')
  assert.equal(ja4h(req('GET', 30, [])).ja4h.slice(2, 4), '30')
})

test('more than 99 headers: the count is capped, the hash keeps every name', () => {
  const many = Array.from({ length: 120 }, (_, i): [string, string] => [`X-H${i}`, 'v'])
  const r = ja4h(req('GET', 11, many))
  assert.equal(r.ja4h.slice(0, 12), 'ge11nn990000')
  const fewer = ja4h(req('GET', 11, many.slice(0, 99)))
  assert.equal(fewer.ja4h.slice(0, 12), 'ge11nn990000')
  assert.notEqual(r.ja4h, fewer.ja4h)
  assert.equal(r.ja4h_r.split('_')[1]?.split(',').length, 120)
})

test('pseudo-headers are neither counted nor hashed', () => {
  const withPseudo = ja4h(
    req('GET', 20, [
      [':method', 'GET'],
      [':path', '/'],
      ['accept', '*/*'],
    ]),
  )
  assert.deepEqual(withPseudo, ja4h(req('GET', 20, [['accept', '*/*']])))
  assert.equal(withPseudo.ja4h_r, 'ge20nn010000_accept__')
})

test('UTF-8 field text is hashed as the UTF-8 the wire carried', () => {
  // 'é' sent as UTF-8 (C3 A9) is parsed as two Latin-1 characters.
  const bytes = Uint8Array.of(...enc.encode('GET / HTTP/1.1\r\nCookie: n='), 0xc3, 0xa9)
  const parsed = parseRequestHead(Uint8Array.of(...bytes, 13, 10, 13, 10))
  assert.ok(parsed.ok)
  assert.equal(parsed.value.headers[0]?.value, 'n=\xc3\xa9')
  const r = ja4h(parsed.value)
  assert.equal(r.ja4h_r, 'ge11cn000000__n_n=é')
  assert.equal(r.ja4h.split('_')[3], ja4h(req('GET', 11, [['Cookie', 'n=é']])).ja4h.split('_')[3])
  // Bytes that are not UTF-8 stay Latin-1.
  assert.equal(ja4h(req('GET', 11, [['Cookie', 'n=\xff']])).ja4h_r, 'ge11cn000000__n_n=\xff')
})

// --- Conformance against the shared corpus (../shared/testdata, FORMAT.md) --------------------

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const corpusDir = resolve(
  process.env.TLSIGHT_CONFORMANCE_DIR ?? join(repoRoot, '../shared/testdata'),
)
const requireAll = process.env.TLSIGHT_REQUIRE_ALL === '1'

interface ExpectedJa4hFlow {
  proto: 'tcp' | 'udp'
  client: string
  server: string
  ja4h: string[]
  ja4h_r: string[]
  ja4h_ro: string[]
  optional?: string[]
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name)
      return statSync(p).isDirectory() ? walk(p) : [p]
    })
}

function hasTshark(): boolean {
  const r = spawnSync('tshark', ['--version'], { stdio: 'ignore' })
  return r.error === undefined && r.status === 0
}

function tshark(args: string[]): string {
  const r = spawnSync('tshark', ['-n', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 })
  assert.equal(r.status, 0, r.stderr)
  return r.stdout
}

function endpoint(ip: string, port: string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** Client-to-server TCP payload per `client server`, in sequence order, retransmissions cut. */
function tcpStreams(pcap: string): Map<string, Uint8Array[]> {
  const out = tshark([
    '-r', pcap, '-Y', 'tcp.len > 0', '-T', 'fields', '-E', 'occurrence=l',
    '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport',
    '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'tcp.dstport', '-e', 'tcp.seq', '-e', 'tcp.payload',
  ]) // prettier-ignore
  const streams = new Map<string, { next: number; chunks: Uint8Array[] }>()
  for (const line of out.split('\n')) {
    if (line === '') continue
    const [
      ip4s = '',
      ip6s = '',
      sport = '',
      ip4d = '',
      ip6d = '',
      dport = '',
      seqText = '',
      hex = '',
    ] = line.split('\t')
    const key = `${endpoint(ip4s || ip6s, sport)} ${endpoint(ip4d || ip6d, dport)}`
    let bytes = hexBytes(hex)
    const seq = Number(seqText)
    let s = streams.get(key)
    if (s === undefined) {
      s = { next: seq, chunks: [] }
      streams.set(key, s)
    }
    if (seq + bytes.length <= s.next) continue
    if (seq < s.next) bytes = bytes.subarray(s.next - seq)
    s.chunks.push(bytes)
    s.next = Math.max(s.next, seq) + bytes.length
  }
  return new Map([...streams].map(([k, v]) => [k, v.chunks]))
}

/** Requests of decrypted HTTP/2 HEADERS frames (tshark decodes HPACK), per `client server`. */
function http2Requests(pcap: string): Map<string, HttpRequest[]> {
  const out = tshark([
    '-r', pcap, '-Y', 'http2.type == 1', '-T', 'json', '-E', 'occurrence=a',
    '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'ipv6.dst',
    '-e', 'tcp.dstport', '-e', 'http2.header.count', '-e', 'http2.header.name',
    '-e', 'http2.header.value',
  ]) // prettier-ignore
  const packets = JSON.parse(out === '' ? '[]' : out) as {
    _source: { layers: Record<string, string[] | undefined> }
  }[]
  const result = new Map<string, HttpRequest[]>()
  for (const p of packets) {
    const l = p._source.layers
    const f = (k: string): string => l[k]?.at(-1) ?? ''
    const key = `${endpoint(f('ip.src') || f('ipv6.src'), f('tcp.srcport'))} ${endpoint(f('ip.dst') || f('ipv6.dst'), f('tcp.dstport'))}`
    const names = l['http2.header.name'] ?? []
    const values = l['http2.header.value'] ?? []
    let at = 0
    for (const countText of l['http2.header.count'] ?? []) {
      const n = Number(countText)
      const fields: HttpHeader[] = names
        .slice(at, at + n)
        .map((name, i) => ({ name, value: values[at + i] ?? '' }))
      at += n
      const method = fields.find((h) => h.name === ':method')?.value
      if (method === undefined) continue
      const list = result.get(key) ?? []
      list.push({
        method,
        target: fields.find((h) => h.name === ':path')?.value ?? '',
        version: 20,
        headers: fields.filter((h) => !h.name.startsWith(':')),
        headLength: 0,
        anomalies: [],
      })
      result.set(key, list)
    }
  }
  return result
}

/** One request per SSDP datagram (UDP requests are whole in one datagram). */
function udpRequests(pcap: string): Map<string, HttpRequest[]> {
  const out = tshark([
    '-r', pcap, '-Y', 'udp && http.request', '-T', 'fields', '-E', 'occurrence=l',
    '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'udp.srcport',
    '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'udp.dstport', '-e', 'udp.payload',
  ]) // prettier-ignore
  const result = new Map<string, HttpRequest[]>()
  for (const line of out.split('\n')) {
    if (line === '') continue
    const [ip4s = '', ip6s = '', sport = '', ip4d = '', ip6d = '', dport = '', hex = ''] =
      line.split('\t')
    const key = `${endpoint(ip4s || ip6s, sport)} ${endpoint(ip4d || ip6d, dport)}`
    const r = parseRequestHead(hexBytes(hex))
    if (!r.ok) continue
    result.set(key, [...(result.get(key) ?? []), r.value])
  }
  return result
}

const expectedDir = join(corpusDir, 'expected')
if (!existsSync(expectedDir)) {
  test('JA4H corpus', { skip: `no corpus at ${expectedDir} (set TLSIGHT_CONFORMANCE_DIR)` }, () => {
    assert.ok(!requireAll, 'TLSIGHT_REQUIRE_ALL=1: the conformance corpus is required')
  })
} else if (!hasTshark()) {
  test('JA4H corpus', { skip: 'tshark not found: apt-get install tshark' }, () => {})
  if (requireAll) {
    test('tshark is required (TLSIGHT_REQUIRE_ALL=1)', () => {
      assert.fail('install the Debian package `tshark`')
    })
  }
} else {
  const files = walk(expectedDir).filter((f) => readFileSync(f, 'utf8').includes('"ja4h"'))
  let tcpChecked = 0
  let http2Checked = 0
  let udpChecked = 0
  test('the corpus has JA4H expectations', () => {
    assert.ok(files.length > 0)
  })
  for (const file of files) {
    const data = JSON.parse(readFileSync(file, 'utf8')) as {
      pcap: string
      flows: (ExpectedJa4hFlow & { ja4h?: string[] })[]
    }
    const flows = data.flows.filter((f) => f.ja4h !== undefined)
    test(`JA4H conformance: ${relative(expectedDir, file)}`, () => {
      const pcap = join(corpusDir, data.pcap)
      const tcp = tcpStreams(pcap)
      const h2 = http2Requests(pcap)
      const udp = flows.some((f) => f.proto === 'udp') ? udpRequests(pcap) : new Map()
      for (const flow of flows) {
        const key = `${flow.client} ${flow.server}`
        let requests: HttpRequest[]
        if (flow.proto === 'udp') requests = udp.get(key) ?? []
        else {
          const stream = new HttpRequestStream()
          requests = (tcp.get(key) ?? []).flatMap((c) => stream.push(c))
          requests.push(...(h2.get(key) ?? []))
        }
        const got = requests.map(ja4h)
        if (flow.optional?.includes('ja4h') === true && got.length === 0) continue
        const label = `${flow.proto} ${key}`
        assert.deepEqual(
          got.map((r) => r.ja4h),
          flow.ja4h,
          `${label} ja4h`,
        )
        assert.deepEqual(
          got.map((r) => r.ja4h_r),
          flow.ja4h_r,
          `${label} ja4h_r`,
        )
        assert.deepEqual(
          got.map((r) => r.ja4h_ro),
          flow.ja4h_ro,
          `${label} ja4h_ro`,
        )
        if (flow.proto === 'tcp') tcpChecked += flow.ja4h.length
        else udpChecked += flow.ja4h.length
        http2Checked += requests.filter((r) => r.version === 20).length
      }
    })
  }
  test('JA4H conformance: every TCP request of the corpus was compared', () => {
    const expected = files.reduce((n, f) => {
      const d = JSON.parse(readFileSync(f, 'utf8')) as { flows: ExpectedJa4hFlow[] }
      return (
        n + d.flows.filter((x) => x.proto === 'tcp').reduce((m, x) => m + (x.ja4h?.length ?? 0), 0)
      )
    }, 0)
    assert.equal(tcpChecked, expected)
    console.log(
      `JA4H conformance: ${tcpChecked}/${expected} TCP requests match ` +
        `(${tcpChecked - http2Checked} cleartext HTTP/1.x, ${http2Checked} decrypted HTTP/2); ` +
        `${udpChecked} optional SSDP requests match`,
    )
  })
}

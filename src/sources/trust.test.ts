import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isIP } from 'node:net'
import {
  DEFAULT_TRUSTED_CIDRS,
  TrustList,
  canonicalIp,
  formatIp,
  parseCidrList,
  parseIp,
} from './trust.ts'

function trust(text: string): TrustList {
  const r = parseCidrList(text)
  assert.ok(r.ok, r.ok ? '' : r.error)
  return new TrustList(r.cidrs)
}

test('IPv4 and IPv6 text parses and is written back canonically (RFC 5952)', () => {
  const cases: [string, string][] = [
    ['192.0.2.1', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0000:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0:0:1:0:0:0', '2001:db8:0:0:1::'],
    ['fe80::1:2', 'fe80::1:2'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:c000:0201', '192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ]
  for (const [input, want] of cases) {
    const b = parseIp(input)
    assert.ok(b !== undefined, input)
    assert.equal(formatIp(b), want, input)
  }
})

test('malformed addresses are refused', () => {
  for (const bad of [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.4 ',
    '1::2::3',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::',
    'g::1',
    '::1.2.3',
    '1.2.3.4:80',
    'localhost',
    'unix:',
  ]) {
    assert.equal(parseIp(bad), undefined, bad)
  }
})

test('the parser agrees with node:net on random addresses', () => {
  let seed = 7
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0)
  for (let i = 0; i < 2000; i++) {
    const groups = Array.from({ length: 8 }, () => (next() % 3 === 0 ? 0 : next() & 0xffff))
    const text = groups.map((g) => g.toString(16)).join(':')
    const canon = canonicalIp(text)
    assert.ok(canon !== undefined && isIP(canon) === 6, text)
    assert.deepEqual(parseIp(canon), parseIp(text))
  }
})

test('canonicalIp accepts brackets and drops a zone', () => {
  assert.equal(canonicalIp('[2001:db8::1]'), '2001:db8::1')
  assert.equal(canonicalIp('fe80::1%eth0'), 'fe80::1')
  assert.equal(canonicalIp('nope'), undefined)
})

test('the default list trusts loopback only, IPv4-mapped loopback included', () => {
  const t = trust(DEFAULT_TRUSTED_CIDRS)
  for (const ok of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1', '[::1]'])
    assert.equal(t.has(ok), true, ok)
  for (const no of ['10.0.0.1', '::2', '::ffff:10.0.0.1', '128.0.0.1', '', 'garbage'])
    assert.equal(t.has(no), false, no)
})

test('CIDR matching at prefix boundaries, v4 and v6', () => {
  const t = trust('10.0.0.0/8, 192.168.1.128/25 2001:db8:abcd::/48 fd00::1')
  assert.equal(t.has('10.255.255.255'), true)
  assert.equal(t.has('11.0.0.0'), false)
  assert.equal(t.has('192.168.1.128'), true)
  assert.equal(t.has('192.168.1.127'), false)
  assert.equal(t.has('::ffff:192.168.1.200'), true)
  assert.equal(t.has('2001:db8:abcd:ffff::1'), true)
  assert.equal(t.has('2001:db8:abce::1'), false)
  assert.equal(t.has('fd00::1'), true)
  assert.equal(t.has('fd00::2'), false)
  // Host bits below the prefix are cleared, not refused.
  assert.equal(trust('10.1.2.3/8').has('10.9.9.9'), true)
  // `::/0` is everything, IPv4 included; `0.0.0.0/0` is all of IPv4 only.
  assert.equal(trust('::/0').has('198.51.100.1'), true)
  assert.equal(trust('0.0.0.0/0').has('198.51.100.1'), true)
  assert.equal(trust('0.0.0.0/0').has('2001:db8::1'), false)
  assert.equal(trust('').has('127.0.0.1'), false)
})

test('bad CIDR lists say what is wrong', () => {
  for (const [text, msg] of [
    ['10.0.0.0/33', /prefix/],
    ['::/129', /prefix/],
    ['10.0.0.0/08', /prefix/],
    ['10.0.0/8', /not an IP/],
    ['example.com', /not an IP/],
  ] as const) {
    const r = parseCidrList(text)
    assert.equal(r.ok, false, text)
    if (!r.ok) assert.match(r.error, msg)
  }
})

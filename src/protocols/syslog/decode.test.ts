import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { hostname as osHostname } from 'node:os'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { requireTool } from '../../../test/helpers/tools.ts'
import {
  MAX_SYSLOG_MESSAGE_BYTES,
  MAX_SYSLOG_SD_ITEMS,
  isValidUtf8,
  parseSyslog,
  type ParseSyslogOptions,
  type SyslogMessage,
} from './decode.ts'

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0) // 2026-11-22T12:00:00Z
const BOM = '\uFEFF'

function parse(line: string | Uint8Array, options: ParseSyslogOptions = { now: NOW }) {
  const r = parseSyslog(line, options)
  assert.ok(r.ok, JSON.stringify(r))
  return r.value
}

function msg(fields: Partial<SyslogMessage>): SyslogMessage {
  return {
    format: 'rfc5424',
    facility: 1,
    severity: 5,
    timestamp: undefined,
    hostname: undefined,
    appName: undefined,
    procId: undefined,
    msgId: undefined,
    structuredData: [],
    message: '',
    anomalies: [],
    ...fields,
  }
}

const EXAMPLE_SD = {
  id: 'exampleSDID@32473',
  params: [
    { name: 'iut', value: '3' },
    { name: 'eventSource', value: 'Application' },
    { name: 'eventID', value: '1011' },
  ],
}

test('RFC 5424 §6.5 examples 1-4', () => {
  assert.deepEqual(
    parse(
      `<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ${BOM}'su root' failed for lonvick on /dev/pts/8`,
    ),
    msg({
      facility: 4,
      severity: 2,
      timestamp: '2003-10-11T22:14:15.003Z',
      hostname: 'mymachine.example.com',
      appName: 'su',
      msgId: 'ID47',
      message: "'su root' failed for lonvick on /dev/pts/8",
    }),
  )
  assert.deepEqual(
    parse(
      "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
    ),
    msg({
      facility: 20,
      severity: 5,
      timestamp: '2003-08-24T05:14:15.000003-07:00',
      hostname: '192.0.2.1',
      appName: 'myproc',
      procId: '8710',
      message: "%% It's time to make the do-nuts.",
    }),
  )
  const base = {
    facility: 20,
    severity: 5,
    timestamp: '2003-10-11T22:14:15.003Z',
    hostname: 'mymachine.example.com',
    appName: 'evntslog',
    msgId: 'ID47',
  }
  assert.deepEqual(
    parse(
      `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] ${BOM}An application event log entry...`,
    ),
    msg({ ...base, structuredData: [EXAMPLE_SD], message: 'An application event log entry...' }),
  )
  assert.deepEqual(
    parse(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
    ),
    msg({
      ...base,
      structuredData: [
        EXAMPLE_SD,
        { id: 'examplePriority@32473', params: [{ name: 'class', value: 'high' }] },
      ],
    }),
  )
})

test('RFC 3164 §5.4 examples, as sent and as relayed', () => {
  const bsd = (fields: Partial<SyslogMessage>) => msg({ format: 'rfc3164', ...fields })
  assert.deepEqual(
    parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"),
    bsd({
      facility: 4,
      severity: 2,
      timestamp: '2026-10-11T22:14:15.000Z',
      hostname: 'mymachine',
      appName: 'su',
      message: "'su root' failed for lonvick on /dev/pts/8",
    }),
  )
  // Example 2 arrives with no PRI (§4.3.3: PRI 13, all content); the relay adds a header.
  assert.deepEqual(
    parse('Use the BFG!'),
    bsd({ message: 'Use the BFG!', anomalies: ['syslog.missing_pri'] }),
  )
  assert.deepEqual(
    parse('<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!', { now: Date.UTC(2026, 2, 1) }),
    bsd({ timestamp: '2026-02-05T17:32:18.000Z', hostname: '10.0.0.99', message: 'Use the BFG!' }),
  )
  // Example 3: the header is read as the RFC reads it: HOSTNAME "CST", MSG from "1987".
  const donuts =
    "%% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jelly=OK # Devices: Mixer=OK, Jelly_Injector=OK, Frier=OK # Transport: Conveyer1=OK, Conveyer2=OK # %%"
  assert.deepEqual(
    parse(`<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: ${donuts}`),
    bsd({
      facility: 20,
      severity: 5,
      timestamp: '2026-08-24T05:34:00.000Z',
      hostname: 'CST',
      message: `1987 mymachine myproc[10]: ${donuts}`,
    }),
  )
  // Example 4: no valid TIMESTAMP, so everything after PRI is MSG (§4.3.2); then relayed.
  const folks =
    "1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!"
  assert.deepEqual(
    parse(`<0>${folks}`),
    bsd({ facility: 0, severity: 0, message: folks, anomalies: ['syslog.bad_timestamp'] }),
  )
  assert.deepEqual(
    parse(`<0>Oct 22 10:52:12 scapegoat ${folks}`),
    bsd({
      facility: 0,
      severity: 0,
      timestamp: '2026-10-22T10:52:12.000Z',
      hostname: 'scapegoat',
      message: folks,
    }),
  )
})

test('nginx syslog output: with and without hostname, space-padded day', () => {
  const line = '1.2.3.4 - - [22/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"'
  const withHost = parse(`<190>Nov 22 10:00:00 web-1 nginx: ${line}`)
  assert.equal(withHost.facility, 23) // local7, nginx's default
  assert.equal(withHost.severity, 6) // info
  assert.equal(withHost.timestamp, '2026-11-22T10:00:00.000Z')
  assert.equal(withHost.hostname, 'web-1')
  assert.equal(withHost.appName, 'nginx')
  assert.equal(withHost.message, line)
  assert.deepEqual(withHost.anomalies, [])

  const noHost = parse(`<190>Nov  2 10:00:00 nginx: ${line}`)
  assert.equal(noHost.timestamp, '2026-11-02T10:00:00.000Z')
  assert.equal(noHost.hostname, undefined)
  assert.equal(noHost.appName, 'nginx')
  assert.equal(noHost.message, line)

  // An IPv6 host name is not mistaken for a `tag:`.
  const v6 = parse('<190>Nov 22 10:00:00 fe80::1 nginx: x')
  assert.equal(v6.hostname, 'fe80::1')
  assert.equal(v6.appName, 'nginx')
  assert.equal(v6.message, 'x')
})

test('RFC 3164 tags: tag[pid]:, tag[pid] without colon, slashes; a bare word is content', () => {
  const a = parse('<38>Jan  2 03:04:05 host postfix/smtpd[1234]: connect from x')
  assert.equal(a.appName, 'postfix/smtpd')
  assert.equal(a.procId, '1234')
  assert.equal(a.message, 'connect from x')
  const b = parse('<38>Jan  2 03:04:05 host sshd[99] Accepted key')
  assert.equal(b.appName, 'sshd')
  assert.equal(b.procId, '99')
  assert.equal(b.message, 'Accepted key')
  const c = parse('<38>Jan  2 03:04:05 host just words here')
  assert.equal(c.appName, undefined)
  assert.equal(c.message, 'just words here')
  const d = parse('<38>Jan  2 03:04:05 host')
  assert.equal(d.hostname, 'host')
  assert.equal(d.message, '')
})

test('RFC 3164 year: the one closest to `now`; Feb 29 only in leap years; local offset', () => {
  const at = (line: string, now: number, extra: ParseSyslogOptions = {}) =>
    parse(line, { now, ...extra })
  assert.equal(
    at('<13>Dec 31 23:59:59 h m', Date.UTC(2027, 0, 1, 0, 0, 5)).timestamp,
    '2026-12-31T23:59:59.000Z',
  )
  assert.equal(
    at('<13>Jan  1 00:00:01 h m', Date.UTC(2026, 11, 31, 23, 59)).timestamp,
    '2027-01-01T00:00:01.000Z',
  )
  assert.equal(
    at('<13>Feb 29 12:00:00 h m', Date.UTC(2028, 5, 1)).timestamp,
    '2028-02-29T12:00:00.000Z',
  )
  const nonLeap = at('<13>Feb 29 12:00:00 h m', Date.UTC(2026, 5, 1))
  assert.equal(nonLeap.timestamp, undefined)
  assert.deepEqual(nonLeap.anomalies, ['syslog.bad_timestamp'])
  assert.equal(nonLeap.hostname, 'h', 'the header is still read')
  assert.equal(
    at('<13>Nov 22 10:00:00 h m', NOW, { rfc3164UtcOffsetMinutes: 60 }).timestamp,
    '2026-11-22T09:00:00.000Z',
  )
  assert.equal(at('<13>Nov 22 10:00:00.123456 h m', NOW).timestamp, '2026-11-22T10:00:00.123Z')
  assert.equal(at('<13>nov 22 10:00:00 h m', NOW).timestamp, '2026-11-22T10:00:00.000Z')
  assert.equal(at('<13>Nov 22 25:00:00 h m', NOW).timestamp, undefined)
  // A zero-padded day is not RFC 3164, but common.
  assert.equal(at('<13>Nov 05 10:00:00 h m', NOW).timestamp, '2026-11-05T10:00:00.000Z')
})

test('rsyslog forwarding format: RFC 3339 timestamp in an RFC 3164 header', () => {
  const v = parse('<13>2026-11-22T10:00:00.123456+01:00 host app[7]: hello')
  assert.equal(v.format, 'rfc3164')
  assert.equal(v.timestamp, '2026-11-22T10:00:00.123456+01:00')
  assert.equal(v.hostname, 'host')
  assert.equal(v.appName, 'app')
  assert.equal(v.procId, '7')
  assert.equal(v.message, 'hello')
})

test('PRI: above 191, empty or unterminated is unusable; zero padding is flagged', () => {
  for (const line of ['<192>1 - - - - - - x', '<>x', '<1234>x', '<12x', '<']) {
    const v = parse(line)
    assert.equal(v.facility, 1, line)
    assert.equal(v.severity, 5, line)
    assert.equal(v.message, line, line)
    assert.deepEqual(v.anomalies, ['syslog.bad_pri'], line)
  }
  const padded = parse('<013>1 - - - - - - x')
  assert.equal(padded.facility, 1)
  assert.equal(padded.format, 'rfc5424')
  assert.deepEqual(padded.anomalies, ['syslog.bad_pri'])
  assert.equal(parse('<0>1 - - - - - -').facility, 0)
})

test('structured data: escapes, a lone backslash, unescaped `]`, duplicate SD-ID', () => {
  const v = parse('<13>1 - - - - - [a k="q\\"x\\\\y\\]z" k="\\n"][b@1 k="a]b"][a] m')
  assert.deepEqual(v.structuredData, [
    {
      id: 'a',
      params: [
        { name: 'k', value: 'q"x\\y]z' },
        { name: 'k', value: '\\n' },
      ],
    },
    { id: 'b@1', params: [{ name: 'k', value: 'a]b' }] },
    { id: 'a', params: [] },
  ])
  assert.equal(v.message, 'm')
  assert.deepEqual(v.anomalies, ['syslog.sd_unescaped_char', 'syslog.duplicate_sd_id'])
})

test('malformed structured data keeps its bytes as MSG', () => {
  const unterminated = parse('<13>1 - - - - - [ok a="1"][bad k="v] rest')
  assert.deepEqual(unterminated.structuredData, [{ id: 'ok', params: [{ name: 'a', value: '1' }] }])
  assert.equal(unterminated.message, '[bad k="v] rest')
  assert.ok(unterminated.anomalies.includes('syslog.bad_structured_data'))

  const noSd = parse('<13>1 - host app - - hello world')
  assert.equal(noSd.message, 'hello world')
  assert.deepEqual(noSd.anomalies, ['syslog.bad_structured_data'])

  const noSp = parse('<13>1 - - - - - [a]msg')
  assert.deepEqual(noSp.structuredData, [{ id: 'a', params: [] }])
  assert.equal(noSp.message, 'msg')
  assert.deepEqual(noSp.anomalies, ['syslog.bad_structured_data'])

  for (const bad of ['[', '[]', '[a', '[a b]', '[a b=]', '[a b="', '[a  b="1"]', '[a=]']) {
    const v = parse(`<13>1 - - - - - ${bad}`)
    assert.deepEqual(v.structuredData, [], bad)
    assert.equal(v.message, bad, bad)
    assert.ok(v.anomalies.includes('syslog.bad_structured_data'), bad)
  }
  const longName = parse(`<13>1 - - - - - [${'x'.repeat(33)}]`)
  assert.deepEqual(longName.anomalies, ['syslog.sd_name_invalid'])
})

test('structured data beyond MAX_SYSLOG_SD_ITEMS is parsed past and dropped', () => {
  const many = Array.from({ length: MAX_SYSLOG_SD_ITEMS + 10 }, (_, i) => `[e${i}]`).join('')
  const v = parse(`<13>1 - - - - - ${many} tail`)
  assert.equal(v.structuredData.length, MAX_SYSLOG_SD_ITEMS)
  assert.equal(v.message, 'tail')
  assert.deepEqual(v.anomalies, ['syslog.sd_limit'])
})

test('RFC 5424 header: truncated, too long, NIL, bad or repairable timestamps', () => {
  const cut = parse('<13>1 2026-11-22T10:00:00Z host')
  assert.equal(cut.hostname, 'host')
  assert.equal(cut.appName, undefined)
  assert.deepEqual(cut.anomalies, ['syslog.header_truncated'])

  const long = parse(`<13>1 - - ${'a'.repeat(49)} - - - x`)
  assert.equal(long.appName, 'a'.repeat(49))
  assert.deepEqual(long.anomalies, ['syslog.header_field_invalid'])

  const bad = parse('<13>1 2026-13-01T00:00:00Z h a - - - x')
  assert.equal(bad.timestamp, undefined)
  assert.equal(bad.hostname, 'h')
  assert.deepEqual(bad.anomalies, ['syslog.bad_timestamp'])

  const repaired = parse('<13>1 2026-11-22t10:00:00.123456789z h a - - - x')
  assert.equal(repaired.timestamp, '2026-11-22T10:00:00.123456Z')
  assert.deepEqual(repaired.anomalies, ['syslog.bad_timestamp'])

  const leap = parse('<13>1 2026-12-31T23:59:60Z h a - - - x')
  assert.equal(leap.timestamp, undefined)
})

test('bytes and strings parse alike; trailers and BOM go; bad UTF-8 is flagged', () => {
  const line = `<13>1 - h a - - - ${BOM}héllo\r\n\0`
  assert.deepEqual(parse(line), parse(new TextEncoder().encode(line)))
  assert.equal(parse(line).message, 'héllo')
  const v = parse(Uint8Array.of(...new TextEncoder().encode('<13>1 - h a - - - x'), 0xff))
  assert.equal(v.message, 'x\uFFFD')
  assert.deepEqual(v.anomalies, ['syslog.invalid_utf8'])
  // Overlong, surrogate and beyond-U+10FFFF encodings are all invalid.
  for (const seq of [
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xe2, 0x82],
  ]) {
    const r = parse(Uint8Array.of(0x78, ...seq, 0x78))
    assert.deepEqual(r.anomalies, ['syslog.missing_pri', 'syslog.invalid_utf8'], String(seq))
  }
  assert.deepEqual(parse(Uint8Array.of(0xf0, 0x9f, 0x98, 0x80)).anomalies, ['syslog.missing_pri'])
})

test('UTF-8: each field is flagged and decoded alike wherever the bad or non-ASCII bytes sit', () => {
  const enc = new TextEncoder()
  const lenient = new TextDecoder('utf-8', { ignoreBOM: true })
  const pre = enc.encode('<13>Nov 22 10:00:00 h t: a')
  // Every 1- and 2-byte sequence, and 3-byte ones around the continuation range, inside MSG.
  const seqs: number[][] = []
  for (let x = 0; x < 256; x++) {
    seqs.push([x])
    for (let y = 0; y < 256; y++) seqs.push([x, y])
  }
  for (let x = 0xe0; x <= 0xf4; x++)
    for (const y of [0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0])
      for (const z of [0x7f, 0x80, 0xbf, 0xc0]) seqs.push([x, y, z], [x, y, z, 0x80])
  for (const seq of seqs) {
    const b = Uint8Array.of(...pre, ...seq, 0x62)
    const v = parse(b)
    const body = Uint8Array.of(0x61, ...seq, 0x62)
    assert.equal(v.anomalies.includes('syslog.invalid_utf8'), !isValidUtf8(body), String(seq))
    if (seq.every((c) => c !== 0x0a && c !== 0x0d && c !== 0)) {
      assert.equal(v.message, lenient.decode(body), String(seq))
      assert.equal(v.hostname, 'h')
      assert.equal(v.appName, 't')
    }
  }
  // Non-ASCII and bad bytes in the header fields, with an ASCII or a non-ASCII MSG.
  const host = (h: number[], m: number[]) =>
    parse(Uint8Array.of(...enc.encode('<13>Nov 22 10:00:00 '), ...h, ...enc.encode(' t: '), ...m))
  assert.equal(host([0x68, 0xc3, 0xa9], [0x6d]).hostname, 'hé')
  assert.deepEqual(host([0x68, 0xc3, 0xa9], [0x6d]).anomalies, [])
  assert.equal(host([0x68, 0xff], [0xc3, 0xa9]).hostname, 'h\uFFFD')
  assert.equal(host([0x68, 0xff], [0xc3, 0xa9]).message, 'é')
  assert.deepEqual(host([0x68, 0xff], [0xc3, 0xa9]).anomalies, ['syslog.invalid_utf8'])
})

test('RFC 3164 year: a repeated stamp follows `now` across the new year; Date or ms alike', () => {
  const line = '<13>Jun 30 12:00:00 h m'
  // Same stamp, `now` in different years: the answer must not be a stale one.
  for (const now of [
    Date.UTC(2026, 5, 30, 12),
    Date.UTC(2027, 5, 30, 12),
    Date.UTC(2026, 5, 30, 12),
  ]) {
    const year = new Date(now).getUTCFullYear()
    assert.equal(parse(line, { now }).timestamp, `${year}-06-30T12:00:00.000Z`)
    assert.equal(parse(line, { now: new Date(now) }).timestamp, `${year}-06-30T12:00:00.000Z`)
  }
  const dec = '<13>Dec 31 23:59:59 h m'
  assert.equal(
    parse(dec, { now: Date.UTC(2026, 11, 31, 23, 59, 59) }).timestamp,
    '2026-12-31T23:59:59.000Z',
  )
  assert.equal(
    parse(dec, { now: Date.UTC(2027, 0, 1, 0, 0, 1) }).timestamp,
    '2026-12-31T23:59:59.000Z',
  )
  // The sender's offset is part of the answer.
  assert.equal(
    parse(line, { now: Date.UTC(2026, 5, 30, 12), rfc3164UtcOffsetMinutes: -120 }).timestamp,
    '2026-06-30T14:00:00.000Z',
  )
  assert.equal(
    parse(line, { now: Date.UTC(2026, 5, 30, 12) }).timestamp,
    '2026-06-30T12:00:00.000Z',
  )
})

test('empty input is the only failure', () => {
  for (const line of ['', '\n', '\r\n', '\0', new Uint8Array(0)]) {
    const r = parseSyslog(line)
    assert.equal(r.ok, false)
    if (!r.ok) assert.equal(r.error.code, 'truncated')
  }
})

test('a message over MAX_SYSLOG_MESSAGE_BYTES is cut at a character boundary', () => {
  const prefix = '<13>1 - - - - - - '
  // 'é' is 2 bytes: place one across the limit so a byte cut would split it.
  const body = 'a'.repeat(MAX_SYSLOG_MESSAGE_BYTES - prefix.length - 1) + 'é'.repeat(100)
  for (const input of [prefix + body, new TextEncoder().encode(prefix + body)]) {
    const v = parse(input)
    assert.deepEqual(v.anomalies, ['syslog.message_truncated'])
    assert.ok(new TextEncoder().encode(v.message).length <= MAX_SYSLOG_MESSAGE_BYTES)
    assert.ok(v.message.endsWith('a'), 'no half character at the end')
  }
  const exact = parse(prefix + 'a'.repeat(MAX_SYSLOG_MESSAGE_BYTES - prefix.length))
  assert.deepEqual(exact.anomalies, [])
})

test('property: any bytes or string give a result, never a throw, quickly', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (b) => {
      const started = performance.now()
      parseSyslog(b, { now: NOW })
      // Generous: a GC pause on a shared CPU must not fail it; a hang still does.
      assert.ok(performance.now() - started < 250)
    }),
    { numRuns: 5_000 },
  )
  const syslogish = fc.stringMatching(
    /^<\d{1,4}>(1 )?([A-Za-z]{3}  ?\d{1,2} \d\d:\d\d:\d\d |\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ |- )?\S* \S* (\[[a-z@="\\\] ]*\])* ?.*$/,
  )
  fc.assert(
    fc.property(syslogish, (s) => {
      parseSyslog(s, { now: NOW })
    }),
    { numRuns: 5_000 },
  )
})

const logger = requireTool('logger', 'bsdutils')

test(
  'real util-linux logger over UDP: RFC 5424 and RFC 3164',
  { skip: logger.ok ? false : logger.skip },
  async () => {
    const sock = createSocket('udp4')
    const received: Buffer[] = []
    let wake: () => void = () => {}
    sock.on('message', (m) => {
      received.push(m)
      wake()
    })
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve))
    const port = String(sock.address().port)
    const run = promisify(execFile)
    const next = async (): Promise<Buffer> => {
      const deadline = Date.now() + 5_000
      while (received.length === 0) {
        if (Date.now() > deadline) throw new Error('no datagram from logger')
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, 100)
        })
      }
      const m = received.shift()
      assert.ok(m)
      return m
    }
    try {
      const args = ['-d', '-n', '127.0.0.1', '-P', port, '-t', 'tlsight-test']
      const before = Date.now()
      await run('logger', ['--rfc5424', ...args, '-p', 'local3.warning', 'hello {"a":1}'])
      const a = parse(await next(), { now: Date.now() })
      assert.equal(a.format, 'rfc5424')
      assert.equal(a.facility, 19)
      assert.equal(a.severity, 4)
      assert.equal(a.appName, 'tlsight-test')
      assert.equal(a.hostname?.split('.')[0], osHostname().split('.')[0])
      assert.equal(a.message, 'hello {"a":1}')
      assert.ok(Math.abs(Date.parse(a.timestamp ?? '') - before) < 60_000, a.timestamp)
      // logger adds RFC 5424 §7.1 timeQuality unless told not to.
      assert.equal(a.structuredData[0]?.id, 'timeQuality')
      assert.deepEqual(a.anomalies, [])

      await run('logger', [
        '--rfc5424=notq',
        ...args,
        '--msgid',
        'M1',
        '--sd-id',
        'x@32473',
        '--sd-param',
        'k="v\\]\\"q\\\\"',
        'héllo',
      ])
      const b = parse(await next(), { now: Date.now() })
      assert.equal(b.msgId, 'M1')
      assert.deepEqual(b.structuredData, [
        { id: 'x@32473', params: [{ name: 'k', value: 'v]"q\\' }] },
      ])
      assert.equal(b.message, 'héllo')

      await run('logger', ['--rfc3164', ...args, 'hello {"a":1}'])
      const rawC = await next()
      const c = parse(rawC, { now: Date.now() })
      assert.equal(c.format, 'rfc3164')
      assert.equal(c.facility, 1)
      assert.equal(c.severity, 5)
      assert.equal(c.appName, 'tlsight-test')
      assert.equal(c.message, 'hello {"a":1}')
      assert.equal(c.hostname?.split('.')[0], osHostname().split('.')[0])
      assert.deepEqual(c.anomalies, [])
      // RFC 3164 carries the sender's local time with no zone: read it with the local offset.
      const local = parse(rawC, {
        now: Date.now(),
        rfc3164UtcOffsetMinutes: -new Date().getTimezoneOffset(),
      })
      assert.ok(Math.abs(Date.parse(local.timestamp ?? '') - before) < 60_000, local.timestamp)
    } finally {
      sock.close()
    }
  },
)

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  RFC5424_MAX_APP_NAME_CHARS,
  RFC5424_MAX_HOSTNAME_CHARS,
  RFC5424_MAX_MSGID_CHARS,
  RFC5424_MAX_PROCID_CHARS,
  escapeParamValue,
  formatRfc5424,
  formatTimestamp,
  type Rfc5424Input,
} from './encode.ts'
import { parseSyslog } from './decode.ts'

const BOM = '\uFEFF'

test('RFC 5424 §6.5 examples 1-4 are reproduced byte for byte', () => {
  assert.equal(
    formatRfc5424({
      pri: { facility: 4, severity: 2 },
      timestamp: '2003-10-11T22:14:15.003Z',
      hostname: 'mymachine.example.com',
      appName: 'su',
      msgId: 'ID47',
      message: "'su root' failed for lonvick on /dev/pts/8",
      bom: 'always',
    }),
    `<34>1 2003-10-11T22:14:15.003000Z mymachine.example.com su - ID47 - ${BOM}'su root' failed for lonvick on /dev/pts/8`,
  )
  assert.equal(
    formatRfc5424({
      pri: { facility: 20, severity: 5 },
      timestamp: '2003-08-24T05:14:15.000003-07:00',
      hostname: '192.0.2.1',
      appName: 'myproc',
      procId: '8710',
      message: "%% It's time to make the do-nuts.",
    }),
    "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
  )
  const sd = {
    id: 'exampleSDID@32473',
    params: [
      { name: 'iut', value: '3' },
      { name: 'eventSource', value: 'Application' },
      { name: 'eventID', value: '1011' },
    ],
  }
  const base = {
    pri: { facility: 20, severity: 5 },
    timestamp: '2003-10-11T22:14:15.003Z',
    hostname: 'mymachine.example.com',
    appName: 'evntslog',
    msgId: 'ID47',
  }
  assert.equal(
    formatRfc5424({
      ...base,
      structuredData: [sd],
      message: 'An application event log entry...',
      bom: 'always',
    }),
    `<165>1 2003-10-11T22:14:15.003000Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] ${BOM}An application event log entry...`,
  )
  assert.equal(
    formatRfc5424({
      ...base,
      structuredData: [
        sd,
        { id: 'examplePriority@32473', params: [{ name: 'class', value: 'high' }] },
      ],
      message: '',
    }),
    '<165>1 2003-10-11T22:14:15.003000Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
  )
})

test('absent fields are NILVALUE; a BOM only before non-ASCII MSG by default', () => {
  const m: Rfc5424Input = {
    pri: { facility: 1, severity: 5 },
    timestamp: undefined,
    hostname: undefined,
    appName: '',
    message: 'plain',
  }
  assert.equal(formatRfc5424(m), '<13>1 - - - - - - plain')
  assert.equal(formatRfc5424({ ...m, message: 'héllo' }), `<13>1 - - - - - - ${BOM}héllo`)
  assert.equal(formatRfc5424({ ...m, message: 'héllo', bom: 'never' }), '<13>1 - - - - - - héllo')
  assert.equal(formatRfc5424({ ...m, bom: 'always' }), `<13>1 - - - - - - ${BOM}plain`)
})

test('PRI out of range falls back to user.notice (13)', () => {
  const m = { timestamp: undefined, hostname: undefined, appName: 'a', message: 'x' }
  assert.match(formatRfc5424({ ...m, pri: { facility: 23, severity: 7 } }), /^<191>1 /)
  assert.match(formatRfc5424({ ...m, pri: { facility: 0, severity: 0 } }), /^<0>1 /)
  assert.match(formatRfc5424({ ...m, pri: { facility: 24, severity: 8 } }), /^<13>1 /)
  assert.match(formatRfc5424({ ...m, pri: { facility: 1.5, severity: -1 } }), /^<13>1 /)
})

test('header fields keep only PRINTUSASCII and are cut to their RFC 5424 §6 limits', () => {
  const out = formatRfc5424({
    pri: { facility: 1, severity: 5 },
    timestamp: undefined,
    hostname: 'h\u00e9 st\n😀'.padEnd(300, 'x'),
    appName: 'a'.repeat(60),
    procId: 'p'.repeat(200),
    msgId: 'm m'.padEnd(40, 'm'),
    message: 'x',
  })
  const fields = out.split(' ')
  const [, , host = '', app = '', proc = '', msgId = ''] = fields
  assert.equal(host.length, RFC5424_MAX_HOSTNAME_CHARS)
  assert.ok(host.startsWith('h__st__x'), host.slice(0, 10))
  assert.equal(app, 'a'.repeat(RFC5424_MAX_APP_NAME_CHARS))
  assert.equal(proc, 'p'.repeat(RFC5424_MAX_PROCID_CHARS))
  assert.equal(msgId.length, RFC5424_MAX_MSGID_CHARS)
  assert.ok(msgId.startsWith('m_m'))
  const parsed = parseSyslog(out)
  assert.ok(parsed.ok)
  assert.deepEqual(parsed.value.anomalies, [])
})

test('SD names lose `=`, SP, `]`, `"` and are cut to 32; values escape `"`, `\\`, `]` (§6.3.3)', () => {
  assert.equal(escapeParamValue('a"b\\c]d[e'), 'a\\"b\\\\c\\]d[e')
  const out = formatRfc5424({
    pri: { facility: 1, severity: 5 },
    timestamp: undefined,
    hostname: undefined,
    appName: undefined,
    structuredData: [{ id: 'a b=c]d"e'.padEnd(40, 'z'), params: [{ name: '', value: 'q"]\\' }] }],
    message: 'm',
  })
  assert.equal(out, `<13>1 - - - - - [a_b_c_d_e${'z'.repeat(23)} _="q\\"\\]\\\\"] m`)
})

test('timestamps: Date in UTC with 6 digits, ISO strings keep their offset, bad ones are NIL', () => {
  assert.equal(
    formatTimestamp(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 67))),
    '2026-01-02T03:04:05.067000Z',
  )
  assert.equal(formatTimestamp('2026-01-02T03:04:05.123456789Z'), '2026-01-02T03:04:05.123456Z')
  assert.equal(formatTimestamp('2026-01-02t03:04:05+0530'), '2026-01-02T03:04:05+05:30')
  assert.equal(formatTimestamp('2026-01-02 03:04:05,5-00:00'), '2026-01-02T03:04:05.500000-00:00')
  assert.equal(formatTimestamp('2026-01-02T03:04:05Z'), '2026-01-02T03:04:05Z')
  assert.equal(formatTimestamp('2026-02-29T00:00:00Z'), '-')
  assert.equal(formatTimestamp('2026-12-31T23:59:60Z'), '-', 'RFC 5424 §6.2.3: no leap seconds')
  assert.equal(formatTimestamp('2026-01-02T03:04:05+24:00'), '-')
  assert.equal(formatTimestamp('yesterday'), '-')
  assert.equal(formatTimestamp(new Date(Number.NaN)), '-')
  assert.equal(formatTimestamp(new Date(Date.UTC(10000, 0, 1))), '-')
  assert.equal(formatTimestamp(undefined), '-')
})

const printAscii = fc.string({
  unit: fc.integer({ min: 33, max: 126 }).map((c) => String.fromCharCode(c)),
  minLength: 1,
})
const field = (max: number) =>
  fc.option(
    printAscii.filter((s) => s !== '-' && s.length <= max),
    { nil: undefined },
  )
const sdName = fc.string({
  unit: fc
    .integer({ min: 33, max: 126 })
    .filter((c) => c !== 0x3d && c !== 0x5d && c !== 0x22)
    .map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 32,
})
const text = fc.string({ unit: 'grapheme' })

test('property: parseSyslog(formatRfc5424(x)) gives x back, with no anomaly', () => {
  fc.assert(
    fc.property(
      fc.record({
        facility: fc.integer({ min: 0, max: 23 }),
        severity: fc.integer({ min: 0, max: 7 }),
        ms: fc.integer({ min: 0, max: 253_402_300_799_999 }),
        hostname: field(RFC5424_MAX_HOSTNAME_CHARS),
        appName: field(RFC5424_MAX_APP_NAME_CHARS),
        procId: field(RFC5424_MAX_PROCID_CHARS),
        msgId: field(RFC5424_MAX_MSGID_CHARS),
        sd: fc.array(
          fc.record({
            id: sdName,
            params: fc.array(fc.record({ name: sdName, value: text }), { maxLength: 4 }),
          }),
          { maxLength: 4 },
        ),
        // A trailing CR / LF / NUL is taken for a datagram trailer by the parser.
        message: text.filter((s) => !/[\r\n\0]$/.test(s)),
      }),
      (x) => {
        // Plain objects (fast-check records have a null prototype); one element per SD-ID.
        const sd = x.sd
          .filter((e, i) => x.sd.findIndex((o) => o.id === e.id) === i)
          .map((e) => ({
            id: e.id,
            params: e.params.map((p) => ({ name: p.name, value: p.value })),
          }))
        const line = formatRfc5424({
          pri: { facility: x.facility, severity: x.severity },
          timestamp: new Date(x.ms),
          hostname: x.hostname,
          appName: x.appName,
          procId: x.procId,
          msgId: x.msgId,
          structuredData: sd,
          message: x.message,
        })
        const r = parseSyslog(line)
        assert.ok(r.ok)
        const v = r.value
        assert.deepEqual(v.anomalies, [])
        assert.equal(v.format, 'rfc5424')
        assert.equal(v.facility, x.facility)
        assert.equal(v.severity, x.severity)
        assert.equal(Date.parse(v.timestamp ?? ''), x.ms)
        assert.equal(v.hostname, x.hostname)
        assert.equal(v.appName, x.appName)
        assert.equal(v.procId, x.procId)
        assert.equal(v.msgId, x.msgId)
        assert.deepEqual(v.structuredData, sd)
        assert.equal(v.message, x.message)
      },
    ),
    { numRuns: 2_000 },
  )
})

test('property: any field values give a well-formed header (PRINTUSASCII, within limits)', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'binary' }),
      (a, b, c) => {
        const line = formatRfc5424({
          pri: { facility: 3, severity: 3 },
          timestamp: a,
          hostname: a,
          appName: b,
          procId: c,
          msgId: a + b,
          structuredData: [{ id: b, params: [{ name: c, value: a }] }],
          message: c,
        })
        const r = parseSyslog(line)
        assert.ok(r.ok)
        const bad = r.value.anomalies.filter((x) => x !== 'syslog.invalid_utf8')
        assert.deepEqual(bad, [], line)
      },
    ),
    { numRuns: 2_000 },
  )
})

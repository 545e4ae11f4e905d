/**
 * Fuzz targets for the syslog codec: `parseSyslog` on mutated messages, and `SyslogTcpFramer`
 * (both framings) on mutated streams in random chunks, each frame parsed. Any throw is a bug, as
 * is a frame above the limit or a buffer past it.
 */
import {
  SyslogTcpFramer,
  formatRfc5424,
  octetCountFrame,
  parseSyslog,
} from '../../src/protocols/syslog/index.ts'
import { chunks } from './mutate.ts'
import type { Target } from './targets.ts'

const enc = new TextEncoder()
const NOW = Date.UTC(2026, 10, 22, 12)
/** A small frame limit so mutated length prefixes reach the oversize paths often. */
const FUZZ_MAX_FRAME_BYTES = 512

const MESSAGES = [
  `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] \uFEFFAn application event log entry...`,
  '<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% do-nuts.',
  '<13>1 - h a - - [a k="q\\"x\\\\y\\]z" k="\\n"][b@1 k="a]b"] m',
  "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
  '<190>Nov  2 10:00:00 nginx: 1.2.3.4 - - "GET / HTTP/1.1" 200 5',
  '<38>Feb 29 03:04:05.123 host postfix/smtpd[1234]: connect',
  '<13>2026-11-22T10:00:00.123456+01:00 host app[7]: hello',
  '{"ts":"2026-11-22T10:00:00Z","ja4":"t13d1516h2_8daaf6152771_e5627efa2ab1"}',
  formatRfc5424({
    pri: { facility: 16, severity: 6 },
    timestamp: new Date(NOW),
    hostname: 'sensor-1',
    appName: 'tlsight',
    msgId: 'tls',
    structuredData: [{ id: 'tls@32473', params: [{ name: 'sni', value: 'a"]\\b' }] }],
    message: 'héllo',
  }),
].map((m) => enc.encode(m))

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

const LF = Uint8Array.of(0x0a)
const STREAMS = [
  concat(MESSAGES.flatMap((m, i) => (i % 2 === 0 ? [octetCountFrame(m)] : [m, LF]))),
  concat(MESSAGES.flatMap((m) => [m, Uint8Array.of(0x0d, 0x0a)])),
  concat([octetCountFrame(new Uint8Array(600).fill(0x41)), ...MESSAGES.map(octetCountFrame)]),
]

function parse(frame: Uint8Array): void {
  const r = parseSyslog(frame, { now: NOW })
  if (r.ok && r.value.message.length > frame.length) throw new Error('message longer than frame')
}

export const syslogTargets: Target[] = [
  {
    name: 'syslog-message',
    seeds: MESSAGES,
    run: (input) => {
      parse(input)
      // The string entry point must agree with the bytes one on valid UTF-8.
      parseSyslog(new TextDecoder().decode(input), { now: NOW })
    },
  },
  {
    name: 'syslog-tcp-stream',
    seeds: STREAMS,
    run: (input, rng) => {
      const framer = new SyslogTcpFramer({
        maxFrameBytes: FUZZ_MAX_FRAME_BYTES,
        octetCounting: rng.int(4) !== 0,
      })
      const check = (frames: Uint8Array[]) => {
        for (const f of frames) {
          if (f.length === 0 || f.length > FUZZ_MAX_FRAME_BYTES) {
            throw new Error(`frame of ${f.length} bytes`)
          }
          parse(f)
        }
      }
      for (const c of chunks(input, rng)) {
        check(framer.push(c))
        if (framer.bufferedBytes > FUZZ_MAX_FRAME_BYTES + 1) {
          throw new Error(`framer holds ${framer.bufferedBytes} bytes`)
        }
      }
      check(framer.end())
    },
  },
]

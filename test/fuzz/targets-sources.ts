/**
 * Fuzz targets for the log collector's pure half: `decodeMessage` on mutated datagrams (nginx,
 * Apache, Caddy, Cloudflare, our own events; bare, NDJSON and syslog-wrapped), the stream path
 * (`SyslogTcpFramer` in random chunks, each frame decoded), and `recordToEvent` on records whose
 * fields are swapped for values of every type. Any throw is a bug, and so is an event that breaks
 * the schema's invariants (address not canonical, port or status out of range, bad time, a text
 * field over its limit) or a message that yields neither an event nor a drop.
 */
import {
  SyslogTcpFramer,
  formatRfc5424,
  octetCountFrame,
} from '../../src/protocols/syslog/index.ts'
import { decodeMessage, type DecodeOutcome } from '../../src/sources/decode.ts'
import {
  MAX_FINGERPRINT_TEXT_CHARS,
  MAX_HOST_CHARS,
  MAX_METHOD_CHARS,
  MAX_NAME_CHARS,
  MAX_PATH_CHARS,
  MAX_USER_AGENT_CHARS,
  recordToEvent,
} from '../../src/sources/mapping.ts'
import type { CollectedEvent } from '../../src/sources/stats.ts'
import { canonicalIp } from '../../src/sources/trust.ts'
import { chunks } from './mutate.ts'
import type { Rng } from './rng.ts'
import type { Target } from './targets.ts'

const enc = new TextEncoder()
const NOW = new Date(Date.UTC(2026, 10, 22, 12))
/** A small record limit so mutated inputs reach the oversize paths. */
const FUZZ_MAX_RECORD_BYTES = 2_048
const CTX = { source: 'fuzz', sensor: 'fuzz', now: NOW, maxRecordBytes: FUZZ_MAX_RECORD_BYTES }

const NGINX =
  '{"msec":"1795361013.638","remote_addr":"127.0.0.1","remote_port":"57318","server_addr":"127.0.0.1","server_port":"18080","host":"a.example","request_method":"GET","request_uri":"/a?b=1","status":"200","http_user_agent":"Mozilla/5.0 \\"q\\"","request_time":"0.012","ssl_protocol":"TLSv1.3","ssl_server_name":"a.example","ja4":"t13d1516h2_8daaf6152771_e5627efa2ab1"}'
const APACHE =
  '{"time_us":1795361030936407,"remote_ip":"::ffff:192.0.2.1","remote_port":36970,"local_ip":"127.0.0.1","local_port":18081,"host":"h:1","method":"GET","uri":"/i?x=1","status":200,"user_agent":"ua \\x01\\xc3\\xa9","duration_us":206,"tls_protocol":"TLSv1.2","tls_sni":"-"}'
const CADDY =
  '{"level":"info","ts":1795361057.3340983,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"2001:db8::1","remote_port":"50672","proto":"HTTP/2.0","method":"POST","host":"c","uri":"/p","headers":{"User-Agent":["x/1"]},"tls":{"version":772,"server_name":"c"}},"duration":"1.5ms","status":0}'
const CLOUDFLARE =
  '{"ClientIP":"198.51.100.1","ClientSrcPort":1,"ClientRequestHost":"w","ClientRequestMethod":"GET","ClientRequestURI":"/","EdgeResponseStatus":200,"EdgeStartTimestamp":1795361057334098123,"EdgeEndTimestamp":"2026-11-22T12:00:00Z","JA3Hash":"cd08e31494f9531f560d64c695473da9","tls_client_ciphers_sha1":"GXSPDLP4G3X+prK73a4wBuOaHRc=","tls_client_hello_length":"508","ClientSSLProtocol":"none"}'
const TLS =
  '{"type":"tls","ts":"2026-11-22T10:00:00.000001Z","sensor":"s","src_ip":"192.0.2.1","src_port":5,"dst_ip":"192.0.2.2","dst_port":443,"transport":"quic","alpn":["h3"],"resumption":["psk"],"certs":[{"role":"server","index":0,"subject":"CN=a","issuer":"CN=b","sans":["a"],"not_before":"2026-01-01T00:00:00Z","not_after":null,"serial":"01","sha256":"' +
  'ab'.repeat(32) +
  '","self_signed":false}],"anomalies":["x"]}'
const HTTP =
  '{"type":"http","ts":"2026-11-22T10:00:00.123456Z","sensor":"e","source":"capture","src_ip":"192.0.2.10","src_port":50000,"dst_ip":null,"dst_port":null,"host":"h","method":"GET","path":"/","status":null,"user_agent":null,"request_time_ms":null,"ja4h":null,"tfh":"1a"}'
const RECORDS = [NGINX, APACHE, CADDY, CLOUDFLARE, TLS, HTTP]
/** APACHE holds `\\xHH` escapes, which only the decoder's fallback reads. */
const JSON_RECORDS = [NGINX, CADDY, CLOUDFLARE, TLS, HTTP]

const MESSAGES = [
  ...RECORDS,
  `<190>Nov 22 15:23:33 web1 nginx: ${NGINX}`,
  `<13>Nov 22 15:23:36 apache: ${APACHE}\n`,
  `<13>Nov 22 15:23:36 host app: @cee: ${CADDY}`,
  formatRfc5424({
    pri: { facility: 16, severity: 6 },
    timestamp: '2026-11-22T13:00:00.123456+01:00',
    hostname: 'web2',
    appName: 'tlsight',
    msgId: 'tls',
    message: TLS,
  }),
  `[${NGINX},${CLOUDFLARE}]`,
  `${NGINX}\n${CADDY}\r\n\nnot json\n${HTTP}`,
  '<13>garbage',
].map((m) => enc.encode(m))

const LF = Uint8Array.of(0x0a)
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
const STREAMS = [
  concat(MESSAGES.flatMap((m, i) => (i % 2 === 0 ? [octetCountFrame(m)] : [m, LF]))),
  concat(RECORDS.flatMap((r) => [enc.encode(r), LF])),
]

const ISO_US = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/

function fail(why: string, e: unknown): never {
  throw new Error(`${why}: ${JSON.stringify(e).slice(0, 500)}`)
}

function port(p: number | null, e: CollectedEvent): void {
  if (p !== null && (!Number.isInteger(p) || p < 0 || p > 65_535)) fail('port', e)
}

function text(s: string | null, max: number, e: CollectedEvent): void {
  if (s !== null && s.length > max) fail(`text over ${max}`, e)
}

/** The invariants every event leaving the collector keeps. */
function checkEvent(e: CollectedEvent): void {
  if (!ISO_US.test(e.ts) || Number.isNaN(Date.parse(e.ts))) fail('ts', e)
  if (canonicalIp(e.src_ip) !== e.src_ip) fail('src_ip not canonical', e)
  if (e.dst_ip !== null && canonicalIp(e.dst_ip) !== e.dst_ip) fail('dst_ip not canonical', e)
  port(e.src_port, e)
  port(e.dst_port, e)
  text(e.sensor, MAX_NAME_CHARS, e)
  text(e.sni, MAX_HOST_CHARS, e)
  if (e.ja3 !== null && !/^[0-9a-f]{32}$/.test(e.ja3)) fail('ja3', e)
  if (e.type === 'http') {
    if (e.status !== null && (!Number.isInteger(e.status) || e.status < 100 || e.status > 999))
      fail('status', e)
    if (e.method.length === 0 || e.method.length > MAX_METHOD_CHARS) fail('method', e)
    text(e.path, MAX_PATH_CHARS, e)
    text(e.host, MAX_HOST_CHARS, e)
    text(e.user_agent, MAX_USER_AGENT_CHARS, e)
    if (e.request_time_ms !== null && !(e.request_time_ms >= 0)) fail('request_time_ms', e)
  } else {
    for (const s of [e.ja3_str, e.ja4, e.ja4_r]) text(s, MAX_FINGERPRINT_TEXT_CHARS, e)
    if (e.alpn.length > 256 || e.anomalies.length > 256) fail('list length', e)
  }
}

function check(out: DecodeOutcome): void {
  if (out.events.length + out.drops.length === 0) fail('message yielded nothing', out)
  for (const e of out.events) checkEvent(e)
}

/** Values of every JSON type, odd numbers and long or strange strings. */
function randomValue(rng: Rng, input: Uint8Array): unknown {
  switch (rng.int(12)) {
    case 0:
      return null
    case 1:
      return rng.pick([0, -1, 1.5, 65_535, 65_536, 1e300, -0, 2 ** 53, 1e18, 1e11, 99_999])
    case 2:
      return rng.pick(['', '-', ' ', '0', '200', '1e3', 'NaN', '::', '::ffff:1.2.3.4', '[::1]'])
    case 3:
      return rng.pick([true, false])
    case 4:
      return []
    case 5:
      return { a: 1, User_Agent: ['x'] }
    case 6:
      return 'x'.repeat(rng.pick([31, 32, 33, 300, 8_193, 20_000]))
    case 7:
      return '\ud83d'.repeat(1 + rng.int(3)) + 'é\u0000"\\'
    case 8:
      return rng.pick([
        '2026-02-29T00:00:00Z',
        '29/Feb/2026:00:00:00 +0000',
        '9999-12-31T23:59:60Z',
      ])
    case 9:
      return [rng.pick(['a', 1, null]), 'b']
    default:
      return new TextDecoder().decode(input.subarray(0, 1 + rng.int(64)))
  }
}

const KEYS = [
  'type',
  'src_ip',
  'remote_addr',
  'remote_port',
  'request_method',
  'method',
  'path',
  'request_uri',
  'request',
  'status',
  'ts',
  'msec',
  'time_local',
  'http_user_agent',
  'ja3',
  'ja4',
  'hello_length',
  'tls_client_hello_length',
  'ssl_protocol',
  'duration',
  'request_time',
  'EdgeStartTimestamp',
  'EdgeEndTimestamp',
  'alpn',
  'certs',
  'transport',
  'dst_port',
  'sensor',
  'source',
  '__proto__',
  'constructor',
]

export const sourceTargets: Target[] = [
  {
    name: 'sources-message',
    seeds: MESSAGES,
    run: (input) => check(decodeMessage(input, CTX)),
  },
  {
    name: 'sources-stream',
    seeds: STREAMS,
    run: (input, rng) => {
      const framer = new SyslogTcpFramer({ maxFrameBytes: FUZZ_MAX_RECORD_BYTES })
      for (const c of chunks(input, rng))
        for (const f of framer.push(c)) check(decodeMessage(f, CTX))
      for (const f of framer.end()) check(decodeMessage(f, CTX))
    },
  },
  {
    name: 'sources-record',
    seeds: RECORDS.map((r) => enc.encode(r)),
    run: (input, rng) => {
      let rec: unknown
      try {
        rec = JSON.parse(new TextDecoder().decode(input))
      } catch {
        rec = JSON.parse(rng.pick(JSON_RECORDS))
      }
      if (typeof rec === 'object' && rec !== null && !Array.isArray(rec)) {
        const o: Record<string, unknown> = { ...rec }
        for (let i = rng.int(5); i >= 0; i--) {
          const k = rng.pick(KEYS)
          if (rng.int(5) === 0) Reflect.deleteProperty(o, k)
          else
            Object.defineProperty(o, k, {
              value: randomValue(rng, input),
              enumerable: true,
              writable: true,
              configurable: true,
            })
        }
        rec = o
      }
      const r = recordToEvent(rec, CTX)
      if (r.ok) checkEvent(r.event)
    },
  },
]

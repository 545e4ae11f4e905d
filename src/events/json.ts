/**
 * @module events/json
 * Hand-written JSON for the hot output path (field order of the event type), several times
 * faster than `JSON.stringify` because most fields are known to need no escaping, and always
 * printable ASCII.
 */
import type { CertInfo, TlsEvent } from './tls.ts'
import type { CaptureEvent } from './capture.ts'
import { HTTP_EVENT_FIELDS } from './http.ts'
import { TCP_EVENT_FIELDS } from './tcp.ts'

const HEX = '0123456789abcdef'

/**
 * A JSON string literal in printable ASCII: quote, backslash, control characters and everything
 * outside 0x20–0x7e are `\\uXXXX` escapes (lone surrogates included), so every line we write is
 * ASCII and can be encoded byte for byte. Scans once; clean strings are returned as they are.
 */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return escaped(s, i)
  }
  return '"' + s + '"'
}

function escaped(s: string, from: number): string {
  let out = '"' + s.slice(0, from)
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22) out += '\\"'
    else if (c === 0x5c) out += '\\\\'
    else if (c < 0x20 || c > 0x7e) {
      out +=
        '\\u' +
        (HEX[c >> 12] ?? '') +
        (HEX[(c >> 8) & 15] ?? '') +
        (HEX[(c >> 4) & 15] ?? '') +
        (HEX[c & 15] ?? '')
    } else out += s[i]
  }
  return out + '"'
}

function str(s: string | null): string {
  return s === null ? 'null' : jsonString(s)
}

/**
 * A field the engine builds from numbers only (timestamp, addresses, version names, fingerprint
 * strings and digests): printable ASCII without quote or backslash, so it is written unscanned.
 */
function machine(s: string | null): string {
  return s === null ? 'null' : '"' + s + '"'
}

function strList(xs: readonly string[]): string {
  if (xs.length === 0) return '[]'
  let out = '['
  for (let i = 0; i < xs.length; i++) out += (i === 0 ? '' : ',') + jsonString(xs[i] ?? '')
  return out + ']'
}

/**
 * A `tls` event as one line of printable-ASCII JSON (`JSON.parse` gives the event back; the text
 * equals `JSON.stringify(e)` whenever the event's strings are printable ASCII) built by the engine (field order as in `TlsEvent`).
 * Only the fields that carry bytes from the wire (`sni`, `alpn`) and `anomalies` are escaped;
 * events from any other source must go through `JSON.stringify`.
 */
export function tlsEventJson(e: TlsEvent): string {
  return (
    `{"type":"tls","ts":${machine(e.ts)},"sensor":${str(e.sensor)},"src_ip":${machine(e.src_ip)}` +
    `,"src_port":${e.src_port}` +
    `,"dst_ip":${machine(e.dst_ip)},"dst_port":${e.dst_port},"transport":${machine(e.transport)}` +
    `,"hello_index":${e.hello_index},"sni":${str(e.sni)},"alpn":${strList(e.alpn)}` +
    `,"tls_version":${machine(e.tls_version)}` +
    `,"tls_version_negotiated":${machine(e.tls_version_negotiated)}` +
    `,"ja3":${machine(e.ja3)},"ja3_str":${machine(e.ja3_str)},"ja4":${machine(e.ja4)}` +
    `,"ja4_r":${machine(e.ja4_r)},"ja4_o":${machine(e.ja4_o)},"ja4_ro":${machine(e.ja4_ro)}` +
    `,"ja4_stable":${machine(e.ja4_stable)},"resumption":${strList(e.resumption)}` +
    `,"ja3s":${machine(e.ja3s)},"ja3s_str":${machine(e.ja3s_str)},"ja4s":${machine(e.ja4s)}` +
    `,"ja4s_r":${machine(e.ja4s_r)},"ja4t":${machine(e.ja4t)},"ja4ts":${machine(e.ja4ts)}` +
    `,"ja4l_c":${machine(e.ja4l_c)},"ja4l_s":${machine(e.ja4l_s)},"tft":${machine(e.tft)}` +
    `,"tft_stable":${machine(e.tft_stable)},"cf_ciphers_sha1":${machine(e.cf_ciphers_sha1)}` +
    `,"cf_extensions_sha1":${machine(e.cf_extensions_sha1)},"hello_length":${e.hello_length ?? 'null'}` +
    `,"certs":${e.certs.length === 0 ? '[]' : certsJson(e.certs)},"anomalies":${strList(e.anomalies)}}`
  )
}

/**
 * Serialized certificates by object: the engine hands out the same `CertInfo` object each time a
 * chain comes back (see pipeline/certificates.ts), and events are not modified once emitted.
 */
const certJsonCache = new WeakMap<CertInfo, string>()

/** Certificates carry wire text (names, SANs): escaped through the general path, then cached. */
function certsJson(certs: readonly CertInfo[]): string {
  let out = '['
  for (let i = 0; i < certs.length; i++) {
    const c = certs[i]
    if (c === undefined) continue
    let json = certJsonCache.get(c)
    if (json === undefined) {
      json = asciiJson(JSON.stringify(c))
      certJsonCache.set(c, json)
    }
    out += (i === 0 ? '' : ',') + json
  }
  return out + ']'
}

/** Any JSON text made printable ASCII: characters past 0x7e become `\\uXXXX` escapes. */
function asciiJson(json: string): string {
  return /[\u007f-\uffff]/.test(json)
    ? json.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
    : json
}

/** A value of a flat event: strings scanned and escaped, numbers, null, lists, else JSON. */
function valueJson(v: unknown): string {
  if (typeof v === 'string') return jsonString(v)
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null'
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return strList(v)
  return asciiJson(JSON.stringify(v))
}

/**
 * An event as printable-ASCII JSON with the keys of `fields`, in that order (the schema's field
 * list); equal to `JSON.stringify` of the event when its strings are printable ASCII.
 */
export function fieldsJson(e: object, fields: readonly string[]): string {
  let out = '{'
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] ?? ''
    out += (i === 0 ? '"' : ',"') + f + '":' + valueJson(Reflect.get(e, f))
  }
  return out + '}'
}

/**
 * One JSON line of any capture event, printable ASCII. `tls` events (the bulk of most captures)
 * take the hand-written path; the others are written field by field in schema order.
 */
export function captureEventJson(e: CaptureEvent): string {
  if (e.type === 'tls') return tlsEventJson(e)
  return fieldsJson(e, e.type === 'http' ? HTTP_EVENT_FIELDS : TCP_EVENT_FIELDS)
}

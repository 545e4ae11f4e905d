/**
 * @module protocols/http/request
 * Cleartext HTTP/1.x request heads (RFC 9112): a cheap sniffing test, a parser for one complete
 * head, and an incremental stream that follows a client direction across keep-alive and pipelined
 * requests by skipping their bodies. Nothing here throws on wire bytes; malformed input becomes
 * anomalies, a failed `ParseResult`, or a stream that stops following the connection.
 */

import type { ParseResult } from '../../bytes/reader.ts'
import type { HttpAnomaly, HttpHeader, HttpRequest } from './types.ts'

/** A head longer than this (request line, fields, final empty line) stops the stream. */
export const MAX_HTTP_HEAD_BYTES = 16_384
/** Header fields kept per request; more are counted as `http.too_many_headers` and dropped. */
export const MAX_HTTP_HEADERS = 100
/** Requests followed on one connection before the stream gives up. */
export const MAX_HTTP_REQUESTS_PER_CONNECTION = 1_000
/** Longest method token accepted by `looksLikeHttpRequest`. */
export const MAX_HTTP_METHOD_BYTES = 20
/** How far into the request line `looksLikeHttpRequest` checks for printable text. */
export const HTTP_SNIFF_WINDOW_BYTES = 256
/** A chunk-size line (size plus chunk extensions, RFC 9112 §7.1.1) longer than this is bad. */
export const MAX_HTTP_CHUNK_LINE_BYTES = 1_024
/** Trailer section after the last chunk (RFC 9112 §7.1.2). */
export const MAX_HTTP_TRAILER_BYTES = 16_384

const CR = 0x0d
const LF = 0x0a
const SP = 0x20
const HTAB = 0x09
const COLON = 0x3a
// 13 hex digits stay below 2^53, so chunk sizes remain exact integers.
const MAX_CHUNK_SIZE_HEX_DIGITS = 13
// 15 decimal digits stay below 2^53.
const MAX_CONTENT_LENGTH_DIGITS = 15

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" /
// "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = new Uint8Array(256)
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1

function isTchar(c: number): boolean {
  return TCHAR[c] === 1
}

// HACK: registered methods are upper-case (RFC 9110 §9.1 and the IANA method registry), so
// sniffing accepts only [A-Z][A-Z0-9_-]*: enough for GET … M-SEARCH, and it keeps random binary,
// TLS records (first byte 0x14–0x17) and SSH banners ("SSH-2.0-…", with '.') out.
function isSniffMethodChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f
}

type Sniff = 'yes' | 'no' | 'more'

/** Classifies the bytes at `start` as the beginning of a request line. */
function sniff(b: Uint8Array, start: number, end: number): Sniff {
  if (start >= end) return 'more'
  const first = b[start] ?? 0
  if (first < 0x41 || first > 0x5a) return 'no'
  let i = start + 1
  while (i < end && b[i] !== SP) {
    if (!isSniffMethodChar(b[i] ?? 0) || i - start >= MAX_HTTP_METHOD_BYTES) return 'no'
    i++
  }
  if (i >= end) return 'more'
  i++ // the SP after the method
  if (i >= end) return 'more'
  // First byte of the request-target (RFC 9112 §3.2): '/', '*', a scheme or an authority.
  const t = b[i] ?? 0
  if (t < 0x21 || t > 0x7e) return 'no'
  const stop = Math.min(end, start + HTTP_SNIFF_WINDOW_BYTES)
  let lastSp = i - 1
  for (; i < stop; i++) {
    const c = b[i] ?? 0
    if (c === CR || c === LF) {
      // The whole request line is here: it must end in an HTTP-version (RFC 9112 §2.3).
      return startsWithHttpSlash(b, lastSp + 1, i) ? 'yes' : 'no'
    }
    if (c === SP) lastSp = i
    else if (c < 0x20 || c > 0x7e) return 'no'
  }
  return 'yes'
}

function startsWithHttpSlash(b: Uint8Array, s: number, e: number): boolean {
  return (
    e - s >= 5 &&
    b[s] === 0x48 &&
    b[s + 1] === 0x54 &&
    b[s + 2] === 0x54 &&
    b[s + 3] === 0x50 &&
    b[s + 4] === 0x2f
  )
}

/**
 * Cheap test of whether the bytes at `offset` start a cleartext HTTP request: an upper-case method
 * token of 1–20 characters, SP, a printable request-target and, if the line ends within the first
 * 256 bytes, an `HTTP/` version. Used to decide whether a TCP client stream carries HTTP.
 * @example looksLikeHttpRequest(new TextEncoder().encode('GET / HTTP/1.1\r\n'), 0) // true
 */
export function looksLikeHttpRequest(bytes: Uint8Array, offset: number): boolean {
  return sniff(bytes, Math.max(0, offset), bytes.length) === 'yes'
}

/**
 * End (exclusive) of the head: the index after the LF that closes the empty line, or -1. Scans
 * LFs in [from, end); the look-back for the line ends before an LF stays at or after `start`.
 * A line end is CRLF or a bare LF (RFC 9112 §2.2 lets a recipient accept the latter).
 */
function findHeadEnd(b: Uint8Array, start: number, from: number, end: number): number {
  for (let p = b.indexOf(LF, from); p !== -1 && p < end; p = b.indexOf(LF, p + 1)) {
    if (p - 1 >= start && b[p - 1] === LF) return p + 1
    if (p - 2 >= start && b[p - 1] === CR && b[p - 2] === LF) return p + 1
  }
  return -1
}

/** Latin-1 text of b[s..e) (RFC 9110 §5.5: field values may carry obs-text bytes). */
function latin1(b: Uint8Array, s: number, e: number): string {
  // Short tokens (methods, header names) are cheaper built here than through a Buffer view.
  if (e - s <= 32) {
    let out = ''
    for (let i = s; i < e; i++) out += String.fromCharCode(b[i] ?? 0)
    return out
  }
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1')
}

function isOws(c: number | undefined): boolean {
  return c === SP || c === HTAB
}

function addAnomaly(list: HttpAnomaly[], a: HttpAnomaly): void {
  if (!list.includes(a)) list.push(a)
}

/** How the message body after a request head is delimited (RFC 9112 §6.3). */
type BodyFraming = { kind: 'length'; bytes: number } | { kind: 'chunked' } | { kind: 'unknown' }

interface ParsedHead {
  request: HttpRequest
  framing: BodyFraming
}

/** `HTTP/1.1` → 11, `HTTP/2` → 20; 0 for anything else after `HTTP/`. */
function parseVersion(b: Uint8Array, s: number, e: number): number {
  const digit = (i: number): number => {
    const c = b[i] ?? 0
    return c >= 0x30 && c <= 0x39 ? c - 0x30 : -1
  }
  const major = digit(s + 5)
  if (major < 0) return 0
  if (e - s === 6) return major * 10
  if (e - s === 8 && b[s + 6] === 0x2e) {
    const minor = digit(s + 7)
    if (minor >= 0) return major * 10 + minor
  }
  return 0
}

/** Lower case for comparing with ASCII names (non-ASCII letters never equal those anyway). */
function lowerAscii(s: string): string {
  return s.toLowerCase()
}

/** RFC 9112 §6.3 for a request: Transfer-Encoding first, then Content-Length, else no body. */
function bodyFraming(req: HttpRequest): BodyFraming {
  let te: string | undefined
  const lengths: string[] = []
  for (const h of req.headers) {
    const n = lowerAscii(h.name)
    if (n === 'transfer-encoding') te = te === undefined ? h.value : `${te},${h.value}`
    else if (n === 'content-length') lengths.push(h.value)
  }
  if (te !== undefined) {
    if (lengths.length > 0) addAnomaly(req.anomalies, 'http.transfer_encoding_with_content_length')
    const codings = te.split(',').map((c) => lowerAscii(c.trim()))
    const last = codings.filter((c) => c !== '').pop()
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (last === 'chunked' && req.version !== 10) return { kind: 'chunked' }
    addAnomaly(req.anomalies, 'http.unknown_body_length')
    return { kind: 'unknown' }
  }
  if (lengths.length === 0) return { kind: 'length', bytes: 0 }
  // RFC 9110 §8.6: a list of identical values ("42, 42") may stand for one.
  let value = -1
  for (const field of lengths) {
    for (const part of field.split(',')) {
      const v = part.trim()
      if (!/^[0-9]+$/.test(v) || v.length > MAX_CONTENT_LENGTH_DIGITS) value = -2
      else if (value === -1) value = Number(v)
      else if (value !== Number(v)) value = -2
      if (value === -2) {
        addAnomaly(req.anomalies, 'http.bad_content_length')
        return { kind: 'unknown' }
      }
    }
  }
  return { kind: 'length', bytes: Math.max(0, value) }
}

function fail(
  code: 'truncated' | 'bad_value' | 'limit_exceeded',
  offset: number,
  context: string,
): ParseResult<never> {
  return { ok: false, error: { code, offset, context } }
}

/**
 * Parses the head that starts at `b[start]` and ends (exclusive) at `end`, the index after the
 * LF of the empty line. Leading empty lines must already be skipped.
 */
function parseHeadAt(b: Uint8Array, start: number, end: number): ParseResult<ParsedHead> {
  const anomalies: HttpAnomaly[] = []
  // Line ends: index of LF, content end (before a CR).
  let lineStart = start
  let lf = b.indexOf(LF, lineStart)
  if (lf === -1 || lf >= end) return fail('truncated', start, 'http request line')
  const lineEnd = (at: number): number => {
    if (at > lineStart && b[at - 1] === CR) return at - 1
    addAnomaly(anomalies, 'http.bare_lf')
    return at
  }

  // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
  let le = lineEnd(lf)
  let i = lineStart
  while (i < le && isTchar(b[i] ?? 0)) i++
  if (i === lineStart || b[i] !== SP) return fail('bad_value', i, 'http method')
  const method = latin1(b, lineStart, i)
  let ts = i + 1
  if (b[ts] === SP) {
    addAnomaly(anomalies, 'http.bad_request_line')
    while (ts < le && b[ts] === SP) ts++
  }
  const lastSp = b.lastIndexOf(SP, le - 1)
  if (lastSp < ts || !startsWithHttpSlash(b, lastSp + 1, le)) {
    // HTTP/0.9 simple requests (no version) and non-HTTP text end up here.
    return fail('bad_value', lineStart, 'http request line')
  }
  let te = lastSp
  while (te > ts && b[te - 1] === SP) te--
  if (te !== lastSp) addAnomaly(anomalies, 'http.bad_request_line')
  // HACK: a target with spaces ("GET /Hello Arkime HTTP/1.0") is kept whole: the version is the
  // last token, as lenient servers read it.
  if (b.subarray(ts, te).includes(SP)) addAnomaly(anomalies, 'http.bad_request_line')
  const target = latin1(b, ts, te)
  const version = parseVersion(b, lastSp + 1, le)
  if (version === 0) addAnomaly(anomalies, 'http.bad_request_line')

  // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS, up to the empty line.
  const headers: HttpHeader[] = []
  let previous: HttpHeader | undefined
  let first = true
  for (;;) {
    lineStart = lf + 1
    lf = b.indexOf(LF, lineStart)
    if (lf === -1 || lf >= end) return fail('truncated', lineStart, 'http header section')
    le = lineEnd(lf)
    if (le === lineStart) break
    const c0 = b[lineStart]
    if (isOws(c0)) {
      if (first) {
        // RFC 9112 §2.2: whitespace between the start-line and the first field is invalid.
        addAnomaly(anomalies, 'http.bad_header_line')
      } else {
        // RFC 9112 §5.2: obs-fold continues the previous value; replace it with one SP.
        addAnomaly(anomalies, 'http.obsolete_line_folding')
        if (previous !== undefined) {
          const more = trimmed(b, lineStart, le)
          if (more !== '')
            previous.value = previous.value === '' ? more : `${previous.value} ${more}`
        }
      }
      continue
    }
    first = false
    const colon = b.indexOf(COLON, lineStart)
    if (colon === -1 || colon >= le || colon === lineStart) {
      addAnomaly(anomalies, 'http.bad_header_line')
      previous = undefined
      continue
    }
    for (let k = lineStart; k < colon; k++) {
      if (!isTchar(b[k] ?? 0)) {
        // RFC 9112 §5.1: no whitespace before the colon; the name is still kept as sent.
        addAnomaly(anomalies, 'http.bad_header_line')
        break
      }
    }
    if (headers.length >= MAX_HTTP_HEADERS) {
      addAnomaly(anomalies, 'http.too_many_headers')
      previous = undefined
      continue
    }
    previous = { name: latin1(b, lineStart, colon), value: trimmed(b, colon + 1, le) }
    headers.push(previous)
  }

  const request: HttpRequest = {
    method,
    target,
    version,
    headers,
    headLength: end - start,
    anomalies,
  }
  return { ok: true, value: { request, framing: bodyFraming(request) } }
}

function trimmed(b: Uint8Array, s: number, e: number): string {
  while (s < e && isOws(b[s])) s++
  while (e > s && isOws(b[e - 1])) e--
  return latin1(b, s, e)
}

/**
 * Parses one complete request head (request line, header fields, empty line) at the start of
 * `bytes`; bytes after the head (a body, the next request) are ignored. Leading empty lines are
 * skipped (RFC 9112 §2.2) and counted in `headLength`.
 */
export function parseRequestHead(bytes: Uint8Array): ParseResult<HttpRequest> {
  let start = 0
  while (start < bytes.length && (bytes[start] === CR || bytes[start] === LF)) start++
  const limit = Math.min(bytes.length, start + MAX_HTTP_HEAD_BYTES)
  const end = findHeadEnd(bytes, start, start, limit)
  if (end === -1) {
    return limit < bytes.length
      ? fail('limit_exceeded', start, 'http head longer than MAX_HTTP_HEAD_BYTES')
      : fail('truncated', bytes.length, 'http head without its empty line')
  }
  const r = parseHeadAt(bytes, start, end)
  if (!r.ok) return r
  r.value.request.headLength = end
  return { ok: true, value: r.value.request }
}

/** Where an `HttpRequestStream` is: reading a head, skipping a body, or given up for good. */
export type HttpStreamState = 'head' | 'body' | 'chunked' | 'done'

type ChunkPhase = 'size' | 'line' | 'data' | 'data_cr' | 'data_lf' | 'trailer'

const EMPTY = new Uint8Array(0)

/**
 * Follows one client direction of a TCP connection (bytes in order, after reassembly) and
 * returns each complete request head. Bodies are skipped by Content-Length or chunked framing;
 * when a body's length cannot be known, the head is too long, or the bytes stop looking like
 * HTTP, the stream turns `done` and ignores everything after. Keeps at most one partial head
 * (≤ `MAX_HTTP_HEAD_BYTES`, copied), never the caller's buffer.
 * @example
 * const s = new HttpRequestStream()
 * for (const chunk of clientBytes) for (const req of s.push(chunk)) console.log(ja4h(req).ja4h)
 */
export class HttpRequestStream {
  /** Stream-level anomalies (found outside any returned head), each listed once. */
  readonly anomalies: HttpAnomaly[] = []
  private st: HttpStreamState = 'head'
  private count = 0
  private pending: Uint8Array = EMPTY
  private pendingLen = 0
  private bodyLeft = 0
  private chunk: ChunkPhase = 'size'
  private chunkSize = 0
  private chunkDigits = 0
  private lineBytes = 0
  private lineLen = 0
  private trailerBytes = 0
  // The previous request asked to switch protocols: non-HTTP bytes after it are expected.
  private upgraded = false

  get state(): HttpStreamState {
    return this.st
  }

  /** Request heads returned so far. */
  get requests(): number {
    return this.count
  }

  /** Feeds the next bytes of the client direction; returns the heads they complete. */
  push(data: Uint8Array): HttpRequest[] {
    const out: HttpRequest[] = []
    let i = 0
    while (i < data.length && this.st !== 'done') {
      if (this.st === 'head') i = this.onHead(data, i, out)
      else if (this.st === 'body') {
        const n = Math.min(this.bodyLeft, data.length - i)
        i += n
        this.bodyLeft -= n
        if (this.bodyLeft === 0) this.st = 'head'
      } else i = this.onChunked(data, i)
    }
    return out
  }

  private stop(a?: HttpAnomaly): void {
    if (a !== undefined) addAnomaly(this.anomalies, a)
    this.st = 'done'
    this.release()
  }

  private release(): void {
    this.pending = EMPTY
    this.pendingLen = 0
  }

  private notHttp(): void {
    this.stop(this.count > 0 && this.upgraded ? undefined : 'http.not_a_request')
  }

  private onHead(data: Uint8Array, i: number, out: HttpRequest[]): number {
    if (this.pendingLen === 0) {
      // RFC 9112 §2.2: ignore empty lines before a request-line (often sent after a POST body).
      while (i < data.length && (data[i] === CR || data[i] === LF)) i++
      if (i === data.length) return i
      const limit = Math.min(data.length, i + MAX_HTTP_HEAD_BYTES)
      const end = findHeadEnd(data, i, i, limit)
      const s = sniff(data, i, end === -1 ? data.length : end)
      if (s === 'no') {
        this.notHttp()
        return data.length
      }
      if (end !== -1) {
        this.finishHead(data, i, end, out)
        return end
      }
      if (limit - i >= MAX_HTTP_HEAD_BYTES) {
        this.stop('http.head_too_long')
        return data.length
      }
      this.append(data, i, data.length)
      return data.length
    }
    const before = this.pendingLen
    const take = Math.min(data.length - i, MAX_HTTP_HEAD_BYTES - before)
    this.append(data, i, i + take)
    const p = this.pending
    const end = findHeadEnd(p, 0, before, this.pendingLen)
    if (sniff(p, 0, end === -1 ? this.pendingLen : end) === 'no') {
      this.notHttp()
      return data.length
    }
    if (end !== -1) {
      this.release()
      this.finishHead(p, 0, end, out)
      return i + (end - before)
    }
    if (this.pendingLen >= MAX_HTTP_HEAD_BYTES) {
      this.stop('http.head_too_long')
      return data.length
    }
    return i + take
  }

  /** Copies data[s..e) after the pending bytes, growing the buffer up to the head limit. */
  private append(data: Uint8Array, s: number, e: number): void {
    const need = this.pendingLen + (e - s)
    if (need > this.pending.length) {
      const grown = new Uint8Array(
        Math.min(MAX_HTTP_HEAD_BYTES, Math.max(need, 256, this.pending.length * 2)),
      )
      grown.set(this.pending.subarray(0, this.pendingLen))
      this.pending = grown
    }
    this.pending.set(data.subarray(s, e), this.pendingLen)
    this.pendingLen = need
  }

  private finishHead(b: Uint8Array, start: number, end: number, out: HttpRequest[]): void {
    const r = parseHeadAt(b, start, end)
    if (!r.ok) {
      this.stop(this.count > 0 && this.upgraded ? undefined : 'http.bad_request_line')
      return
    }
    const { request, framing } = r.value
    // RFC 9113 §3.4: the HTTP/2 connection preface starts like a request; frames follow.
    if (request.method === 'PRI' && request.target === '*' && request.version === 20) {
      this.stop()
      return
    }
    out.push(request)
    this.count++
    this.upgraded = request.headers.some((h) => lowerAscii(h.name) === 'upgrade')
    // RFC 9110 §9.3.6: after CONNECT the connection is a tunnel, not HTTP.
    if (request.method === 'CONNECT') return this.stop()
    if (framing.kind === 'unknown') return this.stop()
    if (this.count >= MAX_HTTP_REQUESTS_PER_CONNECTION) return this.stop('http.too_many_requests')
    if (framing.kind === 'chunked') {
      this.st = 'chunked'
      this.chunk = 'size'
      this.chunkSize = 0
      this.chunkDigits = 0
      this.lineBytes = 0
    } else if (framing.bytes > 0) {
      this.st = 'body'
      this.bodyLeft = framing.bytes
    }
  }

  /**
   * RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; last-chunk = 1*"0"
   * [ chunk-ext ] CRLF; then trailer-section CRLF. Walked byte by byte without buffering.
   */
  private onChunked(b: Uint8Array, i: number): number {
    while (i < b.length) {
      switch (this.chunk) {
        case 'data': {
          const n = Math.min(this.bodyLeft, b.length - i)
          i += n
          this.bodyLeft -= n
          if (this.bodyLeft === 0) this.chunk = 'data_cr'
          continue
        }
        case 'size': {
          const v = hexValue(b[i] ?? 0)
          if (v >= 0) {
            if (++this.chunkDigits > MAX_CHUNK_SIZE_HEX_DIGITS) return this.badChunk(b)
            this.chunkSize = this.chunkSize * 16 + v
            this.lineBytes++
            i++
            continue
          }
          if (this.chunkDigits === 0) return this.badChunk(b)
          this.chunk = 'line'
          continue
        }
        case 'line': {
          // Chunk extensions (and the CR) up to the LF; their content is not interpreted.
          const c = b[i++] ?? 0
          if (++this.lineBytes > MAX_HTTP_CHUNK_LINE_BYTES) return this.badChunk(b)
          if (c !== LF) continue
          if (this.chunkSize === 0) {
            this.chunk = 'trailer'
            this.lineLen = 0
            this.trailerBytes = 0
          } else {
            this.chunk = 'data'
            this.bodyLeft = this.chunkSize
          }
          continue
        }
        case 'data_cr': {
          const c = b[i++]
          if (c === CR) this.chunk = 'data_lf'
          else if (c === LF) this.nextChunk()
          else return this.badChunk(b)
          continue
        }
        case 'data_lf': {
          if (b[i++] !== LF) return this.badChunk(b)
          this.nextChunk()
          continue
        }
        case 'trailer': {
          const c = b[i++]
          if (++this.trailerBytes > MAX_HTTP_TRAILER_BYTES) return this.badChunk(b)
          if (c === LF) {
            if (this.lineLen === 0) {
              this.st = 'head'
              return i
            }
            this.lineLen = 0
          } else if (c !== CR) this.lineLen++
          continue
        }
      }
    }
    return i
  }

  private nextChunk(): void {
    this.chunk = 'size'
    this.chunkSize = 0
    this.chunkDigits = 0
    this.lineBytes = 0
  }

  private badChunk(b: Uint8Array): number {
    this.stop('http.bad_chunk')
    return b.length
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  return -1
}

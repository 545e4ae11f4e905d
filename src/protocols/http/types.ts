/**
 * @module protocols/http/types
 * A cleartext HTTP request head as on the wire (RFC 9112 §2–§5): what JA4H and Tempesta's TFh
 * read. Header names keep their case and order; values are latin1 text (RFC 9110 §5.5 obs-text).
 */

export interface HttpHeader {
  /** Field name exactly as sent (case preserved). */
  name: string
  /** Field value with leading/trailing whitespace removed. */
  value: string
}

export type HttpAnomaly =
  | 'http.bad_request_line'
  | 'http.bad_header_line'
  | 'http.too_many_headers'
  | 'http.head_too_long'
  | 'http.obsolete_line_folding'
  | 'http.bare_lf'
  /** Content-Length not a decimal number, or several that differ (RFC 9112 §6.3 rule 5). */
  | 'http.bad_content_length'
  /** Both Transfer-Encoding and Content-Length: a request-smuggling signal (RFC 9112 §6.1). */
  | 'http.transfer_encoding_with_content_length'
  /** Transfer-Encoding whose final coding is not chunked, or on HTTP/1.0 (RFC 9112 §6.3 rule 4). */
  | 'http.unknown_body_length'
  /** Malformed chunked framing (RFC 9112 §7.1). */
  | 'http.bad_chunk'
  /** More requests on one connection than the stream follows. */
  | 'http.too_many_requests'
  /** Bytes where a request should start that do not look like a request line. */
  | 'http.not_a_request'

export interface HttpRequest {
  /** Method token as sent (`GET`, `M-SEARCH`, …). */
  method: string
  /** Request target as sent (origin-form, absolute-form, authority-form or `*`). */
  target: string
  /** `HTTP/1.0` → 10, `HTTP/1.1` → 11, `HTTP/2` → 20, `HTTP/3` → 30; 0 when unknown. */
  version: number
  /** Header fields in wire order (HTTP/2 and HTTP/3 pseudo-headers excluded). */
  headers: HttpHeader[]
  /** Length of the head including the final empty line. */
  headLength: number
  anomalies: HttpAnomaly[]
}

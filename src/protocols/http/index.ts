/**
 * @module protocols/http
 * Cleartext HTTP/1.x request heads: sniffing, a single-head parser and an incremental stream
 * over a TCP client direction (RFC 9112), feeding JA4H.
 */
export type { HttpAnomaly, HttpHeader, HttpRequest } from './types.ts'
export {
  HTTP_SNIFF_WINDOW_BYTES,
  HttpRequestStream,
  MAX_HTTP_CHUNK_LINE_BYTES,
  MAX_HTTP_HEAD_BYTES,
  MAX_HTTP_HEADERS,
  MAX_HTTP_METHOD_BYTES,
  MAX_HTTP_REQUESTS_PER_CONNECTION,
  MAX_HTTP_TRAILER_BYTES,
  looksLikeHttpRequest,
  parseRequestHead,
  type HttpStreamState,
} from './request.ts'

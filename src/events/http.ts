/**
 * @module events/http — the `http` event: one HTTP request, from a web-server log, a capture or
 * the ingest API, with the TLS fingerprints the log already carries (Cloudflare's, nginx's).
 */

/** Where the request was seen; open so a new log decoder needs no schema change. */
export type HttpSource =
  'nginx' | 'apache' | 'caddy' | 'cloudflare' | 'capture' | 'ingest' | (string & {})

export interface HttpEvent {
  type: 'http'
  /** Time of the request (log time or packet time), ISO 8601 UTC with microseconds. */
  ts: string
  /** Node that produced the event (NODE_NAME of the sensor or collector). */
  sensor: string
  source: HttpSource
  /** Client and server endpoints; a log may lack the ports and the server address. */
  src_ip: string
  src_port: number | null
  dst_ip: string | null
  dst_port: number | null
  /** Host header (or :authority), null when absent. */
  host: string | null
  method: string
  /** Request target as logged (path and query). */
  path: string
  /** Response status; null for a request seen on the wire without its response. */
  status: number | null
  user_agent: string | null
  /** Time the server took to answer, when the log says. */
  request_time_ms: number | null
  /** JA4H and its raw / original-order variants (FoxIO License 1.1); null when not computed. */
  ja4h: string | null
  ja4h_r: string | null
  ja4h_ro: string | null
  /** Tempesta TFh fingerprint of the request head. */
  tfh: string | null
  /** TLS fields a log may carry (Cloudflare `ja3_hash`, `ja4`, …); null when it does not. */
  ja3: string | null
  ja4: string | null
  cf_ciphers_sha1: string | null
  cf_extensions_sha1: string | null
  hello_length: number | null
  tls_version: string | null
  sni: string | null
}

/** Field order of an `http` event, shared by the JSON schema, table output and stores. */
export const HTTP_EVENT_FIELDS = [
  'type',
  'ts',
  'sensor',
  'source',
  'src_ip',
  'src_port',
  'dst_ip',
  'dst_port',
  'host',
  'method',
  'path',
  'status',
  'user_agent',
  'request_time_ms',
  'ja4h',
  'ja4h_r',
  'ja4h_ro',
  'tfh',
  'ja3',
  'ja4',
  'cf_ciphers_sha1',
  'cf_extensions_sha1',
  'hello_length',
  'tls_version',
  'sni',
] as const satisfies readonly (keyof HttpEvent)[]

const nullableString = { type: ['string', 'null'] }
const nullablePort = { type: ['integer', 'null'], minimum: 0, maximum: 65535 }

/** JSON Schema properties of the HTTP part, shared with the `session` event. */
export const httpEventProperties = {
  source: { type: 'string' },
  host: nullableString,
  method: { type: 'string' },
  path: { type: 'string' },
  status: { type: ['integer', 'null'], minimum: 100, maximum: 999 },
  user_agent: nullableString,
  request_time_ms: { type: ['number', 'null'], minimum: 0 },
  ja4h: nullableString,
  ja4h_r: nullableString,
  ja4h_ro: nullableString,
  tfh: nullableString,
} as const

/** JSON Schema (draft 2020-12) of the `http` event. */
export const httpEventSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://tlsight.dev/schema/http-event.json',
  title: 'tlsight http event',
  type: 'object',
  additionalProperties: false,
  required: [...HTTP_EVENT_FIELDS],
  properties: {
    type: { const: 'http' },
    ts: { type: 'string', format: 'date-time' },
    sensor: { type: 'string' },
    src_ip: { type: 'string' },
    src_port: nullablePort,
    dst_ip: nullableString,
    dst_port: nullablePort,
    ...httpEventProperties,
    ja3: { type: ['string', 'null'], pattern: '^[0-9a-f]{32}$' },
    ja4: nullableString,
    cf_ciphers_sha1: nullableString,
    cf_extensions_sha1: nullableString,
    hello_length: { type: ['integer', 'null'], minimum: 0 },
    tls_version: nullableString,
    sni: nullableString,
  },
} as const

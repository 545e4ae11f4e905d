/**
 * @module events/session — a correlated `tls` ⨝ `http`: the handshake of a connection with one
 * request made on it, so a fingerprint meets its user agent and host.
 */
import { TLS_EVENT_FIELDS, tlsEventSchema, type TlsEvent } from './tls.ts'
import { httpEventProperties, type HttpEvent } from './http.ts'

/** How the correlator matched the two: same client ip:port, same flow, or ip and time only. */
export type SessionJoin = 'ip_port' | 'flow' | 'ip'

/** The HTTP-only part of a session (the TLS part overlaps `http`'s TLS fields). */
export type SessionHttpPart = Pick<
  HttpEvent,
  | 'source'
  | 'host'
  | 'method'
  | 'path'
  | 'status'
  | 'user_agent'
  | 'request_time_ms'
  | 'ja4h'
  | 'ja4h_r'
  | 'ja4h_ro'
  | 'tfh'
>

export interface SessionEvent extends Omit<TlsEvent, 'type'>, SessionHttpPart {
  type: 'session'
  /** `ts` is the request's; `lag_ms` how long after the ClientHello it came. */
  lag_ms: number
  join: SessionJoin
}

export const SESSION_HTTP_FIELDS = [
  'source',
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
] as const satisfies readonly (keyof SessionHttpPart)[]

/** Field order of a `session` event: the tls fields, then the http ones, then the join. */
export const SESSION_EVENT_FIELDS = [
  ...TLS_EVENT_FIELDS,
  ...SESSION_HTTP_FIELDS,
  'lag_ms',
  'join',
] as const satisfies readonly (keyof SessionEvent)[]

/** JSON Schema (draft 2020-12) of the `session` event. */
export const sessionEventSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://tlsight.dev/schema/session-event.json',
  title: 'tlsight session event',
  type: 'object',
  additionalProperties: false,
  required: [...SESSION_EVENT_FIELDS],
  properties: {
    ...tlsEventSchema.properties,
    type: { const: 'session' },
    ...httpEventProperties,
    lag_ms: { type: 'number' },
    join: { enum: ['ip_port', 'flow', 'ip'] },
  },
} as const

/**
 * @module events/tcp — the `tcp` event: the TCP handshake fingerprints (JA4T, JA4TS, JA4L) of a
 * connection that produced no `tls` event (which carries them otherwise): cleartext HTTP, SSH,
 * DNS over TCP, port scans.
 */

export interface TcpEvent {
  type: 'tcp'
  /** Time of the connection's first SYN (or SYN-ACK when the SYN was not captured). */
  ts: string
  /** Sensor that saw it (NODE_NAME, else the host name). */
  sensor: string
  /** Client (sender of the SYN) and server endpoints, innermost headers. */
  src_ip: string
  src_port: number
  dst_ip: string
  dst_port: number
  /** JA4+ (FoxIO License 1.1); null when turned off or the segment was not captured. */
  ja4t: string | null
  ja4ts: string | null
  ja4l_c: string | null
  ja4l_s: string | null
}

/** Field order of a `tcp` event. */
export const TCP_EVENT_FIELDS = [
  'type',
  'ts',
  'sensor',
  'src_ip',
  'src_port',
  'dst_ip',
  'dst_port',
  'ja4t',
  'ja4ts',
  'ja4l_c',
  'ja4l_s',
] as const satisfies readonly (keyof TcpEvent)[]

const nullableString = { type: ['string', 'null'] }
const port = { type: 'integer', minimum: 0, maximum: 65535 }

/** JSON Schema (draft 2020-12) of the `tcp` event. */
export const tcpEventSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://tlsight.dev/schema/tcp-event.json',
  title: 'tlsight tcp event',
  type: 'object',
  additionalProperties: false,
  required: [...TCP_EVENT_FIELDS],
  properties: {
    type: { const: 'tcp' },
    ts: { type: 'string', format: 'date-time' },
    sensor: { type: 'string' },
    src_ip: { type: 'string' },
    src_port: port,
    dst_ip: { type: 'string' },
    dst_port: port,
    ja4t: nullableString,
    ja4ts: nullableString,
    ja4l_c: nullableString,
    ja4l_s: nullableString,
  },
} as const

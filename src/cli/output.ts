/** @module cli/output — buffered writing with backpressure, and event formatting. */
import type { Writable } from 'node:stream'
import { hostname } from 'node:os'
import type { CaptureEvent } from '../events/capture.ts'
import { captureEventJson } from '../events/json.ts'
import { formatRfc5424 } from '../protocols/syslog/encode.ts'
import { endpoint } from '../events/endpoint.ts'

const FLUSH_BYTES = 256 * 1024
const BUFFER_BYTES = 1024 * 1024

/**
 * `latin1` writes one byte per code unit (fast, for the all-ASCII JSON lines); `utf8` for text
 * that may hold any character (table rows).
 */
export type LineEncoding = 'latin1' | 'utf8'

/** Encodes lines straight into large buffers (no big intermediate string). */
export class LineBuffer {
  private buf = Buffer.allocUnsafe(BUFFER_BYTES)
  private off = 0
  private readonly ready: Buffer[] = []
  private readonly perChar: number

  constructor(private readonly encoding: LineEncoding = 'utf8') {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.perChar = encoding === 'utf8' ? 3 : 1
  }

  line(s: string): void {
    this.put(s, 1)
    this.buf[this.off++] = 0x0a
  }

  /** Text that already ends in a newline (a block of lines). */
  text(t: string): void {
    this.put(t, 0)
  }

  /** Encoded bytes to pass through as they are. */
  bytes(b: Uint8Array): void {
    this.seal()
    this.ready.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
  }

  private put(s: string, extra: number): void {
    const worst = s.length * this.perChar + extra
    if (this.off + worst > this.buf.length) {
      this.seal()
      this.buf = Buffer.allocUnsafe(Math.max(BUFFER_BYTES, worst))
    }
    this.off += this.buf.write(s, this.off, this.encoding)
  }

  /** Queues what the current buffer holds; later writes go to a fresh buffer. */
  private seal(): void {
    if (this.off === 0) return
    this.ready.push(this.buf.subarray(0, this.off))
    this.buf = Buffer.allocUnsafe(BUFFER_BYTES)
    this.off = 0
  }

  get size(): number {
    let n = this.off
    for (const b of this.ready) n += b.length
    return n
  }

  /** Everything written so far, as buffers the caller now owns. */
  take(): Buffer[] {
    this.seal()
    return this.ready.splice(0)
  }
}

/** A `LineBuffer` written to a stream in large chunks; `flush` waits when the sink is slow. */
export class LineWriter extends LineBuffer {
  constructor(
    private readonly sink: Writable,
    encoding: LineEncoding = 'utf8',
  ) {
    super(encoding)
  }

  get needsFlush(): boolean {
    return this.size >= FLUSH_BYTES
  }

  async flush(): Promise<void> {
    for (const chunk of this.take()) {
      if (this.sink.write(chunk)) continue
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          this.sink.off('error', onError)
          resolve()
        }
        const onError = (err: Error): void => {
          this.sink.off('drain', onDrain)
          reject(err)
        }
        this.sink.once('drain', onDrain)
        this.sink.once('error', onError)
      })
    }
  }
}

export type OutputFormat = 'jsonl' | 'table' | 'syslog'

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['jsonl', 'table', 'syslog']

/** Bytes of each format: JSON lines (and syslog lines around them) are printable ASCII. */
export function outputEncoding(format: OutputFormat): 'latin1' | 'utf8' {
  return format === 'table' ? 'utf8' : 'latin1'
}

/** The name events carry as their sensor, and syslog as HOSTNAME: NODE_NAME, else the host's. */
export function sensorName(env: NodeJS.ProcessEnv): string {
  const n = env.NODE_NAME?.trim()
  return n !== undefined && n !== '' ? n : hostname()
}

// RFC 5424 §6.2.1: facility local0 (16), severity informational (6).
const SYSLOG_PRI = { facility: 16, severity: 6 }

/**
 * An RFC 5424 line for an event: APP-NAME `tlsight`, HOSTNAME the sensor name, MSGID the event
 * type, no structured data, and the event's JSON (the same as a jsonl line) as MSG. JSON MSG
 * rather than SD-PARAMs keeps lists and nulls, and is what log pipelines parse anyway.
 */
export function syslogLine(e: CaptureEvent, host: string): string {
  return formatRfc5424({
    pri: SYSLOG_PRI,
    timestamp: e.ts,
    hostname: host,
    appName: 'tlsight',
    procId: String(process.pid),
    msgId: e.type,
    message: captureEventJson(e),
  })
}

/** The line formatter of an output format. */
export function eventFormatter(format: OutputFormat, host: string): (e: CaptureEvent) => string {
  if (format === 'jsonl') return captureEventJson
  if (format === 'syslog') return (e) => syslogLine(e, host)
  return tableRow
}

/** Columns for every event type: the name (SNI / Host), the client fingerprint (JA4, JA4H or
 * JA4T), JA3, and the server's (JA4S or JA4TS). */
const TABLE_COLUMNS: { title: string; width: number; get: (e: CaptureEvent) => string }[] = [
  { title: 'TIME', width: 15, get: (e) => e.ts.slice(11, 26) },
  { title: 'TYPE', width: 4, get: (e) => e.type },
  { title: 'CLIENT', width: 21, get: (e) => endpoint(e.src_ip, e.src_port ?? 0) },
  { title: 'SERVER', width: 21, get: (e) => endpoint(e.dst_ip ?? '-', e.dst_port ?? 0) },
  {
    title: 'SNI/HOST',
    width: 24,
    get: (e) => (e.type === 'tls' ? e.sni : e.type === 'http' ? e.host : null) ?? '-',
  },
  {
    title: 'JA4/JA4H/JA4T',
    width: 36,
    get: (e) => (e.type === 'tls' ? e.ja4 : e.type === 'http' ? e.ja4h : e.ja4t) ?? '-',
  },
  { title: 'JA3', width: 32, get: (e) => (e.type === 'tcp' ? null : e.ja3) ?? '-' },
  {
    title: 'JA4S/JA4TS',
    width: 25,
    get: (e) => (e.type === 'tls' ? e.ja4s : e.type === 'tcp' ? e.ja4ts : null) ?? '-',
  },
]

function cell(s: string, width: number): string {
  return s.length > width ? s.slice(0, width - 1) + '…' : s.padEnd(width)
}

export function tableHeader(): string {
  return TABLE_COLUMNS.map((c) => cell(c.title, c.width))
    .join(' ')
    .trimEnd()
}

export function tableRow(e: CaptureEvent): string {
  return TABLE_COLUMNS.map((c) => cell(c.get(e), c.width))
    .join(' ')
    .trimEnd()
}

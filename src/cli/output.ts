/** @module cli/output — buffered writing with backpressure, and event formatting. */
import type { Writable } from 'node:stream'
import type { TlsEvent } from '../events/tls.ts'

const FLUSH_BYTES = 256 * 1024

/** Collects lines and writes them in large chunks; `flush` waits when the sink is slow. */
export class LineWriter {
  private buf: string[] = []
  private size = 0

  constructor(private readonly sink: Writable) {}

  line(s: string): void {
    this.buf.push(s, '\n')
    this.size += s.length + 1
  }

  /** Text that already ends in a newline (a block of lines). */
  text(t: string): void {
    this.buf.push(t)
    this.size += t.length
  }

  get needsFlush(): boolean {
    return this.size >= FLUSH_BYTES
  }

  async flush(): Promise<void> {
    if (this.buf.length === 0) return
    const text = this.buf.join('')
    this.buf = []
    this.size = 0
    if (!this.sink.write(text)) {
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

export type OutputFormat = 'jsonl' | 'table'

const TABLE_COLUMNS: { title: string; width: number; get: (e: TlsEvent) => string }[] = [
  { title: 'TIME', width: 15, get: (e) => e.ts.slice(11, 26) },
  { title: 'CLIENT', width: 21, get: (e) => endpoint(e.src_ip, e.src_port) },
  { title: 'SERVER', width: 21, get: (e) => endpoint(e.dst_ip, e.dst_port) },
  { title: 'SNI', width: 24, get: (e) => e.sni ?? '-' },
  { title: 'JA4', width: 36, get: (e) => e.ja4 ?? '-' },
  { title: 'JA3', width: 32, get: (e) => e.ja3 ?? '-' },
  { title: 'JA4S', width: 25, get: (e) => e.ja4s ?? '-' },
]

function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}

function cell(s: string, width: number): string {
  return s.length > width ? s.slice(0, width - 1) + '…' : s.padEnd(width)
}

export function tableHeader(): string {
  return TABLE_COLUMNS.map((c) => cell(c.title, c.width)).join(' ').trimEnd()
}

export function tableRow(e: TlsEvent): string {
  return TABLE_COLUMNS.map((c) => cell(c.get(e), c.width)).join(' ').trimEnd()
}

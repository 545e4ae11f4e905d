/**
 * @module capture/outputs
 * Where a sensor's events go. Every output is bounded: stdout pushes back on the capture (the
 * kernel then drops, and says so), network and socket outputs queue up to a limit and then drop
 * the newest events, counted.
 *
 * - `-`, `stdout`: one line per event, JSON (`--format jsonl`) or RFC 5424 (`--format syslog`).
 * - `udp://host:port`: one RFC 5424 message per datagram (RFC 5426), at most
 *   MAX_UDP_DATAGRAM_BYTES.
 * - `tcp://host:port`: RFC 5424 messages in RFC 6587 §3.4.1 octet-counted frames; reconnects
 *   with backoff.
 * - `unix:///path`: newline-delimited JSON over a UNIX stream socket; reconnects with backoff.
 *
 * `?format=jsonl|syslog` after a URL overrides its default (`tcp://…?format=jsonl` sends NDJSON
 * lines, `unix://…?format=syslog` RFC 5424 lines). NOTE: Node's `dgram` has no UNIX datagram
 * sockets (only `udp4`/`udp6`), hence a stream socket with line framing for `unix://`.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { lookup } from 'node:dns/promises'
import { connect, type Socket } from 'node:net'
import type { Writable } from 'node:stream'
import { AppError } from '../errors.ts'
import type { CaptureEvent } from '../events/capture.ts'
import { captureEventJson } from '../events/json.ts'
import { octetCountFrame } from '../protocols/syslog/framing.ts'
import { LineBuffer, syslogLine } from '../cli/output.ts'

/** RFC 768 / RFC 5426 §3.2: the largest UDP payload over IPv4 (65,535 − 8 − 20). */
export const MAX_UDP_DATAGRAM_BYTES = 65_507
/** Datagrams handed to the kernel and not yet sent before new ones are dropped. */
export const MAX_UDP_PENDING_DATAGRAMS = 1_024
/** Bytes a stream output (tcp, unix) holds while its peer is slow or away; beyond, drops. */
export const MAX_STREAM_QUEUE_BYTES = 8 * 1024 * 1024
/** Bytes handed to a socket at once; the rest waits in our queue for its 'drain'. */
const SOCKET_HIGH_WATER_BYTES = 256 * 1024
/** Reconnect delay: doubles from the minimum to the maximum while the peer stays away. */
export const RECONNECT_MIN_MS = 100
export const RECONNECT_MAX_MS = 30_000
/** `close()` waits this long for queued events to go out; what is left is counted as dropped. */
export const OUTPUT_CLOSE_TIMEOUT_MS = 5_000
/** Bytes stdout buffers before it asks the capture to pause. */
const STDOUT_HIGH_WATER_BYTES = 1024 * 1024

export type EventFormat = 'jsonl' | 'syslog'
export const EVENT_FORMATS: readonly EventFormat[] = ['jsonl', 'syslog']

export interface OutputStats {
  /** Events handed to the sink (the socket or stream accepted them). */
  written: number
  /** Events lost: queue full, peer away at close, send error, oversized datagram. */
  dropped: number
  /** Errors seen (failed connects, send errors, a closed stdout). */
  errors: number
  /** Successful (re)connections, for stream outputs. */
  connects: number
}

export interface EventOutput {
  /** The `--output` it was made from. */
  readonly name: string
  write(e: CaptureEvent): void
  /** Hands buffered events to the sink; the capture calls it after each chunk of packets. */
  flush(): void
  /**
   * Set while the output wants the capture to stop reading packets (only stdout, which is local
   * and lossless); resolves when it may go on.
   */
  readonly backpressure: Promise<void> | undefined
  /** Flushes what it can within OUTPUT_CLOSE_TIMEOUT_MS and releases the sink. */
  close(): Promise<void>
  stats(): OutputStats
}

export interface OutputOptions {
  /** stdout's format (URLs default to syslog for udp/tcp, jsonl for unix). */
  format: EventFormat
  /** HOSTNAME of syslog lines (NODE_NAME). */
  sensor: string
  /** Sink of `-` / `stdout` (default process.stdout). */
  stdout?: Writable
  /** A fatal output error (stdout closed: EPIPE); the capture should stop. */
  onFatal?: (err: Error) => void
}

function newStats(): OutputStats {
  return { written: 0, dropped: 0, errors: 0, connects: 0 }
}

function formatter(format: EventFormat, sensor: string): (e: CaptureEvent) => string {
  return format === 'syslog' ? (e) => syslogLine(e, sensor) : captureEventJson
}

/** stdout (or any Writable): buffered lines, backpressure instead of drops. */
class StreamSinkOutput implements EventOutput {
  private readonly buf = new LineBuffer('latin1')
  private readonly line: (e: CaptureEvent) => string
  private readonly counters = newStats()
  private pending = 0
  private waiting: Promise<void> | undefined
  private failed = false

  constructor(
    readonly name: string,
    private readonly sink: Writable,
    format: EventFormat,
    sensor: string,
    private readonly onFatal: ((err: Error) => void) | undefined,
  ) {
    // Events are printable ASCII in both formats (the JSON writer escapes everything else).
    this.line = formatter(format, sensor)
    sink.on('error', (err) => {
      this.counters.errors++
      this.failed = true
      this.onFatal?.(err)
    })
  }

  write(e: CaptureEvent): void {
    if (this.failed) {
      this.counters.dropped++
      return
    }
    this.buf.line(this.line(e))
    this.pending++
    if (this.buf.size >= STDOUT_HIGH_WATER_BYTES) this.flush()
  }

  flush(): void {
    if (this.pending === 0) return
    const n = this.pending
    this.pending = 0
    if (this.failed) {
      this.buf.take()
      this.counters.dropped += n
      return
    }
    let ok = true
    for (const chunk of this.buf.take()) ok = this.sink.write(chunk) && ok
    this.counters.written += n
    if (!ok && this.waiting === undefined) {
      this.waiting = new Promise<void>((resolve) => {
        const done = (): void => {
          this.sink.off('drain', done)
          this.sink.off('close', done)
          this.waiting = undefined
          resolve()
        }
        this.sink.on('drain', done)
        this.sink.on('close', done)
      })
    }
  }

  get backpressure(): Promise<void> | undefined {
    return this.failed ? undefined : this.waiting
  }

  private closed: Promise<void> | undefined

  close(): Promise<void> {
    return (this.closed ??= this.closeOnce())
  }

  private async closeOnce(): Promise<void> {
    this.flush()
    const w = this.waiting
    if (w !== undefined) await withTimeout(w, OUTPUT_CLOSE_TIMEOUT_MS)
  }

  stats(): OutputStats {
    return { ...this.counters }
  }
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms)
    void p.then(() => {
      clearTimeout(t)
      resolve()
    })
  })
}

/** One RFC 5424 (or JSON) message per UDP datagram (RFC 5426). */
class UdpOutput implements EventOutput {
  private readonly counters = newStats()
  private readonly line: (e: CaptureEvent) => string
  private inFlight = 0
  private closing = false
  readonly backpressure = undefined

  constructor(
    readonly name: string,
    private readonly socket: UdpSocket,
    private readonly host: string,
    private readonly port: number,
    format: EventFormat,
    sensor: string,
  ) {
    this.line = formatter(format, sensor)
    // ICMP port unreachable on a connected path, and the like: counted, never thrown.
    socket.on('error', () => this.counters.errors++)
  }

  write(e: CaptureEvent): void {
    const msg = Buffer.from(this.line(e), 'latin1')
    if (this.closing || msg.length > MAX_UDP_DATAGRAM_BYTES) {
      this.counters.dropped++
      return
    }
    if (this.inFlight >= MAX_UDP_PENDING_DATAGRAMS) {
      this.counters.dropped++
      return
    }
    this.inFlight++
    this.socket.send(msg, this.port, this.host, (err) => {
      this.inFlight--
      if (err) {
        this.counters.errors++
        this.counters.dropped++
      } else this.counters.written++
    })
  }

  flush(): void {}

  private closed: Promise<void> | undefined

  close(): Promise<void> {
    return (this.closed ??= this.closeOnce())
  }

  private async closeOnce(): Promise<void> {
    this.closing = true
    const deadline = Date.now() + OUTPUT_CLOSE_TIMEOUT_MS
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    this.counters.dropped += this.inFlight
    this.inFlight = 0
    await new Promise<void>((resolve) => this.socket.close(() => resolve()))
  }

  stats(): OutputStats {
    return { ...this.counters }
  }
}

/**
 * A stream socket to a collector (TCP) or a local reader (UNIX): a bounded byte queue, written as
 * fast as the peer reads, and a reconnect loop with exponential backoff while it is away.
 */
class SocketOutput implements EventOutput {
  private readonly counters = newStats()
  private readonly encode: (e: CaptureEvent) => Uint8Array
  /** Frames not yet handed to the socket, and their total size. */
  private queue: Uint8Array[] = []
  private head = 0
  private queuedBytes = 0
  private socket: Socket | undefined
  private connected = false
  private delayMs = RECONNECT_MIN_MS
  private retry: NodeJS.Timeout | undefined
  private closing = false
  /** Frames handed to the socket whose write callback has not run yet. */
  private inFlight = 0
  private settled: (() => void) | undefined
  /** Counters are final (closed): late write callbacks change nothing. */
  private final = false
  readonly backpressure = undefined

  constructor(
    readonly name: string,
    private readonly dial: () => Socket,
    encode: (e: CaptureEvent) => Uint8Array,
  ) {
    this.encode = encode
    this.open()
  }

  private open(): void {
    if (this.closing) return
    const s = this.dial()
    this.socket = s
    s.setNoDelay(true)
    s.on('connect', () => {
      this.connected = true
      this.counters.connects++
      this.delayMs = RECONNECT_MIN_MS
      this.pump()
    })
    s.on('drain', () => this.pump())
    // Anything the peer sends is ignored (syslog over TCP is one-way, RFC 6587 §3.4).
    s.on('data', () => {})
    s.on('error', () => this.counters.errors++)
    s.on('close', () => {
      this.connected = false
      this.socket = undefined
      if (this.closing) {
        this.settle()
        return
      }
      this.retry = setTimeout(() => this.open(), this.delayMs)
      this.retry.unref()
      this.delayMs = Math.min(this.delayMs * 2, RECONNECT_MAX_MS)
    })
  }

  write(e: CaptureEvent): void {
    if (this.closing) {
      this.counters.dropped++
      return
    }
    const frame = this.encode(e)
    if (this.queuedBytes + frame.length > MAX_STREAM_QUEUE_BYTES) {
      // drop_newest: what is queued is older and was accepted first.
      this.counters.dropped++
      return
    }
    this.queue.push(frame)
    this.queuedBytes += frame.length
  }

  flush(): void {
    this.pump()
  }

  get queued(): number {
    return this.queue.length - this.head
  }

  private pump(): void {
    const s = this.socket
    if (s === undefined || !this.connected) return
    while (this.head < this.queue.length && s.writableLength < SOCKET_HIGH_WATER_BYTES) {
      const frame = this.queue[this.head]
      if (frame === undefined) break
      this.queue[this.head++] = EMPTY
      this.queuedBytes -= frame.length
      this.inFlight++
      s.write(frame, (err) => {
        if (this.final) return
        this.inFlight--
        // A write cut by a broken connection is lost: RFC 6587 has no acknowledgement to resend on.
        if (err) this.counters.dropped++
        else this.counters.written++
        if (this.closing) this.settle()
      })
    }
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }

  /** While closing: ends the socket once everything queued was handed to the kernel. */
  private settle(): void {
    const s = this.socket
    if (s === undefined || !this.connected) {
      this.settled?.()
      return
    }
    if (this.queued > 0 || this.inFlight > 0 || s.writableEnded) return
    s.once('finish', () => this.settled?.())
    s.end()
  }

  private closed: Promise<void> | undefined

  close(): Promise<void> {
    return (this.closed ??= this.closeOnce())
  }

  private async closeOnce(): Promise<void> {
    this.closing = true
    if (this.retry !== undefined) clearTimeout(this.retry)
    const done = new Promise<void>((resolve) => (this.settled = resolve))
    this.pump()
    this.settle()
    await withTimeout(done, OUTPUT_CLOSE_TIMEOUT_MS)
    this.final = true
    this.counters.dropped += this.queued + this.inFlight
    this.inFlight = 0
    this.queue = []
    this.head = 0
    this.queuedBytes = 0
    this.socket?.destroy()
  }

  stats(): OutputStats {
    return { ...this.counters }
  }
}

const EMPTY = new Uint8Array(0)

function lineEncoder(format: EventFormat, sensor: string): (e: CaptureEvent) => Uint8Array {
  const line = formatter(format, sensor)
  return (e) => Buffer.from(line(e) + '\n', 'latin1')
}

function hostPort(u: URL, spec: string): { host: string; port: number } {
  const port = Number(u.port)
  // URL keeps IPv6 literals in brackets.
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1')
  if (host === '' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new AppError('E_CONFIG_INVALID', `--output ${spec}: expected ${u.protocol}//host:port`)
  }
  return { host, port }
}

function urlFormat(u: URL, spec: string, fallback: EventFormat): EventFormat {
  const f = u.searchParams.get('format')
  if (f === null) return fallback
  const found = EVENT_FORMATS.find((x) => x === f)
  if (found === undefined) {
    throw new AppError('E_CONFIG_INVALID', `--output ${spec}: format must be jsonl or syslog`)
  }
  return found
}

/**
 * An output from its `--output` spec (see the module note). Rejects with E_CONFIG_INVALID for a
 * malformed spec or a UDP host that does not resolve.
 * @example
 * const out = await createOutput('tcp://collector:6514', { format: 'jsonl', sensor: 'edge-1' })
 */
export async function createOutput(spec: string, opts: OutputOptions): Promise<EventOutput> {
  if (spec === '-' || spec === 'stdout' || spec === 'stdout:') {
    return new StreamSinkOutput(
      'stdout',
      opts.stdout ?? process.stdout,
      opts.format,
      opts.sensor,
      opts.onFatal,
    )
  }
  let u: URL
  try {
    u = new URL(spec)
  } catch {
    throw new AppError(
      'E_CONFIG_INVALID',
      `--output ${spec}: expected -, udp://host:port, tcp://host:port or unix:///path`,
    )
  }
  if (u.protocol === 'udp:') {
    const { host, port } = hostPort(u, spec)
    let address: { address: string; family: number }
    try {
      // Resolved once: a send per event must not wait for DNS.
      address = await lookup(host)
    } catch (e) {
      throw new AppError('E_CONFIG_INVALID', `--output ${spec}: cannot resolve ${host}`, {
        cause: e,
      })
    }
    const socket = createSocket(address.family === 6 ? 'udp6' : 'udp4')
    socket.unref()
    const format = urlFormat(u, spec, 'syslog')
    return new UdpOutput(spec, socket, address.address, port, format, opts.sensor)
  }
  if (u.protocol === 'tcp:') {
    const { host, port } = hostPort(u, spec)
    const format = urlFormat(u, spec, 'syslog')
    const line = formatter(format, opts.sensor)
    // RFC 6587 §3.4.1 octet counting for syslog; NDJSON lines otherwise.
    const encode =
      format === 'syslog'
        ? (e: CaptureEvent) => octetCountFrame(line(e))
        : lineEncoder('jsonl', opts.sensor)
    return new SocketOutput(spec, () => connect({ host, port }), encode)
  }
  if (u.protocol === 'unix:') {
    const path = decodeURIComponent(u.pathname)
    if (u.host !== '' || path === '' || path === '/') {
      throw new AppError('E_CONFIG_INVALID', `--output ${spec}: expected unix:///absolute/path`)
    }
    const format = urlFormat(u, spec, 'jsonl')
    return new SocketOutput(spec, () => connect({ path }), lineEncoder(format, opts.sensor))
  }
  throw new AppError(
    'E_CONFIG_INVALID',
    `--output ${spec}: unknown scheme ${u.protocol} (use -, udp://, tcp:// or unix://)`,
  )
}

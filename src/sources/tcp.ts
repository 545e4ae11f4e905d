/**
 * @module sources/tcp
 * Syslog over TCP with RFC 6587 framing (octet counting §3.4.1 or LF / CRLF / NUL trailers
 * §3.4.2, chosen per frame), and plain NDJSON, which is the same as LF framing. Stream sockets
 * push back: a connection stops being read while the sink has `max_pending_events` in flight.
 * `serveStream` is shared with the UNIX socket source.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { AppError } from '../errors.ts'
import { SyslogTcpFramer } from '../protocols/syslog/index.ts'
import { decodeMessage } from './decode.ts'
import type { SinkGate, SourceLogger } from './stats.ts'
import type { TrustList } from './trust.ts'
import type { RunningListener } from './udp.ts'

/** TCP keepalive probes after this much idle time, so dead peers do not hold a connection. */
export const TCP_KEEPALIVE_MS = 60_000

export interface StreamOptions {
  gate: SinkGate
  sensor: string
  maxRecordBytes: number
}

export interface TcpSourceOptions extends StreamOptions {
  host: string
  port: number
  trust: TrustList
  /** Connections served at once; the kernel backlog holds the rest. */
  maxConnections: number
  log: SourceLogger
}

/** Reads one stream connection to its end: frames → decoded messages → the gate. */
export function serveStream(
  socket: Socket,
  src: 'tcp' | 'unix',
  peer: string,
  o: StreamOptions,
): void {
  const framer = new SyslogTcpFramer({ maxFrameBytes: o.maxRecordBytes })
  let oversized = 0
  const counters = o.gate.stats.by[src]
  counters.connections++
  counters.open_connections++
  const handle = (frames: Uint8Array[]) => {
    const now = new Date()
    for (const f of frames) {
      const out = decodeMessage(f, {
        source: src,
        sensor: o.sensor,
        now,
        maxRecordBytes: o.maxRecordBytes,
      })
      o.gate.deliver(src, out, peer, true)
    }
    const skipped = framer.stats.oversizedFrames - oversized
    if (skipped > 0) {
      oversized = framer.stats.oversizedFrames
      o.gate.refuse(src, 'oversized', { peer, limit: o.maxRecordBytes }, skipped)
    }
  }
  socket.on('data', (chunk: Buffer) => {
    handle(framer.push(chunk))
    if (o.gate.saturated && !socket.isPaused()) {
      socket.pause()
      void o.gate.room().then(() => {
        if (!socket.destroyed) socket.resume()
      })
    }
  })
  socket.on('end', () => {
    const truncated = framer.stats.truncatedFrames
    handle(framer.end())
    const cut = framer.stats.truncatedFrames - truncated
    if (cut > 0) o.gate.refuse(src, 'truncated', { peer }, cut)
  })
  // A reset by the peer is routine for log shippers; the close below does the accounting.
  socket.on('error', () => undefined)
  socket.on('close', () => {
    counters.open_connections--
  })
}

/** Tracks a server's sockets so `close` can end them. */
export function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    for (const s of sockets) s.destroy()
  })
}

/** Listens for TCP log connections. Fails with E_CONFIG_INVALID naming TLSIGHT_TCP_PORT. */
export async function startTcpSource(o: TcpSourceOptions): Promise<RunningListener<AddressInfo>> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    const peer = socket.remoteAddress ?? ''
    if (!o.trust.has(peer)) {
      o.gate.refuse('tcp', 'untrusted', { peer })
      socket.destroy()
      return
    }
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS)
    serveStream(socket, 'tcp', peer, o)
  })
  server.maxConnections = o.maxConnections
  const listen = (host: string) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port: o.port, ipv6Only: false }, () => {
        server.off('error', reject)
        resolve()
      })
    })
  try {
    await listen(o.host)
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'error'
    if (o.host !== '::' || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) {
      throw new AppError(
        'E_CONFIG_INVALID',
        `TLSIGHT_TCP_PORT: cannot listen on tcp ${o.host} port ${o.port} (${code})`,
        { cause: err },
      )
    }
    await listen('0.0.0.0')
  }
  server.on('error', (err) => o.log.error({ error: err.message }, 'TCP log listener error.'))
  const address = server.address()
  if (address === null || typeof address === 'string')
    throw new AppError('E_CONFIG_INVALID', 'TLSIGHT_TCP_PORT: listener has no TCP address')
  return { address, close: () => closeServer(server, sockets) }
}

/**
 * @module sources/udp-worker
 * The UDP listener's thread: receives datagrams, refuses untrusted senders, and hands the rest
 * to the main thread as bytes, in one transferred buffer per event-loop turn. The socket stays
 * drained while the main thread decodes, stores and correlates; decoding stays there because
 * handing decoded events across threads (structured clone) costs more than decoding them
 * (docs/adr/2026-11-22-udp-ingest-budget.md).
 *
 * Batch layout: per datagram, peer address length u8, the address (ASCII), length u32 LE,
 * the datagram's bytes.
 */
import { createSocket, type Socket, type SocketType } from 'node:dgram'
import type { AddressInfo } from 'node:net'
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { TrustList, type Cidr } from './trust.ts'

/** Receive buffer asked of the kernel (capped by net.core.rmem_max) to ride out bursts. */
export const UDP_RECV_BUFFER_BYTES = 4 * 1024 * 1024
/** Datagram bytes handed to the main thread and not yet decoded there; beyond, drops. */
export const MAX_UDP_BYTES_IN_TRANSIT = 64 * 1024 * 1024
const INITIAL_BATCH_BYTES = 64 * 1024

export interface UdpWorkerConfig {
  host: string
  port: number
  cidrs: Cidr[]
  /** Datagrams handed to the main thread and not yet decoded there; beyond, drops. */
  maxInTransit: number
}

export type FromUdpWorker =
  | { type: 'ready'; address: AddressInfo }
  | { type: 'bind_failed'; code: string | undefined; message: string }
  | { type: 'socket_error'; code: string | undefined }
  | {
      type: 'batch'
      /** The datagrams (see the layout above), or undefined when every one was dropped. */
      batch: Uint8Array | undefined
      datagrams: number
      refused: number
      refusedPeer: string
      /** Datagrams dropped here because the main thread is that far behind. */
      queueFull: number
      queueFullPeer: string
    }
  | { type: 'closed' }

/** `n` datagrams of `bytes` bytes were taken by the main thread. */
export type ToUdpWorker = { type: 'taken'; n: number; bytes: number } | { type: 'close' }

function errno(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined
}

function bind(type: SocketType, host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type, ipv6Only: false, recvBufferSize: UDP_RECV_BUFFER_BYTES })
    const onError = (err: Error): void => {
      sock.close()
      reject(err)
    }
    sock.once('error', onError)
    sock.bind(port, host, () => {
      sock.off('error', onError)
      resolve(sock)
    })
  })
}

/** Binds `host`; `::` falls back to IPv4 on a host without IPv6. */
async function bindListener(host: string, port: number): Promise<Socket> {
  try {
    return await bind(host.includes(':') ? 'udp6' : 'udp4', host, port)
  } catch (err) {
    const code = errno(err)
    if (host !== '::' || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw err
    return bind('udp4', '0.0.0.0', port)
  }
}

class Listener {
  private readonly trust: TrustList
  private buf = Buffer.allocUnsafe(INITIAL_BATCH_BYTES)
  private off = 0
  private datagrams = 0
  private refused = 0
  private refusedPeer = ''
  private queueFull = 0
  private queueFullPeer = ''
  private inTransit = 0
  private bytesInTransit = 0
  private scheduled = false

  constructor(
    private readonly cfg: UdpWorkerConfig,
    private readonly port: MessagePort,
  ) {
    this.trust = new TrustList(cfg.cidrs)
  }

  taken(n: number, bytes: number): void {
    this.inTransit -= n
    this.bytesInTransit -= bytes
  }

  datagram(msg: Buffer, from: string): void {
    if (!this.trust.has(from)) {
      this.refused++
      this.refusedPeer = from
    } else if (
      this.inTransit + this.datagrams >= this.cfg.maxInTransit ||
      this.bytesInTransit + this.off + msg.length > MAX_UDP_BYTES_IN_TRANSIT
    ) {
      this.queueFull++
      this.queueFullPeer = from
    } else {
      const need = 5 + from.length + msg.length
      if (this.off + need > this.buf.length) {
        const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.off + need))
        this.buf.copy(bigger, 0, 0, this.off)
        this.buf = bigger
      }
      this.buf[this.off++] = from.length
      this.off += this.buf.write(from, this.off, 'latin1')
      this.buf.writeUInt32LE(msg.length, this.off)
      this.off += 4
      this.off += msg.copy(this.buf, this.off)
      this.datagrams++
    }
    if (!this.scheduled) {
      this.scheduled = true
      // After the poll phase: every datagram read in this turn goes in one batch.
      setImmediate(() => this.flush())
    }
  }

  flush(): void {
    this.scheduled = false
    if (this.datagrams === 0 && this.refused === 0 && this.queueFull === 0) return
    const batch =
      this.off === 0 ? undefined : new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.off)
    const msg: FromUdpWorker = {
      type: 'batch',
      batch,
      datagrams: this.datagrams,
      refused: this.refused,
      refusedPeer: this.refusedPeer,
      queueFull: this.queueFull,
      queueFullPeer: this.queueFullPeer,
    }
    this.inTransit += this.datagrams
    this.bytesInTransit += this.off
    this.datagrams = 0
    this.refused = 0
    this.queueFull = 0
    // The buffer goes to the main thread (transferred); the next batch starts a new one.
    const transfer = batch !== undefined && this.buf.buffer instanceof ArrayBuffer
    this.port.postMessage(msg, transfer ? [this.buf.buffer] : [])
    this.buf = Buffer.allocUnsafe(INITIAL_BATCH_BYTES)
    this.off = 0
  }
}

async function main(port: MessagePort, cfg: UdpWorkerConfig): Promise<void> {
  let sock: Socket
  try {
    sock = await bindListener(cfg.host, cfg.port)
  } catch (err) {
    const m: FromUdpWorker = {
      type: 'bind_failed',
      code: errno(err),
      message: err instanceof Error ? err.message : String(err),
    }
    port.postMessage(m)
    return
  }
  const listener = new Listener(cfg, port)
  sock.on('error', (err) => {
    const m: FromUdpWorker = { type: 'socket_error', code: errno(err) }
    port.postMessage(m)
  })
  sock.on('message', (msg, rinfo) => listener.datagram(msg, rinfo.address))
  port.on('message', (m: ToUdpWorker) => {
    if (m.type === 'taken') listener.taken(m.n, m.bytes)
    else {
      sock.close(() => {
        listener.flush()
        const closed: FromUdpWorker = { type: 'closed' }
        port.postMessage(closed)
        port.close()
      })
    }
  })
  const ready: FromUdpWorker = { type: 'ready', address: sock.address() }
  port.postMessage(ready)
}

function isConfig(v: unknown): v is UdpWorkerConfig {
  return typeof v === 'object' && v !== null && 'port' in v && 'cidrs' in v
}

if (parentPort !== null && isConfig(workerData)) {
  void main(parentPort, workerData)
}

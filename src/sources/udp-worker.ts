/**
 * @module sources/udp-worker
 * The UDP listener's thread: receives datagrams, refuses untrusted senders, and copies the rest
 * into the ring it shares with the main thread (`udp-ring`). The socket stays drained while the
 * main thread decodes, stores and correlates; decoding stays there because handing decoded
 * events across threads (structured clone) costs more than decoding them
 * (docs/adr/2026-11-22-udp-ingest-budget.md).
 */
import { createSocket, type Socket, type SocketType } from 'node:dgram'
import type { AddressInfo } from 'node:net'
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { TrustList, type Cidr } from './trust.ts'
import { RingWriter, type UdpRing } from './udp-ring.ts'

/** Receive buffer asked of the kernel (capped by net.core.rmem_max) to ride out bursts. */
export const UDP_RECV_BUFFER_BYTES = 4 * 1024 * 1024
/**
 * Datagram bytes handed to the main thread and not yet decoded there (the ring's size; memory
 * is only touched as it fills); beyond, drops.
 */
export const MAX_UDP_BYTES_IN_TRANSIT = 64 * 1024 * 1024

export interface UdpWorkerConfig {
  host: string
  port: number
  cidrs: Cidr[]
  ring: UdpRing
}

export type FromUdpWorker =
  | { type: 'ready'; address: AddressInfo }
  | { type: 'bind_failed'; code: string | undefined; message: string }
  | { type: 'socket_error'; code: string | undefined }
  /** Records are in the ring and the reader had stopped. */
  | { type: 'wake' }
  /** Datagrams dropped in this thread since the last `drops`. */
  | {
      type: 'drops'
      refused: number
      refusedPeer: string
      /** The ring was full: the main thread is that far behind. */
      queueFull: number
      queueFullPeer: string
    }
  | { type: 'closed' }

export type ToUdpWorker = { type: 'close' }

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
  private readonly ring: RingWriter
  private refused = 0
  private refusedPeer = ''
  private queueFull = 0
  private queueFullPeer = ''
  private scheduled = false
  private readonly wake = (): void => {
    const m: FromUdpWorker = { type: 'wake' }
    this.port.postMessage(m)
  }

  constructor(
    cfg: UdpWorkerConfig,
    private readonly port: MessagePort,
  ) {
    this.trust = new TrustList(cfg.cidrs)
    this.ring = new RingWriter(cfg.ring)
  }

  datagram(msg: Buffer, from: string): void {
    if (!this.trust.has(from)) {
      this.refused++
      this.refusedPeer = from
    } else if (!this.ring.push(from, msg, this.wake)) {
      this.queueFull++
      this.queueFullPeer = from
    } else {
      return
    }
    if (!this.scheduled) {
      this.scheduled = true
      // After the poll phase: the drops of this turn are reported together.
      setImmediate(() => this.flush())
    }
  }

  flush(): void {
    this.scheduled = false
    if (this.refused === 0 && this.queueFull === 0) return
    const msg: FromUdpWorker = {
      type: 'drops',
      refused: this.refused,
      refusedPeer: this.refusedPeer,
      queueFull: this.queueFull,
      queueFullPeer: this.queueFullPeer,
    }
    this.refused = 0
    this.queueFull = 0
    this.port.postMessage(msg)
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
    if (m.type !== 'close') return
    sock.close(() => {
      listener.flush()
      const closed: FromUdpWorker = { type: 'closed' }
      port.postMessage(closed)
      port.close()
    })
  })
  const ready: FromUdpWorker = { type: 'ready', address: sock.address() }
  port.postMessage(ready)
}

function isConfig(v: unknown): v is UdpWorkerConfig {
  return typeof v === 'object' && v !== null && 'port' in v && 'cidrs' in v && 'ring' in v
}

if (parentPort !== null && isConfig(workerData)) {
  void main(parentPort, workerData)
}

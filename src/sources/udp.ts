/**
 * @module sources/udp
 * Syslog / JSON over UDP: one datagram is one message (RFC 5426 §3.1), decoded by
 * `decodeMessage`. Datagrams cannot be paused, so when the sink is saturated their events are
 * dropped and counted (`queue_full`) rather than queued without bound.
 */
import { createSocket, type Socket, type SocketType } from 'node:dgram'
import type { AddressInfo } from 'node:net'
import { AppError } from '../errors.ts'
import { decodeMessage } from './decode.ts'
import type { SinkGate, SourceLogger } from './stats.ts'
import type { TrustList } from './trust.ts'

/** Receive buffer asked of the kernel (capped by net.core.rmem_max) to ride out bursts. */
export const UDP_RECV_BUFFER_BYTES = 4 * 1024 * 1024

export interface UdpSourceOptions {
  /** Address to bind; `::` is dual-stack where the host allows it, else `0.0.0.0` is used. */
  host: string
  port: number
  trust: TrustList
  gate: SinkGate
  sensor: string
  maxRecordBytes: number
  log: SourceLogger
}

export interface RunningListener<A> {
  address: A
  close(): Promise<void>
}

function bind(type: SocketType, host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type, ipv6Only: false, recvBufferSize: UDP_RECV_BUFFER_BYTES })
    const onError = (err: Error) => {
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

function errno(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined
}

/** Binds the UDP listener. Fails with E_CONFIG_INVALID naming TLSIGHT_UDP_PORT. */
export async function startUdpSource(o: UdpSourceOptions): Promise<RunningListener<AddressInfo>> {
  let sock: Socket
  try {
    sock = await bind(o.host.includes(':') ? 'udp6' : 'udp4', o.host, o.port)
  } catch (err) {
    const code = errno(err)
    if (o.host !== '::' || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) {
      throw new AppError(
        'E_CONFIG_INVALID',
        `TLSIGHT_UDP_PORT: cannot bind udp ${o.host} port ${o.port} (${code ?? 'error'})`,
        { cause: err },
      )
    }
    // No IPv6 on this host: IPv4 only.
    sock = await bind('udp4', '0.0.0.0', o.port)
  }
  sock.on('error', (err) => o.log.error({ code: errno(err) }, 'UDP log listener error.'))
  sock.on('message', (msg, rinfo) => {
    if (!o.trust.has(rinfo.address)) {
      o.gate.refuse('udp', 'untrusted', { peer: rinfo.address })
      return
    }
    const out = decodeMessage(msg, {
      source: 'udp',
      sensor: o.sensor,
      now: new Date(),
      maxRecordBytes: o.maxRecordBytes,
    })
    o.gate.deliver('udp', out, rinfo.address, false)
  })
  return {
    address: sock.address(),
    close: () => new Promise((resolve) => sock.close(() => resolve())),
  }
}

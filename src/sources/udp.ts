/**
 * @module sources/udp
 * Syslog / JSON over UDP: one datagram is one message (RFC 5426 §3.1), decoded by
 * `decodeMessage`. The socket lives in its own thread (`udp-worker`), which receives and checks
 * the sender; this side decodes, counts and hands the events to the sink. Datagrams cannot be
 * paused, so when the sink is saturated their events are dropped and counted (`queue_full`)
 * rather than queued without bound.
 */
import type { AddressInfo } from 'node:net'
import { AppError } from '../errors.ts'
import { startModuleWorker } from '../threads.ts'
import { decodeMessage } from './decode.ts'
import type { SinkGate, SourceLogger } from './stats.ts'
import type { TrustList } from './trust.ts'
import type { FromUdpWorker, ToUdpWorker, UdpWorkerConfig } from './udp-worker.ts'

export { UDP_RECV_BUFFER_BYTES } from './udp-worker.ts'

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

/** Binds the UDP listener. Fails with E_CONFIG_INVALID naming TLSIGHT_UDP_PORT. */
export async function startUdpSource(o: UdpSourceOptions): Promise<RunningListener<AddressInfo>> {
  const cfg: UdpWorkerConfig = {
    host: o.host,
    port: o.port,
    cidrs: [...o.trust.cidrs],
    // Between the threads as much again as the sink may hold: memory stays bounded.
    maxInTransit: o.gate.maxPending,
  }
  const worker = startModuleWorker(import.meta.url, 'udp-worker', cfg)
  /** Decodes a batch of datagrams (layout in udp-worker) and hands on their events. */
  const deliver = (batch: Uint8Array): void => {
    const text = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength)
    const now = new Date()
    let off = 0
    while (off < batch.length) {
      const peerLen = batch[off] ?? 0
      const peer = text.toString('latin1', off + 1, off + 1 + peerLen)
      off += 1 + peerLen
      const len = text.readUInt32LE(off)
      off += 4
      const out = decodeMessage(batch.subarray(off, off + len), {
        source: 'udp',
        sensor: o.sensor,
        now,
        maxRecordBytes: o.maxRecordBytes,
      })
      off += len
      o.gate.deliver('udp', out, peer, false)
    }
  }
  const send = (m: ToUdpWorker): void => worker.postMessage(m)
  let closed: (() => void) | undefined
  let exited = false
  const ready = new Promise<AddressInfo>((resolve, reject) => {
    worker.on('message', (m: FromUdpWorker) => {
      switch (m.type) {
        case 'ready':
          resolve(m.address)
          break
        case 'bind_failed':
          reject(
            new AppError(
              'E_CONFIG_INVALID',
              `TLSIGHT_UDP_PORT: cannot bind udp ${o.host} port ${o.port} (${m.code ?? 'error'})`,
              { cause: new Error(m.message) },
            ),
          )
          break
        case 'socket_error':
          o.log.error({ code: m.code }, 'UDP log listener error.')
          break
        case 'batch': {
          const g = o.gate
          if (m.refused > 0) g.refuse('udp', 'untrusted', { peer: m.refusedPeer }, m.refused)
          if (m.queueFull > 0) {
            const detail = { peer: m.queueFullPeer, pending: g.stats.pending }
            g.refuse('udp', 'queue_full', detail, m.queueFull)
          }
          if (m.batch !== undefined) {
            deliver(m.batch)
            send({ type: 'taken', n: m.datagrams, bytes: m.batch.length })
          }
          break
        }
        case 'closed':
          closed?.()
          break
      }
    })
    worker.on('error', (err) => {
      o.log.error({ err }, 'UDP log listener thread failed.')
      reject(err)
    })
    worker.on('exit', () => {
      exited = true
      closed?.()
    })
  })
  let address: AddressInfo
  try {
    address = await ready
  } catch (err) {
    await worker.terminate()
    throw err
  }
  let closing: Promise<void> | undefined
  return {
    address,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        if (exited) {
          resolve()
          return
        }
        // Every batch the thread posted before `closed` has been counted when this resolves.
        closed = resolve
        send({ type: 'close' })
      })),
  }
}

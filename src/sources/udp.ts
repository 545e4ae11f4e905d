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
import { createUdpRing, RingReader } from './udp-ring.ts'
import {
  MAX_UDP_BYTES_IN_TRANSIT,
  type FromUdpWorker,
  type ToUdpWorker,
  type UdpWorkerConfig,
} from './udp-worker.ts'

export { UDP_RECV_BUFFER_BYTES } from './udp-worker.ts'

/**
 * Datagrams decoded per event-loop turn: a backlog (after the main thread was busy) is worked
 * off in slices, so timers and API requests run in between.
 */
const DATAGRAMS_PER_TURN = 2_000

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
  // Between the threads as much again as the sink may hold: memory stays bounded.
  const ring = createUdpRing(MAX_UDP_BYTES_IN_TRANSIT, o.gate.maxPending)
  const cfg: UdpWorkerConfig = { host: o.host, port: o.port, cidrs: [...o.trust.cidrs], ring }
  const worker = startModuleWorker(import.meta.url, 'udp-worker', cfg)
  const send = (m: ToUdpWorker): void => worker.postMessage(m)
  const reader = new RingReader(ring)
  let pumping = false
  let closed: (() => void) | undefined
  let workerClosed = false
  let exited = false
  let now = new Date()
  const onDatagram = (peer: string, bytes: Uint8Array): void => {
    // Decoded while `bytes` is valid (a view of the ring): events hold strings, not views.
    const out = decodeMessage(bytes, {
      source: 'udp',
      sensor: o.sensor,
      now,
      maxRecordBytes: o.maxRecordBytes,
    })
    o.gate.deliver('udp', out, peer, false)
  }
  // Datagrams are decoded in slices, so timers and API requests run in between.
  const pump = (): void => {
    now = new Date()
    if (reader.take(DATAGRAMS_PER_TURN, onDatagram) === DATAGRAMS_PER_TURN || reader.stop()) {
      setImmediate(pump)
      return
    }
    pumping = false
    if (workerClosed || exited) closed?.()
  }
  const wake = (): void => {
    if (pumping) return
    pumping = true
    pump()
  }
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
        case 'wake':
          wake()
          break
        case 'drops': {
          const g = o.gate
          if (m.refused > 0) g.refuse('udp', 'untrusted', { peer: m.refusedPeer }, m.refused)
          if (m.queueFull > 0) {
            const detail = { peer: m.queueFullPeer, pending: g.stats.pending }
            g.refuse('udp', 'queue_full', detail, m.queueFull)
          }
          break
        }
        case 'closed':
          workerClosed = true
          // Records written before `closed` are in the ring: read them before reporting closed.
          if (reader.records > 0) wake()
          else if (!pumping) closed?.()
          break
      }
    })
    worker.on('error', (err) => {
      o.log.error({ err }, 'UDP log listener thread failed.')
      reject(err)
    })
    worker.on('exit', () => {
      exited = true
      if (!pumping) closed?.()
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

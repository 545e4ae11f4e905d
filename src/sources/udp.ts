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
  const cfg: UdpWorkerConfig = {
    host: o.host,
    port: o.port,
    cidrs: [...o.trust.cidrs],
    // Between the threads as much again as the sink may hold: memory stays bounded.
    maxInTransit: o.gate.maxPending,
  }
  const worker = startModuleWorker(import.meta.url, 'udp-worker', cfg)
  const send = (m: ToUdpWorker): void => worker.postMessage(m)
  // Batches waiting to be decoded (layout in udp-worker), worked off in slices (see pump).
  const queue: { batch: Uint8Array; text: Buffer; off: number }[] = []
  let pumping = false
  let closed: (() => void) | undefined
  let workerClosed = false
  let exited = false
  const pump = (): void => {
    let budget = DATAGRAMS_PER_TURN
    let n = 0
    let bytes = 0
    const now = new Date()
    while (budget-- > 0) {
      const q = queue[0]
      if (q === undefined) break
      const start = q.off
      const peerLen = q.batch[q.off] ?? 0
      const peer = q.text.toString('latin1', q.off + 1, q.off + 1 + peerLen)
      q.off += 1 + peerLen
      const len = q.text.readUInt32LE(q.off)
      q.off += 4
      const out = decodeMessage(q.batch.subarray(q.off, q.off + len), {
        source: 'udp',
        sensor: o.sensor,
        now,
        maxRecordBytes: o.maxRecordBytes,
      })
      q.off += len
      n++
      bytes += q.off - start
      if (q.off >= q.batch.length) queue.shift()
      o.gate.deliver('udp', out, peer, false)
    }
    if (n > 0) send({ type: 'taken', n, bytes })
    if (queue.length > 0) {
      setImmediate(pump)
      return
    }
    pumping = false
    if (workerClosed || exited) closed?.()
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
        case 'batch': {
          const g = o.gate
          if (m.refused > 0) g.refuse('udp', 'untrusted', { peer: m.refusedPeer }, m.refused)
          if (m.queueFull > 0) {
            const detail = { peer: m.queueFullPeer, pending: g.stats.pending }
            g.refuse('udp', 'queue_full', detail, m.queueFull)
          }
          if (m.batch !== undefined) {
            const b = m.batch
            queue.push({
              batch: b,
              text: Buffer.from(b.buffer, b.byteOffset, b.byteLength),
              off: 0,
            })
            if (!pumping) {
              pumping = true
              pump()
            }
          }
          break
        }
        case 'closed':
          workerClosed = true
          if (!pumping) closed?.()
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

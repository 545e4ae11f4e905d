/**
 * @module bench/udp-receiver — one receiver of the UDP bench (`bench/udp.ts`), in its own process
 * so it never shares an event loop with the orchestration or the sender.
 *
 *   node --import tsx bench/udp-receiver.ts --mode bare|tlsight
 *
 * Spawned with an IPC channel. It sends `{ type: 'ready', port }`, then answers
 * `{ type: 'counts' }` with its counters and `{ type: 'finish' }` with the stored row count
 * (tlsight) before it exits.
 * - `bare`: a node `dgram` socket with the listener's receive buffer (`UDP_RECV_BUFFER_BYTES`),
 *   bound like ours (`::`, dual-stack), doing only `JSON.parse` of the syslog MSG.
 * - `tlsight`: `startServe` with the environment the parent gives it (a temporary
 *   `TLSIGHT_DATA_DIR`: embedded chDB storage on); counts from `sources.stats`.
 */
import { createSocket, type Socket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { UDP_RECV_BUFFER_BYTES } from '../src/sources/udp.ts'

/** What one receiver has counted since it started. */
export interface ReceiverCounts {
  /** Datagrams (records) that reached the process. */
  received: number
  /** Records parsed (bare) or acknowledged by the store (tlsight). */
  accepted: number
  /** Records the receiver itself dropped, by reason. */
  dropped: Record<string, number>
  /** Events handed on and not settled yet (tlsight). */
  pending: number
  /** The socket's `drops` column in /proc/net/udp{,6}: datagrams the kernel threw away. */
  kernelDrops: number
  /** Longest event-loop delay since the last `reset`, ms. */
  loopMaxMs: number
  /** CPU time of the whole process (every thread: chDB's included), ms. */
  cpuMs: number
  /** CPU time of the main (event-loop) thread, ms; null where /proc is not there. */
  mainCpuMs: number | null
}

/** `reset`: start a new event-loop delay measurement after answering. */
export type ParentMessage = { type: 'counts'; reset?: boolean } | { type: 'finish' }
export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'counts'; counts: ReceiverCounts }
  | { type: 'finished'; rows: number | null; counts: ReceiverCounts }
  | { type: 'error'; message: string }

/**
 * The kernel's drop counter of the UDP socket bound to `port` (last column of /proc/net/udp and
 * /proc/net/udp6; the local address is `HEXADDR:HEXPORT`). null when the socket is not listed.
 */
export function socketDrops(port: number): number | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols.length < 13 || !cols[1]!.endsWith(`:${hexPort}`)) continue
      return Number(cols[cols.length - 1])
    }
  }
  return null
}

const loop = monitorEventLoopDelay({ resolution: 10 })
loop.enable()

function loopMaxMs(reset: boolean): number {
  const ms = loop.max / 1e6
  if (reset) loop.reset()
  return ms
}

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100

/** utime + stime of the main thread (/proc/self/task/<pid>/stat, fields 14 and 15). */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(f[11]) + Number(f[12])) * 1000) / USER_HZ
  } catch {
    return null
  }
}

function cpu(): { cpuMs: number; mainCpuMs: number | null } {
  const u = process.cpuUsage()
  return { cpuMs: (u.user + u.system) / 1000, mainCpuMs: mainThreadCpuMs() }
}

function send(m: ChildMessage): void {
  process.send?.(m)
}

/** Sends the last message, then exits (a normal exit writes the `--cpu-prof` profile). */
function sendAndExit(m: ChildMessage, code: number): void {
  if (process.send === undefined) process.exit(code)
  process.send(m, () => process.exit(code))
}

function bindBare(onMessage: (msg: Buffer) => void): Promise<Socket> {
  const attempt = (type: 'udp4' | 'udp6', host: string) =>
    new Promise<Socket>((resolve, reject) => {
      const sock = createSocket({ type, ipv6Only: false, recvBufferSize: UDP_RECV_BUFFER_BYTES })
      sock.once('error', reject)
      sock.on('message', onMessage)
      sock.bind(0, host, () => {
        sock.off('error', reject)
        resolve(sock)
      })
    })
  // As the listener does: `::` (dual-stack), else IPv4 only.
  return attempt('udp6', '::').catch(() => attempt('udp4', '0.0.0.0'))
}

async function runBare(): Promise<void> {
  let received = 0
  let parsed = 0
  let bad = 0
  const sock = await bindBare((msg) => {
    received++
    // The MSG part of an nginx syslog line: the JSON after `TAG: `.
    const text = msg.toString('utf8')
    const brace = text.indexOf('{')
    try {
      JSON.parse(brace < 0 ? text : text.slice(brace))
      parsed++
    } catch {
      bad++
    }
  })
  const port = sock.address().port
  const counts = (reset = false): ReceiverCounts => ({
    received,
    accepted: parsed,
    dropped: { bad_json: bad },
    pending: 0,
    kernelDrops: socketDrops(port) ?? 0,
    loopMaxMs: loopMaxMs(reset),
    ...cpu(),
  })
  process.on('message', (raw) => {
    const m = raw as ParentMessage
    if (m.type === 'counts') send({ type: 'counts', counts: counts(m.reset === true) })
    else if (m.type === 'finish') {
      const c = counts()
      sock.close(() => sendAndExit({ type: 'finished', rows: null, counts: c }, 0))
    }
  })
  send({ type: 'ready', port })
}

async function runTlsight(): Promise<void> {
  const { startServe } = await import('../src/serve/serve.ts')
  const server = await startServe({ env: process.env, host: '127.0.0.1' })
  const port = server.sources.addresses.udp?.port
  if (port === undefined) throw new Error('the UDP listener did not start')
  const counts = (reset = false): ReceiverCounts => {
    const s = server.sources.stats.snapshot()
    const udp = s.sources.udp
    const dropped: Record<string, number> = {}
    for (const [k, v] of Object.entries(udp.dropped)) if (v > 0) dropped[k] = v
    return {
      received: udp.received,
      accepted: udp.accepted,
      dropped,
      pending: s.pending,
      kernelDrops: socketDrops(port) ?? 0,
      loopMaxMs: loopMaxMs(reset),
      ...cpu(),
    }
  }
  process.on('message', (raw) => {
    const m = raw as ParentMessage
    if (m.type === 'counts') send({ type: 'counts', counts: counts(m.reset === true) })
    else if (m.type === 'finish') {
      void (async () => {
        const c = counts()
        await server.store.writer.flush()
        const rows = await server.store.connection.query<{ n: number | string }>(
          'SELECT count() AS n FROM tlsight_logs.http_events',
        )
        await server.close()
        sendAndExit({ type: 'finished', rows: Number(rows[0]?.n ?? 0), counts: c }, 0)
      })().catch((e: unknown) => {
        sendAndExit({ type: 'error', message: e instanceof Error ? e.message : String(e) }, 1)
      })
    }
  })
  send({ type: 'ready', port })
}

const { values } = parseArgs({ options: { mode: { type: 'string' } } })
const run = values.mode === 'bare' ? runBare : values.mode === 'tlsight' ? runTlsight : undefined
if (run === undefined) {
  console.error('usage: udp-receiver.ts --mode bare|tlsight')
  process.exitCode = 2
} else if (process.send === undefined) {
  console.error('udp-receiver.ts runs as a child of bench/udp.ts (it needs an IPC channel)')
  process.exitCode = 2
} else {
  run().catch((e: unknown) => {
    sendAndExit({ type: 'error', message: e instanceof Error ? e.message : String(e) }, 1)
  })
}

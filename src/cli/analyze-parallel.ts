/**
 * @module cli/analyze-parallel
 * `analyze` on several cores: every worker parses the whole stream (cheap) and fingerprints the
 * flows of its shard (the expensive part). Lines are written per input chunk in worker order,
 * so a file gives the same output on every run.
 */
import { Worker } from 'node:worker_threads'
import type { CaptureSummary } from '../protocols/pcap/types.ts'
import { addStats, emptyStats, type HandshakeEngineStats } from '../pipeline/handshakes.ts'
import type { OutputFormat } from './output.ts'

export interface WorkerConfig {
  index: number
  count: number
  format: OutputFormat
  ja4plus: boolean
}

export type ToWorker = { type: 'chunk'; seq: number; buf: SharedArrayBuffer; length: number } | { type: 'end' }

export type FromWorker =
  | { type: 'out'; seq: number; text: string; events: number; failed: boolean }
  | { type: 'done'; text: string; events: number; summary: CaptureSummary; stats: HandshakeEngineStats }

/** Chunks handed to the workers and not yet answered; bounds memory when output is slow. */
const MAX_CHUNKS_IN_FLIGHT = 8

/**
 * The compiled build runs `analyze-worker.js`. Run from source (tests, `node --import tsx`), the
 * worker is TypeScript and loader hooks do not reach worker threads, so it registers tsx itself.
 */
function startWorker(config: WorkerConfig): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./analyze-worker.js', import.meta.url), { workerData: config })
  }
  const url = new URL('./analyze-worker.ts', import.meta.url).href
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}) })`
  return new Worker(boot, { eval: true, workerData: config })
}

export interface ParallelResult {
  summary: CaptureSummary
  stats: HandshakeEngineStats
}

export class ParallelAnalyzer {
  private readonly workers: Worker[]
  private seq = 0
  private written = 0
  /** Per chunk: the text each worker returned for it. */
  private readonly pending = new Map<number, { texts: string[]; answers: number }>()
  private waiters: (() => void)[] = []
  private failure: Error | undefined
  failed = false
  events = 0

  constructor(
    count: number,
    format: OutputFormat,
    ja4plus: boolean,
    private readonly write: (text: string) => void,
  ) {
    this.workers = []
    for (let index = 0; index < count; index++) {
      const config: WorkerConfig = { index, count, format, ja4plus }
      const w = startWorker(config)
      w.on('message', (m: FromWorker) => {
        if (m.type === 'out') this.onOut(index, m)
      })
      w.on('error', (err) => {
        this.failure = err
        this.wake()
      })
      this.workers.push(w)
    }
  }

  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  private onOut(index: number, m: { seq: number; text: string; events: number; failed: boolean }): void {
    let slot = this.pending.get(m.seq)
    if (slot === undefined) {
      slot = { texts: Array.from({ length: this.workers.length }, () => ''), answers: 0 }
      this.pending.set(m.seq, slot)
    }
    slot.texts[index] = m.text
    slot.answers++
    this.events += m.events
    if (m.failed) this.failed = true
    // Write every chunk whose answers are all in, in input order.
    for (;;) {
      const next = this.pending.get(this.written)
      if (next === undefined || next.answers < this.workers.length) break
      this.pending.delete(this.written)
      this.written++
      for (const t of next.texts) if (t !== '') this.write(t)
    }
    this.wake()
  }

  /** Hands a chunk to every worker; waits while too many are in flight. */
  async push(chunk: Uint8Array): Promise<void> {
    while (this.seq - this.written >= MAX_CHUNKS_IN_FLIGHT && this.failure === undefined) {
      await new Promise<void>((r) => this.waiters.push(r))
    }
    if (this.failure !== undefined) throw this.failure
    const buf = new SharedArrayBuffer(chunk.length)
    new Uint8Array(buf).set(chunk)
    const msg: ToWorker = { type: 'chunk', seq: this.seq++, buf, length: chunk.length }
    for (const w of this.workers) w.postMessage(msg)
  }

  /** Flushes every worker and merges their statistics (they add up by construction). */
  async end(): Promise<ParallelResult> {
    while (this.written < this.seq && this.failure === undefined) {
      await new Promise<void>((r) => this.waiters.push(r))
    }
    if (this.failure !== undefined) throw this.failure
    const results = await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<Extract<FromWorker, { type: 'done' }>>((resolve, reject) => {
            w.on('message', (m: FromWorker) => {
              if (m.type === 'done') resolve(m)
            })
            w.once('error', reject)
            const end: ToWorker = { type: 'end' }
            w.postMessage(end)
          }),
      ),
    )
    for (const r of results) {
      this.events += r.events
      if (r.text !== '') this.write(r.text)
    }
    await Promise.all(this.workers.map((w) => w.terminate()))
    const first = results[0]
    if (first === undefined) throw new Error('no workers')
    return { summary: first.summary, stats: mergeStats(results.map((r) => r.stats)) }
  }

  async destroy(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

function mergeStats(all: HandshakeEngineStats[]): HandshakeEngineStats {
  const out = emptyStats()
  for (const s of all) addStats(out, s)
  return out
}

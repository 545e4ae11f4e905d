/**
 * @module cli/analyze-parallel
 * `analyze` on several cores, as a pipeline: worker threads parse the capture and follow the
 * flows (each the flows of its shard, when there are several), and this thread computes the
 * `tls` events' fingerprints and hands on every event, in order
 * (docs/adr/2026-11-22-deferred-fingerprints.md). A file is read by each worker itself; stdin is
 * read here and each chunk shared with every worker. Events come per input chunk in worker
 * order, so a file gives the same output on every run (docs/adr/2026-11-22-flow-sharded-analyze.md).
 */
import type { Worker } from 'node:worker_threads'
import { startModuleWorker } from '../threads.ts'
import type { CaptureSummary } from '../protocols/pcap/types.ts'
import { addStats, emptyStats, type HandshakeEngineStats } from '../pipeline/stats.ts'
import { DeferredBatchReader } from '../pipeline/deferred-batch.ts'
import { familySwitches, type Family } from '../fingerprints/families.ts'
import type { CaptureEvent } from '../events/capture.ts'
import type { OutputFormat } from './output.ts'

/**
 * Up to this many workers, the main thread fingerprints (deferred); with more, it would be the
 * bottleneck, so each worker fingerprints and formats its own shard and this thread only writes.
 */
export const MAX_WORKERS_DEFERRING = 2

export interface WorkerConfig {
  index: number
  count: number
  /** Fingerprints deferred to the main thread; else computed and formatted in the worker. */
  defer: boolean
  format: OutputFormat
  sensor: string
  ja4plus: boolean
  families: Family[]
  /** A capture file the worker reads itself; absent = chunks come by message. */
  path?: string
}

export type ToWorker =
  | { type: 'chunk'; seq: number; buf: SharedArrayBuffer; length: number }
  | { type: 'end' }
  | { type: 'credit'; n: number }

interface Output {
  /** Deferring workers: the events of a chunk (see pipeline/deferred-batch), if any. */
  batch: Uint8Array | undefined
  /** Other workers: encoded lines (transferred buffers) and the bytes used of each. */
  buffers: ArrayBuffer[]
  lengths: number[]
  events: number
}

export type FromWorker =
  | ({ type: 'out'; seq: number; bytes: number; failed: boolean } & Output)
  | ({ type: 'done'; summary: CaptureSummary; stats: HandshakeEngineStats } & Output)

/** Input chunks a worker may be ahead of the written output; bounds memory on a slow sink. */
const MAX_CHUNKS_IN_FLIGHT = 8

function startWorker(config: WorkerConfig): Worker {
  return startModuleWorker(import.meta.url, 'analyze-worker', config)
}

export interface ParallelResult {
  summary: CaptureSummary
  stats: HandshakeEngineStats
}

interface Slot {
  parts: (Output | undefined)[]
  answers: number
}

export interface ParallelOptions {
  /** Worker threads (shards). */
  workers: number
  sensor: string
  ja4plus: boolean
  families: readonly Family[]
  /** A file for the workers to read, or undefined to feed chunks with `push`. */
  path: string | undefined
  format: OutputFormat
  /** Every event, in order (from deferring workers, completed here)… */
  onEvent: (e: CaptureEvent) => void
  /** …or lines already encoded by the workers (more than MAX_WORKERS_DEFERRING of them). */
  write: (bytes: Uint8Array) => void
}

export class ParallelAnalyzer {
  private readonly workers: Worker[] = []
  private readonly path: string | undefined
  private readonly onEvent: (e: CaptureEvent) => void
  private readonly write: (bytes: Uint8Array) => void
  /** One per worker: a body may be referred to in a later batch of the same worker. */
  private readonly readers: DeferredBatchReader[] = []
  private seq = 0
  private written = 0
  private readonly pending = new Map<number, Slot>()
  private readonly done: (Extract<FromWorker, { type: 'done' }> | undefined)[]
  private doneCount = 0
  private waiters: (() => void)[] = []
  private failure: Error | undefined
  /** Set when the input turned out not to be a capture (workers stop reading). */
  failed = false
  events = 0
  /** Input bytes every worker has parsed (file mode progress). */
  bytes = 0

  constructor(o: ParallelOptions) {
    const count = o.workers
    const path = o.path
    this.path = path
    this.onEvent = o.onEvent
    this.write = o.write
    const defer = count <= MAX_WORKERS_DEFERRING
    const fam = familySwitches(o.families, o.ja4plus)
    this.done = Array.from({ length: count }, () => undefined)
    for (let index = 0; index < count; index++) {
      const config: WorkerConfig = {
        index,
        count,
        defer,
        format: o.format,
        sensor: o.sensor,
        ja4plus: o.ja4plus,
        families: [...o.families],
      }
      if (path !== undefined) config.path = path
      this.readers.push(new DeferredBatchReader(o.sensor, fam))
      const w = startWorker(config)
      w.on('message', (m: FromWorker) => {
        try {
          this.onMessage(index, m)
        } catch (err) {
          // A batch that does not decode, or a sink that throws: the run fails, with the reason.
          this.failure = err instanceof Error ? err : new Error(String(err))
          this.wake()
        }
      })
      w.on('error', (err) => {
        this.failure = err
        this.wake()
      })
      this.workers.push(w)
      if (path !== undefined) this.credit(w, MAX_CHUNKS_IN_FLIGHT)
    }
  }

  private credit(w: Worker, n: number): void {
    const m: ToWorker = { type: 'credit', n }
    w.postMessage(m)
  }

  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  private emit(index: number, o: Output): void {
    if (o.batch !== undefined) {
      this.readers[index]?.read(o.batch, (e) => {
        this.events++
        this.onEvent(e)
      })
    }
    this.events += o.events
    o.buffers.forEach((b, i) => {
      const n = o.lengths[i] ?? 0
      if (n > 0) this.write(new Uint8Array(b, 0, n))
    })
  }

  private onMessage(index: number, m: FromWorker): void {
    if (m.type === 'done') {
      this.done[index] = m
      this.doneCount++
      this.wake()
      return
    }
    let slot = this.pending.get(m.seq)
    if (slot === undefined) {
      slot = { parts: Array.from({ length: this.workers.length }, () => undefined), answers: 0 }
      this.pending.set(m.seq, slot)
    }
    slot.parts[index] = m
    slot.answers++
    if (m.failed) this.failed = true
    if (index === 0) this.bytes += m.bytes
    // Write every chunk whose answers are all in, in input order.
    for (;;) {
      const next = this.pending.get(this.written)
      if (next === undefined || next.answers < this.workers.length) break
      this.pending.delete(this.written)
      this.written++
      next.parts.forEach((part, i) => {
        if (part !== undefined) this.emit(i, part)
      })
      if (this.path !== undefined) for (const w of this.workers) this.credit(w, 1)
    }
    this.wake()
  }

  private async until(cond: () => boolean): Promise<void> {
    while (!cond() && this.failure === undefined) {
      await new Promise<void>((r) => this.waiters.push(r))
    }
    if (this.failure !== undefined) throw this.failure
  }

  /** Waits for the output to catch up (file mode); call between writes to report progress. */
  async progress(): Promise<boolean> {
    const before = this.written
    await this.until(() => this.written > before || this.doneCount === this.workers.length)
    return this.doneCount < this.workers.length
  }

  /** Stdin mode: shares a chunk with every worker; waits while too many are unanswered. */
  async push(chunk: Uint8Array): Promise<void> {
    await this.until(() => this.seq - this.written < MAX_CHUNKS_IN_FLIGHT)
    const buf = new SharedArrayBuffer(chunk.length)
    new Uint8Array(buf).set(chunk)
    const msg: ToWorker = { type: 'chunk', seq: this.seq++, buf, length: chunk.length }
    for (const w of this.workers) w.postMessage(msg)
  }

  /** Finishes every worker and merges their statistics (they add up by construction). */
  async end(): Promise<ParallelResult> {
    if (this.path === undefined) {
      const end: ToWorker = { type: 'end' }
      for (const w of this.workers) w.postMessage(end)
    }
    await this.until(() => this.doneCount === this.workers.length)
    const results: Extract<FromWorker, { type: 'done' }>[] = []
    for (const r of this.done) if (r !== undefined) results.push(r)
    // Chunks answered by all workers were written as they came; what the engines emitted at
    // the end of input follows, in worker order.
    this.done.forEach((r, i) => {
      if (r !== undefined) this.emit(i, r)
    })
    await this.destroy()
    const first = results[0]
    if (first === undefined) throw new Error('no workers')
    const stats = emptyStats()
    for (const r of results) addStats(stats, r.stats)
    return { summary: first.summary, stats }
  }

  async destroy(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

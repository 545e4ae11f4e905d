/**
 * @module cli/analyze-worker
 * One shard of a parallel `analyze`: parses the whole capture stream (read from the file itself,
 * or chunks posted by the main thread), follows only the flows of its shard, and hands back the
 * events of each input chunk, `tls` ones without their fingerprints (the main thread computes
 * them; docs/adr/2026-11-22-deferred-fingerprints.md).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { CaptureAnalyzer } from '../pipeline/capture-analyzer.ts'
import { fileChunks } from './file-chunks.ts'
import { DeferredBatchWriter } from '../pipeline/deferred-batch.ts'
import { LineBuffer, eventFormatter, outputEncoding } from './output.ts'
import type { FromWorker, ToWorker, WorkerConfig } from './analyze-parallel.ts'

function isConfig(v: unknown): v is WorkerConfig {
  return typeof v === 'object' && v !== null && 'index' in v && 'count' in v && 'defer' in v
}

class Shard {
  private readonly analyzer: CaptureAnalyzer
  /** Deferring: the batch of events; else the formatted lines. */
  private readonly out: DeferredBatchWriter | undefined
  private readonly lines: LineBuffer | undefined
  private events = 0

  constructor(
    cfg: WorkerConfig,
    private readonly port: MessagePort,
  ) {
    const common = {
      sensor: cfg.sensor,
      ja4plus: cfg.ja4plus,
      families: cfg.families,
      shard: { index: cfg.index, count: cfg.count },
    }
    if (cfg.defer) {
      const out = (this.out = new DeferredBatchWriter())
      this.analyzer = new CaptureAnalyzer({
        ...common,
        onEvent: (e) => out.event(e),
        deferred: out,
      })
    } else {
      const lines = (this.lines = new LineBuffer(outputEncoding(cfg.format)))
      const format = eventFormatter(cfg.format, cfg.sensor)
      this.analyzer = new CaptureAnalyzer({
        ...common,
        onEvent: (e) => {
          lines.line(format(e))
          this.events++
        },
      })
    }
  }

  get failed(): boolean {
    return this.analyzer.failed
  }

  /** What was produced since the last call, and the buffers to transfer (ours alone). */
  private take(): {
    out: {
      batch: Uint8Array | undefined
      buffers: ArrayBuffer[]
      lengths: number[]
      events: number
    }
    transfer: ArrayBuffer[]
  } {
    const batch = this.out?.take()
    // Each line chunk starts its own ArrayBuffer (LineBuffer allocates >= 1 MiB, never pooled).
    const chunks = this.lines?.take() ?? []
    const buffers = chunks.map((c) =>
      c.byteOffset === 0 && c.buffer instanceof ArrayBuffer ? c.buffer : c.slice().buffer,
    )
    const events = this.events
    this.events = 0
    const transfer = [...buffers]
    if (batch?.buffer instanceof ArrayBuffer) transfer.push(batch.buffer)
    return { out: { batch, buffers, lengths: chunks.map((c) => c.length), events }, transfer }
  }

  chunk(seq: number, bytes: Uint8Array): void {
    this.analyzer.push(bytes)
    const { out, transfer } = this.take()
    const msg: FromWorker = {
      type: 'out',
      seq,
      bytes: bytes.length,
      failed: this.analyzer.failed,
      ...out,
    }
    this.port.postMessage(msg, transfer)
  }

  end(): void {
    const { summary, stats } = this.analyzer.end()
    const { out, transfer } = this.take()
    const msg: FromWorker = { type: 'done', summary, stats, ...out }
    this.port.postMessage(msg, transfer)
  }
}

async function readFile(shard: Shard, path: string, port: MessagePort): Promise<void> {
  // Credits: the main thread grants one per chunk it has written, so a slow sink stops us.
  let credits = 0
  let wake: (() => void) | undefined
  port.on('message', (m: ToWorker) => {
    if (m.type === 'credit') {
      credits += m.n
      wake?.()
    }
  })
  let seq = 0
  for await (const chunk of fileChunks(path)) {
    while (credits <= 0) await new Promise<void>((r) => (wake = r))
    credits--
    shard.chunk(seq++, chunk)
    if (shard.failed) break
  }
  shard.end()
}

const port = parentPort
if (port !== null && isConfig(workerData)) {
  const cfg = workerData
  const shard = new Shard(cfg, port)
  if (cfg.path !== undefined) {
    readFile(shard, cfg.path, port).catch((err: unknown) => {
      throw err
    })
  } else {
    port.on('message', (m: ToWorker) => {
      if (m.type === 'chunk') shard.chunk(m.seq, new Uint8Array(m.buf, 0, m.length))
      else if (m.type === 'end') shard.end()
    })
  }
}

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
import type { FromWorker, ToWorker, WorkerConfig } from './analyze-parallel.ts'

function isConfig(v: unknown): v is WorkerConfig {
  return typeof v === 'object' && v !== null && 'index' in v && 'count' in v && 'families' in v
}

class Shard {
  private readonly analyzer: CaptureAnalyzer
  private readonly out = new DeferredBatchWriter()

  constructor(
    cfg: WorkerConfig,
    private readonly port: MessagePort,
  ) {
    this.analyzer = new CaptureAnalyzer({
      sensor: cfg.sensor,
      ja4plus: cfg.ja4plus,
      families: cfg.families,
      shard: { index: cfg.index, count: cfg.count },
      onEvent: (e) => this.out.event(e),
      deferred: this.out,
    })
  }

  get failed(): boolean {
    return this.analyzer.failed
  }

  /** The batch so far, and the buffer to transfer (its bytes are ours alone). */
  private take(): { batch: Uint8Array | undefined; transfer: ArrayBuffer[] } {
    const batch = this.out.take()
    const b = batch?.buffer
    return { batch, transfer: b instanceof ArrayBuffer ? [b] : [] }
  }

  chunk(seq: number, bytes: Uint8Array): void {
    this.analyzer.push(bytes)
    const { batch, transfer } = this.take()
    const msg: FromWorker = {
      type: 'out',
      seq,
      bytes: bytes.length,
      failed: this.analyzer.failed,
      batch,
    }
    this.port.postMessage(msg, transfer)
  }

  end(): void {
    const { summary, stats } = this.analyzer.end()
    const { batch, transfer } = this.take()
    const msg: FromWorker = { type: 'done', summary, stats, batch }
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

/**
 * @module cli/analyze-worker
 * One shard of a parallel `analyze`: parses the whole capture stream (read from the file itself,
 * or chunks posted by the main thread), fingerprints only the flows of its shard, and hands back
 * the encoded lines of each input chunk as transferred buffers.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { CaptureAnalyzer } from '../pipeline/capture-analyzer.ts'
import { fileChunks } from './file-chunks.ts'
import { LineBuffer, eventFormatter, outputEncoding, sensorName } from './output.ts'
import type { FromWorker, ToWorker, WorkerConfig } from './analyze-parallel.ts'

function isConfig(v: unknown): v is WorkerConfig {
  return typeof v === 'object' && v !== null && 'index' in v && 'count' in v && 'format' in v
}

class Shard {
  private readonly out: LineBuffer
  private readonly analyzer: CaptureAnalyzer
  private events = 0

  constructor(
    cfg: WorkerConfig,
    private readonly port: MessagePort,
  ) {
    this.out = new LineBuffer(outputEncoding(cfg.format))
    const sensor = sensorName(process.env)
    const format = eventFormatter(cfg.format, sensor)
    this.analyzer = new CaptureAnalyzer({
      sensor,
      ja4plus: cfg.ja4plus,
      families: cfg.families,
      shard: { index: cfg.index, count: cfg.count },
      onEvent: (e) => {
        this.out.line(format(e))
        this.events++
      },
    })
  }

  get failed(): boolean {
    return this.analyzer.failed
  }

  private take(): { buffers: ArrayBuffer[]; lengths: number[]; events: number } {
    const chunks = this.out.take()
    const events = this.events
    this.events = 0
    // Each chunk starts its own ArrayBuffer (LineBuffer allocates ≥ 1 MiB, never pooled).
    const buffers = chunks.map((c) =>
      c.byteOffset === 0 && c.buffer instanceof ArrayBuffer ? c.buffer : c.slice().buffer,
    )
    return { buffers, lengths: chunks.map((c) => c.length), events }
  }

  chunk(seq: number, bytes: Uint8Array): void {
    this.analyzer.push(bytes)
    const t = this.take()
    const msg: FromWorker = {
      type: 'out',
      seq,
      bytes: bytes.length,
      failed: this.analyzer.failed,
      ...t,
    }
    this.port.postMessage(msg, t.buffers)
  }

  end(): void {
    const { summary, stats } = this.analyzer.end()
    const t = this.take()
    const msg: FromWorker = { type: 'done', summary, stats, ...t }
    this.port.postMessage(msg, t.buffers)
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

/**
 * @module cli/analyze-worker
 * One shard of a parallel `analyze`: reads the whole capture stream, fingerprints only the flows
 * of its shard, and returns formatted lines per input chunk.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { CaptureReader } from '../protocols/pcap/reader.ts'
import { HandshakeEngine } from '../pipeline/handshakes.ts'
import { tlsEventJson } from '../events/json.ts'
import { tableRow } from './output.ts'
import type { ToWorker, WorkerConfig, FromWorker } from './analyze-parallel.ts'

function isConfig(v: unknown): v is WorkerConfig {
  return typeof v === 'object' && v !== null && 'index' in v && 'count' in v && 'format' in v
}

const port = parentPort
if (port !== null && isConfig(workerData)) {
  const cfg = workerData
  const format = cfg.format === 'jsonl' ? tlsEventJson : tableRow
  let lines: string[] = []
  const engine = new HandshakeEngine({
    ja4plus: cfg.ja4plus,
    shard: { index: cfg.index, count: cfg.count },
    onEvent: (e) => lines.push(format(e)),
  })
  const reader = new CaptureReader((rec) => engine.packet(rec))
  const take = (): string => {
    const text = lines.length === 0 ? '' : lines.join('\n') + '\n'
    lines = []
    return text
  }
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'chunk') {
      if (!reader.failed) reader.push(new Uint8Array(msg.buf, 0, msg.length))
      const n = lines.length
      const reply: FromWorker = { type: 'out', seq: msg.seq, text: take(), events: n, failed: reader.failed }
      port.postMessage(reply)
    } else {
      const summary = reader.end()
      const stats = engine.finish()
      const n = lines.length
      const reply: FromWorker = { type: 'done', text: take(), events: n, summary, stats }
      port.postMessage(reply)
    }
  })
}

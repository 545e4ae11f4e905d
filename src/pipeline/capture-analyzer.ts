/**
 * @module pipeline/capture-analyzer
 * A capture stream in, `tls` events out: the capture reader feeding the handshake engine. Used by
 * `analyze` (one thread or one shard per worker) and by in-memory collection.
 */
import { CaptureReader } from '../protocols/pcap/reader.ts'
import type { CaptureSummary } from '../protocols/pcap/types.ts'
import { HandshakeEngine, type HandshakeEngineOptions } from './handshakes.ts'
import type { HandshakeEngineStats } from './stats.ts'

export class CaptureAnalyzer {
  private readonly engine: HandshakeEngine
  private readonly reader: CaptureReader

  constructor(opts: HandshakeEngineOptions) {
    this.engine = new HandshakeEngine(opts)
    this.reader = new CaptureReader((rec) => this.engine.packet(rec))
  }

  /** Feeds a chunk of the capture; chunks after the input proved not to be a capture are ignored. */
  push(chunk: Uint8Array): void {
    if (!this.reader.failed) this.reader.push(chunk)
  }

  /** The input is not a capture, or stopped being parseable. */
  get failed(): boolean {
    return this.reader.failed
  }

  get events(): number {
    return this.engine.stats.events
  }

  /** End of input: flushes every pending hello. */
  end(): { summary: CaptureSummary; stats: HandshakeEngineStats } {
    const summary = this.reader.end()
    return { summary, stats: this.engine.finish() }
  }
}

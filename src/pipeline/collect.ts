/** @module pipeline/collect — run the handshake engine over a whole capture, in memory. */
import { createReadStream } from 'node:fs'
import { CaptureReader } from '../protocols/pcap/reader.ts'
import type { CaptureSummary } from '../protocols/pcap/types.ts'
import type { TlsEvent } from '../events/tls.ts'
import { HandshakeEngine, type HandshakeEngineStats } from './handshakes.ts'

export interface CollectedCapture {
  events: TlsEvent[]
  summary: CaptureSummary
  stats: HandshakeEngineStats
}

/** Fingerprints every handshake of a capture given as chunks (a file stream, stdin, bytes). */
export async function collectCapture(
  source: AsyncIterable<unknown> | Iterable<Uint8Array>,
  opts: { ja4plus?: boolean } = {},
): Promise<CollectedCapture> {
  const events: TlsEvent[] = []
  const engine = new HandshakeEngine({
    ja4plus: opts.ja4plus ?? true,
    onEvent: (e) => events.push(e),
  })
  const reader = new CaptureReader((rec) => engine.packet(rec))
  for await (const chunk of source) {
    if (chunk instanceof Uint8Array)
      reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    if (reader.failed) break
  }
  const summary = reader.end()
  return { events, summary, stats: engine.finish() }
}

export function collectFile(
  path: string,
  opts: { ja4plus?: boolean } = {},
): Promise<CollectedCapture> {
  return collectCapture(createReadStream(path, { highWaterMark: 1 << 20 }), opts)
}

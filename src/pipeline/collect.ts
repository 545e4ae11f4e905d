/** @module pipeline/collect — run the handshake engine over a whole capture, in memory. */
import { createReadStream } from 'node:fs'
import type { CaptureSummary } from '../protocols/pcap/types.ts'
import type { CaptureEvent } from '../events/capture.ts'
import type { TlsEvent } from '../events/tls.ts'
import type { HandshakeEngineStats } from './stats.ts'
import { CaptureAnalyzer } from './capture-analyzer.ts'

export interface CollectedCapture {
  events: CaptureEvent[]
  summary: CaptureSummary
  stats: HandshakeEngineStats
}

/** Fingerprints every handshake of a capture given as chunks (a file stream, stdin, bytes). */
export async function collectCapture(
  source: AsyncIterable<unknown> | Iterable<Uint8Array>,
  opts: { ja4plus?: boolean } = {},
): Promise<CollectedCapture> {
  const events: CaptureEvent[] = []
  const analyzer = new CaptureAnalyzer({
    ja4plus: opts.ja4plus ?? true,
    onEvent: (e) => events.push(e),
  })
  for await (const chunk of source) {
    if (chunk instanceof Uint8Array)
      analyzer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    if (analyzer.failed) break
  }
  return { events, ...analyzer.end() }
}

export function collectFile(
  path: string,
  opts: { ja4plus?: boolean } = {},
): Promise<CollectedCapture> {
  return collectCapture(createReadStream(path, { highWaterMark: 1 << 20 }), opts)
}

/** The `tls` events among `events`. */
export function tlsEvents(events: readonly CaptureEvent[]): TlsEvent[] {
  return events.filter((e): e is TlsEvent => e.type === 'tls')
}

/**
 * @module sources/ingest
 * What `POST /api/v1/ingest` does with its body: NDJSON lines (each bare JSON or a syslog line,
 * as on the sockets) decoded into events and handed to the sink, counted like every input.
 * The HTTP side (the ingest token, media type, gzip, size limits, answers) is the API's route
 * (`api/routes/ingest`); the token is what makes a sender trusted there, so
 * TLSIGHT_TRUSTED_CIDRS does not apply.
 */
import { AppError } from '../errors.ts'
import { SyslogTcpFramer } from '../protocols/syslog/index.ts'
import { decodeMessage } from './decode.ts'
import type { DropReason } from './mapping.ts'
import type { CollectedEvent, SinkGate } from './stats.ts'

/** Default limit of a body, after decompression (and before it, for gzip). */
export const MAX_INGEST_BODY_BYTES = 64 * 1024 * 1024

export interface IngestRecordsOptions {
  gate: SinkGate
  sensor: string
  maxRecordBytes: number
}

export interface IngestCounts {
  /** Records read from the body (events and drops). */
  received: number
  /** Events the sink accepted. */
  accepted: number
  /** Non-zero drop counts of this body, by reason (`DropReason`). */
  dropped: Record<string, number>
}

/**
 * Decodes and delivers one body, already authenticated, decompressed and held to its size
 * limit. Each chunk's events go to the sink as one batch; reading waits while the sink is
 * saturated. Fails with E_STORE_BACKPRESSURE (the API answers 503, retry later) when some
 * events were not accepted; a body that breaks off fails with its stream's error, after what
 * was read before is delivered.
 */
export async function ingestRecords(
  body: AsyncIterable<Uint8Array>,
  o: IngestRecordsOptions,
): Promise<IngestCounts> {
  const gate = o.gate
  const dropped: Record<string, number> = {}
  let received = 0
  let accepted = 0
  let failed = 0
  let inFlight = 0
  let settledAll: (() => void) | undefined
  const drop = (reason: DropReason, n = 1): void => {
    dropped[reason] = (dropped[reason] ?? 0) + n
    received += n
  }
  const settle = (ok: boolean, n: number): void => {
    if (ok) accepted += n
    else failed += n
    if (--inFlight === 0) settledAll?.()
  }
  const framer = new SyslogTcpFramer({ octetCounting: false, maxFrameBytes: o.maxRecordBytes })
  let oversized = 0
  const handle = (frames: Uint8Array[]): void => {
    const now = new Date()
    // One batch per chunk of the body: accepted or refused together.
    const events: CollectedEvent[] = []
    for (const f of frames) {
      const out = decodeMessage(f, {
        source: 'ingest',
        sensor: o.sensor,
        now,
        maxRecordBytes: o.maxRecordBytes,
      })
      gate.account('ingest', out, 'ingest')
      for (const d of out.drops) drop(d.reason)
      for (const e of out.events) events.push(e)
    }
    const n = events.length
    received += n
    const r = gate.submit('ingest', events)
    if (typeof r === 'boolean') {
      if (r) accepted += n
      else failed += n
    } else {
      inFlight++
      void r.then((ok) => settle(ok, n))
    }
    const skipped = framer.stats.oversizedFrames - oversized
    if (skipped > 0) {
      oversized = framer.stats.oversizedFrames
      gate.refuse('ingest', 'oversized', { peer: 'ingest', limit: o.maxRecordBytes }, skipped)
      drop('oversized', skipped)
    }
  }
  let broken: unknown
  try {
    for await (const chunk of body) {
      handle(framer.push(chunk))
      if (gate.saturated) await gate.room()
    }
    handle(framer.end())
  } catch (err) {
    broken = err
  }
  if (inFlight > 0) await new Promise<void>((resolve) => (settledAll = resolve))
  if (broken !== undefined) throw broken
  if (failed > 0) {
    dropped.sink_error = failed
    throw new AppError(
      'E_STORE_BACKPRESSURE',
      `${failed} of ${received} records were not stored (the store is down or pushing back); ` +
        `${accepted} were: send the rest again later`,
    )
  }
  return { received, accepted, dropped }
}

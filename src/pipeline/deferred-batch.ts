/**
 * @module pipeline/deferred-batch
 * The events of a handshake engine whose `tls` fingerprints are deferred, as bytes for another
 * thread: `tls` events without fingerprints, the hello bodies they come from, and every other
 * event, in order. A hello body is written once, when it parses, and the event that needs it
 * refers to it by number later (perhaps in a later batch): the engine keeps no copy in between
 * (docs/adr/2026-11-22-deferred-fingerprints.md).
 *
 * Records, little-endian: tag u8, then
 * - BODY: id u32, length u32, bytes;
 * - TLS: ts µs f64, src ip str8, src port u16, dst ip str8, dst port u16, transport u8,
 *   hello index u32, negotiated/ja4t/ja4ts/ja4l_c/ja4l_s opt-str16, certs (JSON) str32,
 *   anomaly count u16 and each str16, then the ClientHello, ServerHello and following bodies'
 *   ids (u32, NO_BODY for none);
 * - EVENT: any other event as JSON, str32.
 * Strings are ASCII (addresses, versions, fingerprints, anomaly codes) and written byte for
 * byte, except JSON, which is UTF-8.
 */
import type { CaptureEvent } from '../events/capture.ts'
import type { CertInfo, Transport } from '../events/tls.ts'
import type { FamilySwitches } from '../fingerprints/families.ts'
import { completeTls, type DeferredTls, type TlsEventBase } from './tls-fields.ts'

const TAG_BODY = 1
const TAG_TLS = 2
const TAG_EVENT = 3

/** Body id meaning "none". */
export const NO_BODY = 0xffffffff
const NULL_STR16 = 0xffff
const INITIAL_BATCH_BYTES = 256 * 1024

const TRANSPORTS: readonly Transport[] = ['tcp', 'dtls', 'quic']

/** Where a deferring engine writes: hello bodies as they parse, `tls` events as they end. */
export interface DeferredSink {
  /** Writes a hello body; returns its id. */
  body(bytes: Uint8Array): number
  tls(base: TlsEventBase, clientHello: number, serverHello: number, following: number): void
}

/** Encodes one engine's output; `take` hands over what was written since the last call. */
export class DeferredBatchWriter implements DeferredSink {
  private buf = Buffer.allocUnsafe(INITIAL_BATCH_BYTES)
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength)
  private off = 0
  private nextId = 0
  /** Records written since the last `take`. */
  records = 0

  private ensure(n: number): void {
    if (this.off + n <= this.buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.off + n))
    this.buf.copy(bigger, 0, 0, this.off)
    this.buf = bigger
    this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.byteLength)
  }

  private u8(v: number): void {
    this.buf[this.off++] = v
  }

  private u16(v: number): void {
    this.view.setUint16(this.off, v, true)
    this.off += 2
  }

  private u32(v: number): void {
    this.view.setUint32(this.off, v, true)
    this.off += 4
  }

  private str8(s: string): void {
    const n = Math.min(s.length, 0xff)
    this.ensure(1 + n)
    this.u8(n)
    this.off += this.buf.write(s, this.off, n, 'latin1')
  }

  private str16(s: string | null): void {
    if (s === null) {
      this.ensure(2)
      this.u16(NULL_STR16)
      return
    }
    const n = Math.min(s.length, NULL_STR16 - 1)
    this.ensure(2 + n)
    this.u16(n)
    this.off += this.buf.write(s, this.off, n, 'latin1')
  }

  private json(v: unknown): void {
    const s = JSON.stringify(v)
    const n = Buffer.byteLength(s)
    this.ensure(4 + n)
    this.u32(n)
    this.off += this.buf.write(s, this.off, n, 'utf8')
  }

  body(bytes: Uint8Array): number {
    const id = this.nextId
    this.nextId = (this.nextId + 1) % NO_BODY
    this.ensure(9 + bytes.length)
    this.u8(TAG_BODY)
    this.u32(id)
    this.u32(bytes.length)
    this.buf.set(bytes, this.off)
    this.off += bytes.length
    return id
  }

  tls(b: TlsEventBase, clientHello: number, serverHello: number, following: number): void {
    this.ensure(32)
    this.u8(TAG_TLS)
    this.view.setFloat64(this.off, b.tsUs, true)
    this.off += 8
    this.str8(b.srcIp)
    this.ensure(2)
    this.u16(b.srcPort)
    this.str8(b.dstIp)
    this.ensure(7)
    this.u16(b.dstPort)
    this.u8(TRANSPORTS.indexOf(b.transport))
    this.u32(b.helloIndex)
    this.str16(b.negotiated)
    this.str16(b.ja4t)
    this.str16(b.ja4ts)
    this.str16(b.ja4l_c)
    this.str16(b.ja4l_s)
    if (b.certs.length === 0) {
      this.ensure(4)
      this.u32(0)
    } else this.json(b.certs)
    this.ensure(2)
    this.u16(b.anomalies.length)
    for (const a of b.anomalies) this.str16(a)
    this.ensure(12)
    this.u32(clientHello)
    this.u32(serverHello)
    this.u32(following)
    this.records++
  }

  /** Any event that is not a deferred `tls` one. */
  event(e: CaptureEvent): void {
    this.ensure(1)
    this.u8(TAG_EVENT)
    this.json(e)
    this.records++
  }

  /** The bytes written since the last call (a buffer of their own), or undefined if none. */
  take(): Uint8Array | undefined {
    if (this.off === 0) return undefined
    const out = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.off)
    this.buf = Buffer.allocUnsafe(INITIAL_BATCH_BYTES)
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength)
    this.off = 0
    this.records = 0
    return out
  }
}

/** Our own JSON of a certificate list, checked for shape (the channel is trusted, not typed). */
function certList(v: unknown): CertInfo[] {
  if (!Array.isArray(v)) throw new DeferredBatchError('certificates are not a list')
  return v.filter((c): c is CertInfo => typeof c === 'object' && c !== null && 'sha256' in c)
}

/** Our own JSON of a non-`tls` capture event, checked for shape. */
function isCaptureEvent(v: unknown): v is CaptureEvent {
  return (
    typeof v === 'object' &&
    v !== null &&
    'type' in v &&
    (v.type === 'http' || v.type === 'tcp' || v.type === 'tls')
  )
}

function captureEvent(v: unknown): CaptureEvent {
  if (!isCaptureEvent(v)) throw new DeferredBatchError('an event record is not an event')
  return v
}

/** A batch that does not decode: the writer and reader disagree (a bug, not bad input). */
export class DeferredBatchError extends Error {
  readonly code = 'pipeline.deferred_batch_corrupt'
}

/**
 * Decodes the batches of one writer, in order, completing `tls` events (fingerprints computed
 * here). Bodies not yet used when a batch ends are copied, so no batch outlives its read.
 */
export class DeferredBatchReader {
  private readonly bodies = new Map<number, Uint8Array>()

  constructor(
    private readonly sensor: string,
    private readonly fam: FamilySwitches,
  ) {}

  /** Bodies waiting for their event (hellos still pending in the engine). */
  get waiting(): number {
    return this.bodies.size
  }

  read(batch: Uint8Array, onEvent: (e: CaptureEvent) => void): void {
    const buf = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength)
    const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength)
    const added: number[] = []
    let off = 0
    const need = (n: number): void => {
      if (off + n > batch.length) throw new DeferredBatchError(`batch ends inside a record`)
    }
    const u16 = (): number => {
      need(2)
      const v = view.getUint16(off, true)
      off += 2
      return v
    }
    const u32 = (): number => {
      need(4)
      const v = view.getUint32(off, true)
      off += 4
      return v
    }
    const str8 = (): string => {
      need(1)
      const n = batch[off++] ?? 0
      need(n)
      const s = buf.toString('latin1', off, off + n)
      off += n
      return s
    }
    const str16 = (): string | null => {
      const n = u16()
      if (n === NULL_STR16) return null
      need(n)
      const s = buf.toString('latin1', off, off + n)
      off += n
      return s
    }
    const json = (n = u32()): unknown => {
      need(n)
      const v: unknown = JSON.parse(buf.toString('utf8', off, off + n))
      off += n
      return v
    }
    const body = (id: number): Uint8Array | null => {
      if (id === NO_BODY) return null
      const b = this.bodies.get(id)
      if (b === undefined) throw new DeferredBatchError(`hello body ${id} was never written`)
      this.bodies.delete(id)
      return b
    }
    while (off < batch.length) {
      const tag = batch[off++]
      if (tag === TAG_BODY) {
        const id = u32()
        const n = u32()
        need(n)
        this.bodies.set(id, batch.subarray(off, off + n))
        added.push(id)
        off += n
      } else if (tag === TAG_TLS) {
        need(8)
        const tsUs = view.getFloat64(off, true)
        off += 8
        const srcIp = str8()
        const srcPort = u16()
        const dstIp = str8()
        const dstPort = u16()
        need(5)
        const transport = TRANSPORTS[batch[off++] ?? 0] ?? 'tcp'
        const helloIndex = u32()
        const negotiated = str16()
        const ja4t = str16()
        const ja4ts = str16()
        const ja4l_c = str16()
        const ja4l_s = str16()
        const certBytes = u32()
        const certs = certBytes === 0 ? [] : certList(json(certBytes))
        const anomalies: string[] = []
        for (let i = u16(); i > 0; i--) anomalies.push(str16() ?? '')
        const d: DeferredTls = {
          base: {
            tsUs,
            sensor: this.sensor,
            srcIp,
            srcPort,
            dstIp,
            dstPort,
            transport,
            helloIndex,
            negotiated,
            ja4t,
            ja4ts,
            ja4l_c,
            ja4l_s,
            certs,
            anomalies,
          },
          clientHello: body(u32()),
          serverHello: body(u32()),
          serverFollowing: body(u32()),
        }
        onEvent(completeTls(d, this.fam))
      } else if (tag === TAG_EVENT) {
        onEvent(captureEvent(json()))
      } else {
        throw new DeferredBatchError(`unknown record tag ${String(tag)} at byte ${off - 1}`)
      }
    }
    // Bodies whose event comes in a later batch: copied, so this batch's memory can go.
    for (const id of added) {
      const b = this.bodies.get(id)
      if (b !== undefined && b.buffer === batch.buffer) this.bodies.set(id, b.slice())
    }
  }
}

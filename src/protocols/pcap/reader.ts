/**
 * @module protocols/pcap/reader
 * Streaming pcap / pcapng reader. Input arrives in arbitrary chunks (a file read, `tcpdump -w -`
 * on stdin); records and blocks may straddle chunks. Whole records inside a chunk are delivered as
 * views into that chunk; only a record that straddles two chunks is copied (into a reused stash).
 *
 * Formats: pcap as in draft-ietf-opsawg-pcap (§3 file header, §5 record header) and pcapng as in
 * draft-ietf-opsawg-pcapng (§3.1 block structure, §4 blocks).
 */
import {
  MAX_PACKET_BYTES,
  MAX_PCAP_SKIP_RECORD_BYTES,
  MAX_PCAPNG_BLOCK_BYTES,
  MAX_PCAPNG_INTERFACES,
} from '../limits.ts'
import type { CaptureAnomaly, CaptureSummary, PacketRecord } from './types.ts'

// pcap §3: the magic tells the byte order and whether the fraction is µs or ns.
const PCAP_MAGIC_US = 0xa1b2c3d4
const PCAP_MAGIC_NS = 0xa1b23c4d
const PCAP_MAGIC_US_SWAPPED = 0xd4c3b2a1
const PCAP_MAGIC_NS_SWAPPED = 0x4d3cb2a1
const PCAP_FILE_HEADER_BYTES = 24
const PCAP_RECORD_HEADER_BYTES = 16

// pcapng §4.1: the SHB type reads the same in both byte orders; the byte-order magic decides.
const PCAPNG_SHB = 0x0a0d0d0a
const PCAPNG_BOM = 0x1a2b3c4d
const PCAPNG_BOM_SWAPPED = 0x4d3c2b1a
const PCAPNG_IDB = 1
const PCAPNG_OBSOLETE_PB = 2
const PCAPNG_SPB = 3
const PCAPNG_EPB = 6
/** Block type + block total length + trailing block total length. */
const PCAPNG_MIN_BLOCK_BYTES = 12
const PCAPNG_SHB_MIN_BYTES = 28
const PCAPNG_IDB_MIN_BYTES = 20
const PCAPNG_EPB_MIN_BYTES = 32
const PCAPNG_PB_MIN_BYTES = 32
const PCAPNG_SPB_MIN_BYTES = 16
// pcapng §4.2 IDB options.
const OPT_ENDOFOPT = 0
const OPT_IF_TSRESOL = 9
const OPT_IF_TSOFFSET = 14

const TWO_32 = 4_294_967_296

const enum Mode {
  Start,
  Pcap,
  Pcapng,
  Stopped,
}

/** How an interface's 64-bit timestamp units become microseconds. */
const enum TsKind {
  /** Units are µs already. */
  Micro,
  /** Units are 10^-p s with 6 < p <= 12: exact integer division by `div`. */
  Divide,
  /** Units are 10^-p s with p < 6: multiply by `mul`. */
  Multiply,
  /** Power-of-2 or very fine power-of-10 units: BigInt arithmetic (rare). */
  Big,
}

interface Interface {
  linkType: number
  snapLen: number
  tsKind: TsKind
  /** Divisor (Divide) or multiplier (Multiply). */
  factor: number
  /** Big: units per second. */
  bigUnitsPerSec: bigint
  tsOffsetUs: number
}

const EMPTY = new Uint8Array(0)

/**
 * The record a `CaptureReader` hands to its callback: one object, reused for every packet. The
 * packet is `bytes[start .. end)`, a range of the input chunk (or of the reader's stash), so
 * consumers that read in place (the link decoder) need no view; `data` makes one when asked.
 */
export class CapturedPacket implements PacketRecord {
  tsUs = 0
  linkType = 0
  interfaceId = 0
  origLen = 0
  bytes: Uint8Array = EMPTY
  start = 0
  end = 0

  get data(): Uint8Array {
    return this.bytes.subarray(this.start, this.end)
  }
}

/**
 * Streaming capture reader.
 *
 * @example
 * const reader = new CaptureReader((p) => decoder.decode(p))
 * for await (const chunk of stream) reader.push(chunk)
 * const summary = reader.end()
 */
export class CaptureReader {
  private mode = Mode.Start
  private le = true
  private nanos = false
  private pcapLinkType = 0
  private interfaces: Interface[] = []
  /** Timestamp of the previous packet, for Simple Packet Blocks which carry none. */
  private lastTsUs = 0
  /** Bytes still to drop from the input (an oversized pcap record being skipped). */
  private skip = 0
  /** Bytes the unit at the current position needs in total, valid after `unit` returned 0. */
  private need = 0
  private stash = new Uint8Array(0)
  private stashView = new DataView(this.stash.buffer)
  private stashLen = 0
  /** Absolute input offset of the next unit to parse. */
  private abs = 0
  private ended = false
  /** Handed to every `onPacket` call (valid only during the call, see the constructor). */
  private readonly record = new CapturedPacket()
  private readonly stats: CaptureSummary = {
    format: undefined,
    packets: 0,
    bytes: 0,
    inputBytes: 0,
    anomalies: {},
    truncated: false,
  }

  /**
   * @param onPacket called once per packet, synchronously from `push`. The record (one object,
   *   reused) and its `data` view are only valid during the call: copy what you keep.
   */
  constructor(private readonly onPacket: (p: PacketRecord) => void) {}

  /** Live counters (the same object `end()` returns). */
  get summary(): CaptureSummary {
    return this.stats
  }

  /** True once the input is known not to be a capture, or to be corrupt beyond resync. */
  get failed(): boolean {
    return this.stats.error !== undefined
  }

  /** Feeds the next chunk. Never throws on bad bytes (the callback's own exceptions propagate). */
  push(input: Uint8Array): void {
    if (this.mode === Mode.Stopped || this.ended) return
    // Packet views are plain Uint8Arrays whatever the caller passes: a Buffer's `slice` is a
    // view, not the copy the parsers make when they keep bytes (and its `subarray` is slower).
    const chunk =
      Object.getPrototypeOf(input) === Uint8Array.prototype
        ? input
        : new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    this.stats.inputBytes += chunk.length
    const len = chunk.length
    let pos = 0

    if (this.skip > 0) pos = this.skipIn(len, pos)

    if (this.stashLen > 0) {
      // Complete the straddling unit by copying only the bytes it still needs.
      while (true) {
        const take = Math.min(this.need - this.stashLen, len - pos)
        this.stash.set(chunk.subarray(pos, pos + take), this.stashLen)
        this.stashLen += take
        pos += take
        if (this.stashLen < this.need) return
        const used = this.unit(this.stash, this.stashView, 0, this.stashLen)
        if (used < 0) return
        if (used === 0) {
          this.growStash(this.need)
          continue
        }
        // NOTE: `need` is exact once known, so a completed stash unit consumes the whole stash.
        this.abs += used
        this.stashLen = 0
        break
      }
      if (this.skip > 0) pos = this.skipIn(len, pos)
    }

    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    while (pos < len) {
      const used = this.unit(chunk, view, pos, len - pos)
      if (used < 0) return
      if (used === 0) {
        this.growStash(this.need)
        this.stash.set(chunk.subarray(pos), 0)
        this.stashLen = len - pos
        return
      }
      this.abs += used
      pos += used
      if (this.skip > 0) pos = this.skipIn(len, pos)
    }
  }

  /** Call at the end of input. Reports a capture cut inside a record or block as `truncated`. */
  end(): CaptureSummary {
    if (this.ended) return this.stats
    this.ended = true
    if (this.mode === Mode.Start && this.stats.format === undefined) {
      const n = this.stashLen
      const seen =
        n === 0 ? 'empty input' : `${n} byte${n === 1 ? '' : 's'}: ${hexPrefix(this.stash, n)}`
      this.stop('not_a_capture', `input too short to be a pcap or pcapng capture (${seen})`, 0)
      return this.stats
    }
    if (this.mode !== Mode.Stopped && (this.stashLen > 0 || this.skip > 0)) {
      this.stats.truncated = true
      this.anomaly(
        this.stats.format === 'pcap' ? 'pcap.truncated_record' : 'pcapng.truncated_block',
      )
    }
    return this.stats
  }

  private skipIn(len: number, pos: number): number {
    const n = Math.min(this.skip, len - pos)
    this.skip -= n
    this.abs += n
    return pos + n
  }

  private growStash(n: number): void {
    if (this.stash.length >= n) return
    const next = new Uint8Array(Math.max(n, this.stash.length * 2, 4096))
    next.set(this.stash.subarray(0, this.stashLen))
    this.stash = next
    this.stashView = new DataView(next.buffer)
  }

  /**
   * Parses one unit (file header, record or block) at `off`. Returns the bytes consumed, 0 when
   * `avail` is short of `this.need`, or -1 when the reader stopped.
   */
  private unit(buf: Uint8Array, view: DataView, off: number, avail: number): number {
    switch (this.mode) {
      case Mode.Pcap:
        return this.pcapRecord(buf, view, off, avail)
      case Mode.Pcapng:
        return this.pcapngBlock(buf, view, off, avail)
      case Mode.Start:
        return this.start(buf, view, off, avail)
      default:
        return -1
    }
  }

  private start(buf: Uint8Array, view: DataView, off: number, avail: number): number {
    if (avail < 4) {
      this.need = 4
      return 0
    }
    const magic = view.getUint32(off, false)
    if (magic === PCAPNG_SHB) {
      this.stats.format = 'pcapng'
      this.mode = Mode.Pcapng
      return this.pcapngBlock(buf, view, off, avail)
    }
    if (
      magic !== PCAP_MAGIC_US &&
      magic !== PCAP_MAGIC_NS &&
      magic !== PCAP_MAGIC_US_SWAPPED &&
      magic !== PCAP_MAGIC_NS_SWAPPED
    ) {
      const seen = hexPrefix(buf.subarray(off), 4)
      return this.stop('not_a_capture', `not a pcap or pcapng capture (starts with ${seen})`, 0)
    }
    this.stats.format = 'pcap'
    if (avail < PCAP_FILE_HEADER_BYTES) {
      this.need = PCAP_FILE_HEADER_BYTES
      return 0
    }
    // pcap §3: a file written on a little-endian host reads as the swapped magic big-endian.
    this.le = magic === PCAP_MAGIC_US_SWAPPED || magic === PCAP_MAGIC_NS_SWAPPED
    this.nanos = magic === PCAP_MAGIC_NS || magic === PCAP_MAGIC_NS_SWAPPED
    // pcap §3: only the low 16 bits of "LinkType and additional information" are the LinkType;
    // the upper bits carry the FCS length.
    this.pcapLinkType = view.getUint32(off + 20, this.le) & 0xffff
    this.mode = Mode.Pcap
    return PCAP_FILE_HEADER_BYTES
  }

  private pcapRecord(buf: Uint8Array, view: DataView, off: number, avail: number): number {
    if (avail < PCAP_RECORD_HEADER_BYTES) {
      this.need = PCAP_RECORD_HEADER_BYTES
      return 0
    }
    const le = this.le
    const capLen = view.getUint32(off + 8, le)
    if (capLen > MAX_PACKET_BYTES) {
      this.anomaly('pcap.oversized_record')
      if (capLen > MAX_PCAP_SKIP_RECORD_BYTES) {
        return this.stop('corrupt', `pcap record claims ${capLen} captured bytes`, this.abs + 8)
      }
      // Stream past the body without buffering it.
      this.skip = capLen
      return PCAP_RECORD_HEADER_BYTES
    }
    const total = PCAP_RECORD_HEADER_BYTES + capLen
    if (avail < total) {
      this.need = total
      return 0
    }
    const sec = view.getUint32(off, le)
    const frac = view.getUint32(off + 4, le)
    const start = off + PCAP_RECORD_HEADER_BYTES
    const tsUs = sec * 1_000_000 + (this.nanos ? Math.floor(frac / 1000) : frac)
    const origLen = view.getUint32(off + 12, le)
    this.deliver(tsUs, this.pcapLinkType, 0, buf, start, start + capLen, origLen)
    return total
  }

  private pcapngBlock(buf: Uint8Array, view: DataView, off: number, avail: number): number {
    if (avail < PCAPNG_MIN_BLOCK_BYTES) {
      this.need = PCAPNG_MIN_BLOCK_BYTES
      return 0
    }
    let le = this.le
    const type0 = view.getUint32(off, le)
    if (type0 === PCAPNG_SHB) {
      // §4.1: each section declares its own byte order.
      const bom = view.getUint32(off + 8, true)
      if (bom === PCAPNG_BOM) le = true
      else if (bom === PCAPNG_BOM_SWAPPED) le = false
      else if (this.abs === 0) {
        const seen = hexPrefix(buf.subarray(off), 12)
        return this.stop('not_a_capture', `not a pcap or pcapng capture (starts with ${seen})`, 0)
      } else {
        this.anomaly('pcapng.bad_block_length')
        return this.stop('corrupt', 'pcapng section header with a bad byte-order magic', this.abs)
      }
    }
    const type = view.getUint32(off, le)
    const blockLen = view.getUint32(off + 4, le)
    // §3.1: Block Total Length is a multiple of 4 and counts the 12 framing bytes.
    if (blockLen < PCAPNG_MIN_BLOCK_BYTES || blockLen % 4 !== 0) {
      this.anomaly('pcapng.bad_block_length')
      return this.stop('corrupt', `pcapng block length ${blockLen} is invalid`, this.abs + 4)
    }
    if (blockLen > MAX_PCAPNG_BLOCK_BYTES) {
      this.anomaly('pcapng.oversized_block')
      return this.stop('corrupt', `pcapng block claims ${blockLen} bytes`, this.abs + 4)
    }
    if (avail < blockLen) {
      this.need = blockLen
      return 0
    }
    if (view.getUint32(off + blockLen - 4, le) !== blockLen) {
      this.anomaly('pcapng.bad_block_length')
      return this.stop('corrupt', 'pcapng trailing block length differs', this.abs + blockLen - 4)
    }
    switch (type) {
      case PCAPNG_SHB:
        if (blockLen < PCAPNG_SHB_MIN_BYTES) {
          this.anomaly('pcapng.bad_block_length')
          return this.stop('corrupt', 'pcapng section header block too short', this.abs)
        }
        this.le = le
        // §4.1: interface ids are scoped to their section.
        this.interfaces = []
        break
      case PCAPNG_IDB:
        if (blockLen < PCAPNG_IDB_MIN_BYTES) this.anomaly('pcapng.bad_block_length')
        else this.interfaceBlock(view, off, blockLen)
        break
      case PCAPNG_EPB:
        if (blockLen < PCAPNG_EPB_MIN_BYTES) this.anomaly('pcapng.bad_block_length')
        else {
          // §4.3: Interface ID, Timestamp (Upper, Lower), Captured and Original Packet Length.
          const iface = view.getUint32(off + 8, le)
          this.packetBlock(buf, view, off, blockLen, 28, iface, off + 12)
        }
        break
      case PCAPNG_SPB:
        if (blockLen < PCAPNG_SPB_MIN_BYTES) this.anomaly('pcapng.bad_block_length')
        else this.simplePacketBlock(buf, view, off, blockLen)
        break
      case PCAPNG_OBSOLETE_PB:
        if (blockLen < PCAPNG_PB_MIN_BYTES) this.anomaly('pcapng.bad_block_length')
        else {
          // Appendix "Packet Block (obsolete)": a 16-bit Interface ID and a 16-bit drops count.
          const iface = view.getUint16(off + 8, le)
          this.packetBlock(buf, view, off, blockLen, 28, iface, off + 12)
        }
        break
      default:
        // §3.1: unknown block types are skipped by their length.
        break
    }
    return blockLen
  }

  /** EPB and obsolete PB: lengths at `dataOff - 8`, timestamp at `tsOff`. */
  private packetBlock(
    buf: Uint8Array,
    view: DataView,
    off: number,
    blockLen: number,
    dataOff: number,
    ifaceId: number,
    tsOff: number,
  ): void {
    const le = this.le
    const capLen = view.getUint32(off + dataOff - 8, le)
    const origLen = view.getUint32(off + dataOff - 4, le)
    const iface = this.interfaces[ifaceId]
    if (iface === undefined) {
      this.anomaly('pcapng.unknown_interface')
      return
    }
    if (capLen > blockLen - dataOff - 4) {
      this.anomaly('pcapng.bad_packet_length')
      return
    }
    if (capLen > MAX_PACKET_BYTES) {
      this.anomaly('pcapng.oversized_packet')
      return
    }
    const start = off + dataOff
    const tsUs = toMicros(iface, view.getUint32(tsOff, le), view.getUint32(tsOff + 4, le))
    this.deliver(tsUs, iface.linkType, ifaceId, buf, start, start + capLen, origLen)
  }

  /** §4.4 Simple Packet Block: interface 0, no timestamp, captured length implied. */
  private simplePacketBlock(buf: Uint8Array, view: DataView, off: number, blockLen: number): void {
    const iface = this.interfaces[0]
    if (iface === undefined) {
      this.anomaly('pcapng.unknown_interface')
      return
    }
    const origLen = view.getUint32(off + 8, this.le)
    let capLen = Math.min(origLen, blockLen - PCAPNG_SPB_MIN_BYTES)
    if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen)
    if (capLen > MAX_PACKET_BYTES) {
      this.anomaly('pcapng.oversized_packet')
      return
    }
    const start = off + 12
    this.deliver(this.lastTsUs, iface.linkType, 0, buf, start, start + capLen, origLen)
  }

  /** §4.2 Interface Description Block. */
  private interfaceBlock(view: DataView, off: number, blockLen: number): void {
    if (this.interfaces.length >= MAX_PCAPNG_INTERFACES) {
      this.anomaly('pcapng.too_many_interfaces')
      return
    }
    const le = this.le
    const iface: Interface = {
      linkType: view.getUint16(off + 8, le),
      snapLen: view.getUint32(off + 12, le),
      tsKind: TsKind.Micro,
      factor: 1,
      bigUnitsPerSec: 1_000_000n,
      tsOffsetUs: 0,
    }
    // §3.5 options: code, length, value padded to 32 bits; opt_endofopt ends the list.
    const end = off + blockLen - 4
    let p = off + 16
    while (p + 4 <= end) {
      const code = view.getUint16(p, le)
      const len = view.getUint16(p + 2, le)
      const v = p + 4
      if (code === OPT_ENDOFOPT || v + len > end) break
      if (code === OPT_IF_TSRESOL && len >= 1) setResolution(iface, view.getUint8(v))
      else if (code === OPT_IF_TSOFFSET && len >= 8) {
        // §4.2 if_tsoffset: signed 64-bit seconds added to every timestamp.
        const hi = le ? view.getInt32(v + 4, true) : view.getInt32(v, false)
        const lo = le ? view.getUint32(v, true) : view.getUint32(v + 4, false)
        iface.tsOffsetUs = (hi * TWO_32 + lo) * 1_000_000
      }
      p = v + ((len + 3) & ~3)
    }
    this.interfaces.push(iface)
  }

  /** Hands `buf[start .. end)` to the callback as the reused record. */
  private deliver(
    tsUs: number,
    linkType: number,
    interfaceId: number,
    buf: Uint8Array,
    start: number,
    end: number,
    origLen: number,
  ): void {
    this.stats.packets++
    this.stats.bytes += end - start
    this.lastTsUs = tsUs
    const p = this.record
    p.tsUs = tsUs
    p.linkType = linkType
    p.interfaceId = interfaceId
    p.origLen = origLen
    p.bytes = buf
    p.start = start
    p.end = end
    this.onPacket(p)
  }

  private anomaly(code: CaptureAnomaly): void {
    const a = this.stats.anomalies
    a[code] = (a[code] ?? 0) + 1
  }

  private stop(code: 'not_a_capture' | 'corrupt', message: string, offset: number): -1 {
    this.mode = Mode.Stopped
    this.stats.error = { code, message, offset }
    this.stashLen = 0
    this.skip = 0
    return -1
  }
}

/**
 * §4.2 if_tsresol: high bit clear → units of 10^-v s, set → 2^-(v & 0x7f) s. Default 10^-6.
 */
function setResolution(iface: Interface, v: number): void {
  const exp = v & 0x7f
  if ((v & 0x80) !== 0) {
    iface.tsKind = TsKind.Big
    iface.bigUnitsPerSec = 1n << BigInt(exp)
  } else if (exp === 6) {
    iface.tsKind = TsKind.Micro
  } else if (exp < 6) {
    iface.tsKind = TsKind.Multiply
    iface.factor = 10 ** (6 - exp)
  } else if (exp <= 12) {
    iface.tsKind = TsKind.Divide
    iface.factor = 10 ** (exp - 6)
  } else {
    iface.tsKind = TsKind.Big
    iface.bigUnitsPerSec = 10n ** BigInt(exp)
  }
}

/**
 * Converts a 64-bit timestamp (`hi`:`lo` in the interface's units) to whole µs, truncating.
 * NOTE: ns timestamps (~1.7e18) exceed 2^53, so the division is done on the two halves:
 * floor((hi·2^32 + lo) / d) = floor(hi / d)·2^32 + floor(((hi mod d)·2^32 + lo) / d), where every
 * intermediate stays below 2^53 for d <= 10^6.
 */
function toMicros(iface: Interface, hi: number, lo: number): number {
  switch (iface.tsKind) {
    case TsKind.Micro:
      return hi * TWO_32 + lo + iface.tsOffsetUs
    case TsKind.Divide: {
      const d = iface.factor
      const qHi = Math.floor(hi / d)
      const x = (hi - qHi * d) * TWO_32 + lo
      let q = Math.floor(x / d)
      // Floating division may round up across an integer boundary; correct exactly.
      if (q * d > x) q--
      return qHi * TWO_32 + q + iface.tsOffsetUs
    }
    case TsKind.Multiply:
      return (hi * TWO_32 + lo) * iface.factor + iface.tsOffsetUs
    default: {
      const units = (BigInt(hi) << 32n) | BigInt(lo)
      return Number((units * 1_000_000n) / iface.bigUnitsPerSec) + iface.tsOffsetUs
    }
  }
}

function hexPrefix(b: Uint8Array, n: number): string {
  let s = ''
  for (let i = 0; i < Math.min(n, b.length); i++) s += (b[i] ?? 0).toString(16).padStart(2, '0')
  return s
}

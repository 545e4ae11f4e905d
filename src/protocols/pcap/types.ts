/** @module protocols/pcap/types — what the capture reader yields. */

/** LINKTYPE_* values we decode (https://www.tcpdump.org/linktypes.html). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const

export type CaptureFormat = 'pcap' | 'pcapng'

/** One captured packet. `data` is a view that is only valid during the callback: copy to keep. */
export interface PacketRecord {
  /** Capture timestamp, whole microseconds since the Unix epoch (ns captures truncated). */
  tsUs: number
  linkType: number
  /** Index of the pcapng interface (0 for pcap). */
  interfaceId: number
  /** Captured bytes (may be shorter than `origLen` when the snap length cut it). */
  data: Uint8Array
  origLen: number
}

export type CaptureAnomaly =
  | 'pcap.truncated_record'
  | 'pcap.oversized_record'
  | 'pcapng.truncated_block'
  | 'pcapng.bad_block_length'
  | 'pcapng.unknown_interface'
  | 'pcapng.oversized_block'
  | 'pcapng.too_many_interfaces'
  /** A packet block whose captured length is larger than its block body. */
  | 'pcapng.bad_packet_length'
  /** A packet block carrying more than MAX_PACKET_BYTES (skipped; the block itself was sane). */
  | 'pcapng.oversized_packet'

export interface CaptureSummary {
  format: CaptureFormat | undefined
  /** Packets delivered to the callback. */
  packets: number
  /** Captured bytes delivered (sum of `data.length`). */
  bytes: number
  /** Bytes pushed into the reader so far (file offset, for progress). */
  inputBytes: number
  /** Count per anomaly code. */
  anomalies: Partial<Record<CaptureAnomaly, number>>
  /** Set when the input is not a capture at all, or stopped being parseable. */
  error?: { code: 'not_a_capture' | 'corrupt'; message: string; offset: number }
  /** The stream ended inside a record or block. */
  truncated: boolean
}

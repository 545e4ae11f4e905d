/**
 * @module protocols/pcap
 * Streaming pcap / pcapng reader: push chunks in, get `PacketRecord`s (views valid only during
 * the callback) and a `CaptureSummary` with anomaly counts, truncation and fatal errors.
 */
export { CaptureReader } from './reader.ts'
export { LinkType } from './types.ts'
export type { CaptureAnomaly, CaptureFormat, CaptureSummary, PacketRecord } from './types.ts'

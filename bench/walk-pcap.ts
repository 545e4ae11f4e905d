/**
 * @module bench/walk-pcap — the floor for any Node pcap reader: read a classic pcap file in 1 MiB
 * chunks, step over each record by its 16-byte header, count records and bytes. No decoding.
 *
 *     node --import tsx bench/walk-pcap.ts FILE
 *
 * Prints one JSON line `{ records, bytes, seconds }`; `seconds` is measured around the read loop
 * only, so the loader's start-up does not count against the baseline.
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

const CHUNK_BYTES = 1 << 20
const GLOBAL_HEADER_BYTES = 24
const RECORD_HEADER_BYTES = 16

export interface WalkResult {
  records: number
  bytes: number
  seconds: number
}

/** Walks the records of the classic pcap file at `path` (either byte order, µs or ns). */
export function walkPcap(path: string): WalkResult {
  const started = performance.now()
  const fd = openSync(path, 'r')
  try {
    // Twice the chunk, so a record header cut by a chunk boundary can be completed in place.
    const buf = Buffer.allocUnsafe(CHUNK_BYTES * 2)
    let have = readSync(fd, buf, 0, CHUNK_BYTES, null)
    if (have < GLOBAL_HEADER_BYTES) throw new Error(`${path}: not a pcap file (too short)`)
    const magic = buf.readUInt32LE(0)
    let littleEndian: boolean
    if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) littleEndian = true
    else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) littleEndian = false
    else throw new Error(`${path}: not a classic pcap file (magic 0x${magic.toString(16)})`)

    let records = 0
    let bytes = have
    let pos = GLOBAL_HEADER_BYTES
    // Bytes of record data still to skip that lie beyond the current chunk.
    let skip = 0
    while (true) {
      while (pos + RECORD_HEADER_BYTES <= have) {
        const inclLen = littleEndian ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8)
        records++
        pos += RECORD_HEADER_BYTES + inclLen
      }
      if (pos > have) {
        skip = pos - have
        pos = have
      }
      // Keep the partial header (fewer than 16 bytes) at the front, then refill.
      const tail = have - pos
      if (tail > 0) buf.copy(buf, 0, pos, have)
      have = tail
      pos = 0
      const n = readSync(fd, buf, have, CHUNK_BYTES, null)
      if (n === 0) break
      bytes += n
      have += n
      if (skip > 0) {
        const step = Math.min(skip, have)
        skip -= step
        pos = step
      }
    }
    return { records, bytes, seconds: (performance.now() - started) / 1000 }
  } finally {
    closeSync(fd)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = process.argv[2]
  if (path === undefined) {
    console.error('usage: node --import tsx bench/walk-pcap.ts FILE')
    process.exit(2)
  }
  console.log(JSON.stringify(walkPcap(path)))
}

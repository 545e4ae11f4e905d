/**
 * @module protocols/link/fragments
 * Bounded IP fragment reassembly (RFC 791 §3.2 for IPv4, RFC 8200 §4.5 for IPv6). Fragments are
 * keyed by (version, source, destination, identification, protocol).
 *
 * Overlapping fragments keep the bytes that arrived first ("first wins") and raise
 * `ip.fragment_overlap`. RFC 5722 asks IPv6 receivers to drop such datagrams instead; we keep
 * them so that a fingerprint is still produced, and the anomaly marks the evasion attempt.
 */
import { MAX_IP_DATAGRAM_BYTES, MAX_IP_FRAGMENTS_PER_DATAGRAM } from '../limits.ts'
import type { LinkAnomaly } from './types.ts'

interface Piece {
  offset: number
  data: Uint8Array
}

interface Datagram {
  firstTsUs: number
  /** In arrival order. */
  pieces: Piece[]
  /** Payload length, known once the last fragment (MF = 0) arrived; -1 before. */
  totalLen: number
}

/** `held`: stored, datagram incomplete; `dropped`: the fragment (or its datagram) was discarded. */
export type FragmentResult = Uint8Array | 'held' | 'dropped'

export class FragmentTable {
  private readonly datagrams = new Map<string, Datagram>()

  constructor(
    private readonly maxDatagrams: number,
    private readonly timeoutUs: number,
  ) {}

  /** Datagrams currently incomplete. */
  get size(): number {
    return this.datagrams.size
  }

  /**
   * Stores one fragment (its payload bytes are copied) and returns the reassembled payload once
   * every byte from 0 to the end of the last fragment is present.
   */
  add(
    key: string,
    tsUs: number,
    offset: number,
    more: boolean,
    data: Uint8Array,
    anomalies: LinkAnomaly[],
  ): FragmentResult {
    this.expire(tsUs, anomalies)
    const end = offset + data.length
    let d = this.datagrams.get(key)
    if (end > MAX_IP_DATAGRAM_BYTES) {
      anomalies.push('ip.fragment_limit')
      if (d !== undefined) this.datagrams.delete(key)
      return 'dropped'
    }
    if (d === undefined) {
      if (this.datagrams.size >= this.maxDatagrams) {
        // Map iteration order is insertion order: the first key is the oldest datagram.
        const oldest = this.datagrams.keys().next()
        if (oldest.done !== true) this.datagrams.delete(oldest.value)
        anomalies.push('ip.fragment_limit')
      }
      d = { firstTsUs: tsUs, pieces: [], totalLen: -1 }
      this.datagrams.set(key, d)
    }
    if (d.pieces.length >= MAX_IP_FRAGMENTS_PER_DATAGRAM) {
      anomalies.push('ip.fragment_limit')
      this.datagrams.delete(key)
      return 'dropped'
    }
    let overlap = false
    for (const p of d.pieces) {
      const pEnd = p.offset + p.data.length
      if (offset < pEnd && end > p.offset) {
        // A retransmitted copy of the same fragment is harmless.
        if (p.offset === offset && p.data.length === data.length && sameBytes(p.data, data)) {
          return 'held'
        }
        overlap = true
      }
    }
    if (!more) {
      if (d.totalLen >= 0 && d.totalLen !== end) {
        // A second "last fragment" disagreeing on the length: the first one wins.
        anomalies.push('ip.fragment_overlap')
        return 'held'
      }
      d.totalLen = end
    }
    if (overlap) anomalies.push('ip.fragment_overlap')
    d.pieces.push({ offset, data: data.slice() })
    if (d.totalLen < 0) return 'held'

    const sorted = d.pieces.slice().sort((a, b) => a.offset - b.offset)
    let covered = 0
    for (const p of sorted) {
      if (p.offset > covered) return 'held'
      covered = Math.max(covered, p.offset + p.data.length)
      if (covered >= d.totalLen) break
    }
    if (covered < d.totalLen) return 'held'

    const out = new Uint8Array(d.totalLen)
    // Write in reverse arrival order so that earlier fragments overwrite later ones.
    for (let i = d.pieces.length - 1; i >= 0; i--) {
      const p = d.pieces[i]
      if (p === undefined || p.offset >= d.totalLen) continue
      out.set(p.data.subarray(0, d.totalLen - p.offset), p.offset)
    }
    this.datagrams.delete(key)
    return out
  }

  /** Drops datagrams whose first fragment is older than the timeout. */
  private expire(tsUs: number, anomalies: LinkAnomaly[]): void {
    let expired = false
    // HACK: insertion order approximates age; a capture with timestamps out of order may keep
    // a stale datagram a little longer, which the table bound still caps.
    for (const [key, d] of this.datagrams) {
      if (tsUs - d.firstTsUs <= this.timeoutUs) break
      this.datagrams.delete(key)
      expired = true
    }
    if (expired) anomalies.push('ip.fragment_timeout')
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

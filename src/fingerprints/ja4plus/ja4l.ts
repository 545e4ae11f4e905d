/**
 * @module fingerprints/ja4plus/ja4l
 * JA4L light distance (FoxIO License 1.1) in its two-part `a_ttl` form (FINGERPRINTS.md §5):
 * one-way latency in whole microseconds, truncated, and the observed TTL / hop limit.
 * TCP: server = (SYN-ACK − SYN) / 2 with the SYN-ACK's TTL; client = (first client packet after
 * the SYN-ACK − SYN-ACK) / 2 with the SYN's TTL.
 */
export function ja4l(earlierUs: number, laterUs: number, ttl: number): string | null {
  if (laterUs < earlierUs) return null
  return `${Math.floor((laterUs - earlierUs) / 2)}_${ttl}`
}

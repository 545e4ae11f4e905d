/**
 * @module pipeline/certificates
 * Certificate messages → `CertInfo` entries of a `tls` event. The same few certificates come back
 * on connection after connection (one server, one chain), so parsed ones are kept in a small
 * cache keyed by their exact bytes.
 */
import type { CertInfo } from '../events/tls.ts'
import { parseCertificate } from '../protocols/x509/certificate.ts'
import { parseCertificateMessage } from '../protocols/tls/certificate-message.ts'
import { ja4x } from '../fingerprints/ja4plus/ja4x.ts'
import { MAX_CACHED_CERTIFICATES } from '../protocols/limits.ts'

/** A parsed certificate without its place in a handshake. */
type CertBody = Omit<CertInfo, 'role' | 'index'>

interface CacheEntry {
  der: Uint8Array
  info: CertBody
  /** The entries made from it, by role and position (reused, so serializers can cache them). */
  placed: Map<string, CertInfo>
}

export interface CertificateReaderOptions {
  /** Compute JA4X (FoxIO License 1.1). */
  ja4x: boolean
}

export class CertificateReader {
  private readonly cache = new Map<string, CacheEntry>()
  private readonly withJa4x: boolean

  constructor(opts: CertificateReaderOptions) {
    this.withJa4x = opts.ja4x
  }

  /**
   * The certificates of one Certificate handshake body; parser anomalies go to `anomaly`.
   * Never throws.
   */
  read(
    body: Uint8Array,
    tls13: boolean,
    role: CertInfo['role'],
    anomaly: (code: string) => void,
  ): CertInfo[] {
    const msg = parseCertificateMessage(body, { tls13 })
    if (!msg.ok) {
      anomaly(`tls.certificate_${msg.error.code}`)
      return []
    }
    for (const a of msg.value.anomalies) anomaly(a)
    const out: CertInfo[] = []
    msg.value.certificates.forEach((der, index) => {
      const entry = this.parse(der, anomaly)
      if (entry === undefined) return
      const at = `${role}|${index}`
      let placed = entry.placed.get(at)
      if (placed === undefined) {
        placed = { role, index, ...entry.info }
        entry.placed.set(at, placed)
      }
      out.push(placed)
    })
    return out
  }

  private parse(der: Uint8Array, anomaly: (code: string) => void): CacheEntry | undefined {
    const key = cacheKey(der)
    const hit = this.cache.get(key)
    if (hit !== undefined && sameBytes(hit.der, der)) return hit
    const res = parseCertificate(der)
    if (!res.ok) {
      anomaly(`x509.${res.error.code}`)
      return undefined
    }
    const c = res.value
    const j = this.withJa4x ? ja4x(c) : undefined
    const info: CertBody = {
      subject: c.subject,
      subject_cn: c.subject_cn,
      issuer: c.issuer,
      issuer_cn: c.issuer_cn,
      sans: c.sans.map((s) => s.value),
      not_before: c.not_before,
      not_after: c.not_after,
      serial: c.serial,
      sha256: c.sha256,
      self_signed: c.self_signed,
      ja4x: j?.ja4x ?? null,
      ja4x_r: j?.ja4x_r ?? null,
      anomalies: [...c.anomalies],
    }
    for (const a of c.anomalies) anomaly(a)
    if (this.cache.size >= MAX_CACHED_CERTIFICATES) {
      // Oldest first: a small FIFO is enough for the repeats this cache is for.
      const first = this.cache.keys().next()
      if (first.done !== true) this.cache.delete(first.value)
    }
    const entry: CacheEntry = { der: der.slice(), info, placed: new Map() }
    this.cache.set(key, entry)
    return entry
  }
}

/**
 * Length and a 32-bit FNV-1a of the first and last 128 bytes (serial and validity near the
 * start, the signature at the end differ between certificates); collisions are caught by the
 * byte comparison.
 */
function cacheKey(b: Uint8Array): string {
  let h = 0x811c9dc5
  const n = b.length
  const head = Math.min(n, KEY_SAMPLE_BYTES)
  for (let i = 0; i < head; i++) h = Math.imul(h ^ (b[i] ?? 0), 0x01000193)
  for (let i = Math.max(head, n - KEY_SAMPLE_BYTES); i < n; i++)
    h = Math.imul(h ^ (b[i] ?? 0), 0x01000193)
  return `${n}:${h >>> 0}`
}

const KEY_SAMPLE_BYTES = 128

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

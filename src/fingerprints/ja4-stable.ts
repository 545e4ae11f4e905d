/**
 * @module fingerprints/ja4-stable
 * `ja4_stable` (a tlsight variant, not part of the JA4 specification): JA4 computed as if the
 * hello had none of the extensions that come and go with session resumption — padding (0x0015,
 * RFC 7685, whose length depends on the rest of the hello), pre_shared_key (0x0029) and
 * early_data (0x002a) (RFC 8446 §4.2.10, §4.2.11). The same browser then keeps one value whether
 * or not it resumes, while `ja4` keeps telling the two apart.
 */
import type { ClientHello } from '../protocols/tls/types.ts'
import { isGrease } from '../protocols/tls/registry.ts'
import { EMPTY_HASH12, hash12 } from './hash.ts'
import type { Ja4Result } from './ja4.ts'

export const JA4_STABLE_EXCLUDED: ReadonlySet<number> = new Set([0x0015, 0x0029, 0x002a])
const EXCLUDED_HEX: ReadonlySet<string> = new Set(['0015', '0029', '002a'])

/**
 * `ja4_stable` from the hello and its JA4: the `a` section's extension count and the `c` hash
 * change, `b` stays. Reuses `ja4_r` (sorted extensions without SNI/ALPN, then signature
 * algorithms) instead of fingerprinting the hello again.
 */
export function ja4Stable(ch: ClientHello, j4: Ja4Result): string {
  let extensions = 0
  let excluded = 0
  for (const e of ch.extensions) {
    if (isGrease(e.type)) continue
    extensions++
    if (JA4_STABLE_EXCLUDED.has(e.type)) excluded++
  }
  if (excluded === 0) return j4.ja4
  // ja4_r = a _ ciphers _ extensions [_ signature algorithms]; excluded types are never SNI/ALPN,
  // so they are in the extensions section.
  const parts = j4.ja4_r.split('_')
  const a = parts[0] ?? ''
  const kept = (parts[2] ?? '').split(',').filter((x) => x !== '' && !EXCLUDED_HEX.has(x))
  const sigs = parts[3]
  const count = String(Math.min(99, extensions - excluded)).padStart(2, '0')
  const c =
    kept.length === 0
      ? EMPTY_HASH12
      : hash12(kept.join(',') + (sigs === undefined ? '' : '_' + sigs))
  return `${a.slice(0, 6)}${count}${a.slice(8)}_${j4.ja4.split('_')[1] ?? ''}_${c}`
}

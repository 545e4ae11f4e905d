/**
 * @module fingerprints/ja4-stable
 * `ja4_stable` (a tlsight variant, not part of the JA4 specification): JA4 computed as if the
 * hello had none of the extensions that come and go with session resumption — padding (0x0015,
 * RFC 7685, whose length depends on the rest of the hello), pre_shared_key (0x0029) and
 * early_data (0x002a) (RFC 8446 §4.2.10, §4.2.11). The same browser then keeps one value whether
 * or not it resumes, while `ja4` keeps telling the two apart.
 */
import type { ClientHello } from '../protocols/tls/types.ts'
import { ja4, type Ja4Transport } from './ja4.ts'

export const JA4_STABLE_EXCLUDED: ReadonlySet<number> = new Set([0x0015, 0x0029, 0x002a])

export function ja4Stable(ch: ClientHello, transport: Ja4Transport): string {
  let excluded = false
  for (const e of ch.extensions) if (JA4_STABLE_EXCLUDED.has(e.type)) excluded = true
  if (!excluded) return ja4(ch, transport).ja4
  return ja4(
    { ...ch, extensions: ch.extensions.filter((e) => !JA4_STABLE_EXCLUDED.has(e.type)) },
    transport,
  ).ja4
}

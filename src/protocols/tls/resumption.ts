/**
 * @module protocols/tls/resumption
 * What a ClientHello offers to resume a session with, from the hello alone.
 */
import { isGrease } from './registry.ts'
import type { ClientHello } from './types.ts'

export type ResumptionSignal = 'session_ticket' | 'psk' | 'early_data' | 'session_id'

/**
 * Resumption attempts of a hello, in a fixed order:
 * - `session_ticket`: a SessionTicket extension carrying a ticket (RFC 5077 §3.2; an empty one
 *   only says the client supports tickets);
 * - `psk`: pre_shared_key (RFC 8446 §4.2.11);
 * - `early_data`: 0-RTT data follows (RFC 8446 §4.2.10);
 * - `session_id`: a non-empty legacy session id (RFC 5246 §7.4.1.2) — but not when the hello offers
 *   TLS 1.3, whose clients send a random 32-byte id for middlebox compatibility (RFC 8446 App.
 *   D.4), which resumes nothing.
 */
export function resumptionSignals(ch: ClientHello): ResumptionSignal[] {
  const out: ResumptionSignal[] = []
  let ticket = false
  let psk = false
  let early = false
  for (const e of ch.extensions) {
    if (e.type === 0x0023 && e.data.length > 0) ticket = true
    else if (e.type === 0x0029) psk = true
    else if (e.type === 0x002a) early = true
  }
  if (ticket) out.push('session_ticket')
  if (psk) out.push('psk')
  if (early) out.push('early_data')
  const offers13 = ch.supportedVersions.some((v) => !isGrease(v) && v === 0x0304)
  if (ch.sessionId.length > 0 && !offers13) out.push('session_id')
  return out
}

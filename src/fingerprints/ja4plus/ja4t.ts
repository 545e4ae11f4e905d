/**
 * @module fingerprints/ja4plus/ja4t
 * JA4T (client SYN) and JA4TS (server SYN-ACK): `window_options_mss_wscale` (FoxIO License 1.1).
 * Rules of FINGERPRINTS.md §7 in the plugin's form: option kinds in wire order joined by `-`,
 * NOP (1) and every EOL/padding byte (0) listed; `00` for no options, a missing MSS and window
 * scale 0 or missing.
 */

const EOL = 0
const NOP = 1
const MSS = 2
const WSCALE = 3

/** RFC 9293 §3.1: option kind, length (including kind and length bytes), data. */
export function ja4t(window: number, options: Uint8Array): string {
  const kinds: number[] = []
  let mss = -1
  let wscale = -1
  let i = 0
  while (i < options.length) {
    const kind = options[i] ?? 0
    kinds.push(kind)
    if (kind === EOL || kind === NOP) {
      i++
      continue
    }
    const len = options[i + 1] ?? 0
    if (len < 2 || i + len > options.length) break
    if (kind === MSS && len === 4) mss = ((options[i + 2] ?? 0) << 8) | (options[i + 3] ?? 0)
    else if (kind === WSCALE && len === 3) wscale = options[i + 2] ?? 0
    i += len
  }
  const opts = kinds.length === 0 ? '00' : kinds.join('-')
  return `${window}_${opts}_${mss < 0 ? '00' : mss}_${wscale <= 0 ? '00' : wscale}`
}

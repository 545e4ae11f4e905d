/** @module cli/licensing — the switch for the FoxIO-licensed JA4+ families. */

/**
 * JA4+ (JA4S, JA4H, JA4L, JA4X, JA4T, JA4SSH) is under the FoxIO License 1.1: free for
 * non-commercial use. On by default; `TLSIGHT_JA4PLUS=0` (or `--no-ja4plus`) turns it off.
 */
export function ja4plusEnabled(env: NodeJS.ProcessEnv): boolean {
  const v = env.TLSIGHT_JA4PLUS?.trim().toLowerCase()
  return !(v === '0' || v === 'false' || v === 'no' || v === 'off')
}

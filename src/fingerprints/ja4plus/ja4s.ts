/**
 * @module fingerprints/ja4plus/ja4s
 * JA4S TLS server fingerprint (FoxIO License 1.1, see ./LICENSE), FINGERPRINTS.md §3:
 * `a_b_c` with a = transport, version, extension count and chosen ALPN; b = chosen cipher;
 * c = hash of the extension types in wire order (not sorted).
 */

import { hex4 } from '../../bytes/hex.ts'
import { isGrease } from '../../protocols/tls/registry.ts'
import type { ServerHello } from '../../protocols/tls/types.ts'
import { EMPTY_HASH12, hash12 } from '../hash.ts'
import { AsciiBuilder } from '../ascii.ts'
import { count2, ja4Alpn, ja4VersionCode, type Ja4Transport } from '../ja4.ts'

const scratch = new AsciiBuilder()

export interface Ja4sResult {
  ja4s: string
  ja4s_r: string
}

/**
 * JA4S of a ServerHello or HelloRetryRequest.
 * @example ja4s(sh, 't').ja4s // 't120400_c030_4e8089b08790'
 */
export function ja4s(sh: ServerHello, transport: Ja4Transport): Ja4sResult {
  // Servers do not send GREASE; drop it anyway, as the FoxIO Wireshark plugin does.
  const exts: number[] = []
  for (const e of sh.extensions) if (!isGrease(e.type)) exts.push(e.type)
  const version = sh.selectedVersion ?? sh.legacyVersion
  const a = transport + ja4VersionCode(version) + count2(exts.length) + ja4Alpn(sh.alpn)
  const b = hex4(sh.cipherSuite)
  const list = scratch.reset().hexList(exts, exts.length).toString()
  const c = exts.length > 0 ? hash12(list) : EMPTY_HASH12
  return { ja4s: a + '_' + b + '_' + c, ja4s_r: a + '_' + b + '_' + list }
}

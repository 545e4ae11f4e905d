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
import { KeyBuilder, ListCache } from '../list-cache.ts'
import { count2, ja4Alpn, ja4VersionCode, type Ja4Transport } from '../ja4.ts'

const scratch = new AsciiBuilder()
const key = new KeyBuilder()
const extCache = new ListCache()

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
  const k = key.reset()
  for (const e of sh.extensions) if (!isGrease(e.type)) k.push(e.type)
  const n = k.length
  let c = extCache.get(k.values, n)
  if (c === undefined) {
    const list = scratch.reset().hexList(k.values, n).toString()
    c = extCache.set(k.values, n, { text: list, digest: n > 0 ? hash12(list) : EMPTY_HASH12 })
  }
  const version = sh.selectedVersion ?? sh.legacyVersion
  const ab =
    transport + ja4VersionCode(version) + count2(n) + ja4Alpn(sh.alpn) + '_' + hex4(sh.cipherSuite)
  return { ja4s: ab + '_' + c.digest, ja4s_r: ab + '_' + c.text }
}

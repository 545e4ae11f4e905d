/**
 * @module fingerprints/ja3
 * JA3 and JA3S (Salesforce, BSD-3-Clause), as Wireshark computes them (FINGERPRINTS.md §1):
 * decimal values in wire order, `-` within a field, `,` between fields, GREASE removed, empty
 * fields kept, MD5 of the string.
 */

import { isGrease } from '../protocols/tls/registry.ts'
import type { ClientHello, ServerHello, TlsExtension } from '../protocols/tls/types.ts'
import { AsciiBuilder } from './ascii.ts'
import { md5Hex } from './hash.ts'

export interface Ja3Result {
  ja3: string
  ja3_str: string
}

export interface Ja3sResult {
  ja3s: string
  ja3s_str: string
}

const scratch = new AsciiBuilder()
const COMMA = 0x2c
const DASH = 0x2d

/** Decimal values, GREASE dropped when asked, `-`-joined. */
function decimals(b: AsciiBuilder, values: readonly number[], dropGrease: boolean): void {
  let first = true
  for (const v of values) {
    if (dropGrease && isGrease(v)) continue
    if (!first) b.char(DASH)
    b.dec(v)
    first = false
  }
}

function extensionTypes(b: AsciiBuilder, exts: readonly TlsExtension[]): void {
  let first = true
  for (const e of exts) {
    if (isGrease(e.type)) continue
    if (!first) b.char(DASH)
    b.dec(e.type)
    first = false
  }
}

/**
 * JA3 of a ClientHello: `legacy_version,ciphers,extensions,groups,ec_point_formats`.
 * @example ja3(hello).ja3_str // '771,4865-4866,0-23-65281,29-23,0'
 */
export function ja3(ch: ClientHello): Ja3Result {
  const b = scratch.reset().dec(ch.legacyVersion).char(COMMA)
  decimals(b, ch.cipherSuites, true)
  b.char(COMMA)
  extensionTypes(b, ch.extensions)
  b.char(COMMA)
  decimals(b, ch.supportedGroups, true)
  b.char(COMMA)
  decimals(b, ch.ecPointFormats, false)
  const str = b.toString()
  return { ja3: md5Hex(str), ja3_str: str }
}

/**
 * JA3S of a ServerHello (HelloRetryRequest included): `legacy_version,cipher,extensions`.
 * @example ja3s(sh).ja3s // '5d79edf64e03689ff559a54e9d9487bc' for '771,49199,65281-0-11-16-23'
 */
export function ja3s(sh: ServerHello): Ja3sResult {
  const b = scratch.reset().dec(sh.legacyVersion).char(COMMA).dec(sh.cipherSuite).char(COMMA)
  extensionTypes(b, sh.extensions)
  const str = b.toString()
  return { ja3s: md5Hex(str), ja3s_str: str }
}

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
import { KeyBuilder, ListCache } from './list-cache.ts'

export interface Ja3Result {
  ja3: string
  ja3_str: string
}

export interface Ja3sResult {
  ja3s: string
  ja3s_str: string
}

const scratch = new AsciiBuilder()
const key = new KeyBuilder()
const ja3Cache = new ListCache()
const ja3sCache = new ListCache()
const COMMA = 0x2c
const DASH = 0x2d

/**
 * Appends a field to the key as its length then its values (GREASE dropped when asked), so that
 * equal keys mean equal JA3 strings.
 */
function field(k: KeyBuilder, values: readonly number[], dropGrease: boolean): void {
  const at = k.length
  k.push(0)
  let n = 0
  for (const v of values) {
    if (dropGrease && isGrease(v)) continue
    k.push(v)
    n++
  }
  k.values[at] = n
}

function extensionField(k: KeyBuilder, exts: readonly TlsExtension[]): void {
  const at = k.length
  k.push(0)
  let n = 0
  for (const e of exts) {
    if (isGrease(e.type)) continue
    k.push(e.type)
    n++
  }
  k.values[at] = n
}

/** Writes the `fields` length-prefixed fields of `k` from `p` as `,`-led decimal lists. */
function fieldsText(b: AsciiBuilder, k: Uint16Array, p: number, fields: number): void {
  for (let f = 0; f < fields; f++) {
    const n = k[p] ?? 0
    b.char(COMMA).decRange(k, p + 1, p + 1 + n, DASH)
    p += 1 + n
  }
}

/**
 * JA3 of a ClientHello: `legacy_version,ciphers,extensions,groups,ec_point_formats`.
 * @example ja3(hello).ja3_str // '771,4865-4866,0-23-65281,29-23,0'
 */
export function ja3(ch: ClientHello): Ja3Result {
  const k = key.reset()
  k.push(ch.legacyVersion)
  field(k, ch.cipherSuites, true)
  extensionField(k, ch.extensions)
  field(k, ch.supportedGroups, true)
  field(k, ch.ecPointFormats, false)
  let e = ja3Cache.get(k.values, k.length)
  if (e === undefined) {
    const b = scratch.reset().dec(ch.legacyVersion)
    fieldsText(b, k.values, 1, 4)
    const str = b.toString()
    e = ja3Cache.set(k.values, k.length, { text: str, digest: md5Hex(str) })
  }
  return { ja3: e.digest, ja3_str: e.text }
}

/**
 * JA3S of a ServerHello (HelloRetryRequest included): `legacy_version,cipher,extensions`.
 * @example ja3s(sh).ja3s // '5d79edf64e03689ff559a54e9d9487bc' for '771,49199,65281-0-11-16-23'
 */
export function ja3s(sh: ServerHello): Ja3sResult {
  const k = key.reset()
  k.push(sh.legacyVersion)
  k.push(sh.cipherSuite)
  extensionField(k, sh.extensions)
  let e = ja3sCache.get(k.values, k.length)
  if (e === undefined) {
    const b = scratch.reset().dec(sh.legacyVersion).char(COMMA).dec(sh.cipherSuite)
    fieldsText(b, k.values, 2, 1)
    const str = b.toString()
    e = ja3sCache.set(k.values, k.length, { text: str, digest: md5Hex(str) })
  }
  return { ja3s: e.digest, ja3s_str: e.text }
}

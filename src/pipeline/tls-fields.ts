/**
 * @module pipeline/tls-fields
 * What a `tls` event takes from the hellos (fingerprints, names, versions), and the event built
 * from them. The handshake engine computes these as the hellos parse; or, deferred, it hands
 * the hellos' bytes on with the rest of the event (`DeferredTls`) and `completeTls`, in another
 * thread, computes them and builds the very same event (docs/adr/2026-11-22-deferred-fingerprints.md).
 */
import { parseClientHello } from '../protocols/tls/client-hello.ts'
import { parseServerHello } from '../protocols/tls/server-hello.ts'
import { isGrease } from '../protocols/tls/registry.ts'
import type { ClientHello, ServerHello } from '../protocols/tls/types.ts'
import { ja3, ja3s } from '../fingerprints/ja3.ts'
import { ja4 } from '../fingerprints/ja4.ts'
import { ja4Stable } from '../fingerprints/ja4-stable.ts'
import { resumptionSignals } from '../protocols/tls/resumption.ts'
import { ja4s } from '../fingerprints/ja4plus/ja4s.ts'
import { tft, tftStable } from '../fingerprints/tempesta.ts'
import { cfCiphersSha1, cfExtensionsSha1, helloLength } from '../fingerprints/cloudflare.ts'
import type { FamilySwitches } from '../fingerprints/families.ts'
import type { CertInfo, TlsEvent, Transport } from '../events/tls.ts'
import { isoFromUs } from '../events/time.ts'

/** What an event needs from a ClientHello. */
export type ClientFields = Pick<
  TlsEvent,
  | 'sni'
  | 'alpn'
  | 'ja3'
  | 'ja3_str'
  | 'ja4'
  | 'ja4_r'
  | 'ja4_o'
  | 'ja4_ro'
  | 'ja4_stable'
  | 'resumption'
  | 'tft'
  | 'tft_stable'
  | 'cf_ciphers_sha1'
  | 'cf_extensions_sha1'
  | 'hello_length'
> & { tlsVersion: string }

/** What an event needs from a ServerHello's fingerprints. */
export interface ServerPrints {
  ja3s: string | null
  ja3s_str: string | null
  ja4s: string | null
  ja4s_r: string | null
}

export const NO_SERVER_PRINTS: ServerPrints = {
  ja3s: null,
  ja3s_str: null,
  ja4s: null,
  ja4s_r: null,
}

export function transportLetter(t: Transport): 't' | 'd' | 'q' {
  return t === 'tcp' ? 't' : t === 'dtls' ? 'd' : 'q'
}

export function clientFields(
  ch: ClientHello,
  transport: 't' | 'd' | 'q',
  fam: FamilySwitches,
): ClientFields {
  const j3 = fam.ja3 ? ja3(ch) : undefined
  // ja4_stable is derived from the JA4 computation, so it needs it even when JA4 is not shown.
  const j4 = fam.ja4 || fam.ja4_stable ? ja4(ch, transport) : undefined
  return {
    sni: ch.sni ?? null,
    alpn: ch.alpn.map(alpnName),
    tlsVersion: versionName(clientMaxVersion(ch)),
    ja3: j3?.ja3 ?? null,
    ja3_str: j3?.ja3_str ?? null,
    ja4: fam.ja4 ? (j4?.ja4 ?? null) : null,
    ja4_r: fam.ja4 ? (j4?.ja4_r ?? null) : null,
    ja4_o: fam.ja4 ? (j4?.ja4_o ?? null) : null,
    ja4_ro: fam.ja4 ? (j4?.ja4_ro ?? null) : null,
    ja4_stable: fam.ja4_stable && j4 !== undefined ? ja4Stable(ch, j4) : null,
    resumption: resumptionSignals(ch),
    tft: fam.tft ? tft(ch) : null,
    tft_stable: fam.tft ? tftStable(ch) : null,
    cf_ciphers_sha1: fam.cf ? cfCiphersSha1(ch) : null,
    cf_extensions_sha1: fam.cf ? cfExtensionsSha1(ch) : null,
    hello_length: fam.cf ? helloLength(ch) : null,
  }
}

export function serverPrints(
  sh: ServerHello,
  transport: 't' | 'd' | 'q',
  fam: FamilySwitches,
): ServerPrints {
  const j3s = fam.ja3s ? ja3s(sh) : undefined
  const j4s = fam.ja4s ? ja4s(sh, transport) : undefined
  return {
    ja3s: j3s?.ja3s ?? null,
    ja3s_str: j3s?.ja3s_str ?? null,
    ja4s: j4s?.ja4s ?? null,
    ja4s_r: j4s?.ja4s_r ?? null,
  }
}

/** The version a ServerHello selects, by name. */
export function negotiatedVersion(sh: ServerHello): string {
  return versionName(sh.selectedVersion ?? sh.legacyVersion)
}

function clientMaxVersion(ch: ClientHello): number {
  let max = -1
  for (const v of ch.supportedVersions) if (!isGrease(v) && v > max) max = v
  return max < 0 ? ch.legacyVersion : max
}

const VERSION_NAMES: Record<number, string> = {
  0x0002: 'ssl2',
  0x0300: 'ssl3',
  0x0301: '1.0',
  0x0302: '1.1',
  0x0303: '1.2',
  0x0304: '1.3',
  0xfeff: 'dtls1.0',
  0xfefd: 'dtls1.2',
  0xfefc: 'dtls1.3',
}

function versionName(v: number): string {
  return VERSION_NAMES[v] ?? `0x${v.toString(16).padStart(4, '0')}`
}

function alpnName(name: Uint8Array): string {
  let s = ''
  for (const b of name) {
    if (b < 0x20 || b > 0x7e)
      return '0x' + Array.from(name, (x) => x.toString(16).padStart(2, '0')).join('')
    s += String.fromCharCode(b)
  }
  return s
}

/** Everything of a `tls` event that does not come from the hellos' fingerprints. */
export interface TlsEventBase {
  tsUs: number
  sensor: string
  srcIp: string
  srcPort: number
  dstIp: string
  dstPort: number
  transport: Transport
  /** 0 when the ClientHello was not seen. */
  helloIndex: number
  negotiated: string | null
  ja4t: string | null
  ja4ts: string | null
  ja4l_c: string | null
  ja4l_s: string | null
  certs: CertInfo[]
  anomalies: string[]
}

/**
 * The event (field order of `TlsEvent`). `ch` undefined with a positive hello index is an
 * SSLv2-format hello: recognised, never fingerprinted.
 */
export function tlsEvent(
  b: TlsEventBase,
  ch: ClientFields | undefined,
  sh: ServerPrints,
): TlsEvent {
  return {
    type: 'tls',
    ts: isoFromUs(b.tsUs),
    sensor: b.sensor,
    src_ip: b.srcIp,
    src_port: b.srcPort,
    dst_ip: b.dstIp,
    dst_port: b.dstPort,
    transport: b.transport,
    hello_index: b.helloIndex,
    sni: ch?.sni ?? null,
    alpn: ch?.alpn ?? [],
    tls_version: ch !== undefined ? ch.tlsVersion : b.helloIndex > 0 ? 'ssl2' : null,
    tls_version_negotiated: b.negotiated,
    ja3: ch?.ja3 ?? null,
    ja3_str: ch?.ja3_str ?? null,
    ja4: ch?.ja4 ?? null,
    ja4_r: ch?.ja4_r ?? null,
    ja4_o: ch?.ja4_o ?? null,
    ja4_ro: ch?.ja4_ro ?? null,
    ja4_stable: ch?.ja4_stable ?? null,
    resumption: ch?.resumption ?? [],
    ja3s: sh.ja3s,
    ja3s_str: sh.ja3s_str,
    ja4s: sh.ja4s,
    ja4s_r: sh.ja4s_r,
    ja4t: b.ja4t,
    ja4ts: b.ja4ts,
    ja4l_c: b.ja4l_c,
    ja4l_s: b.ja4l_s,
    tft: ch?.tft ?? null,
    tft_stable: ch?.tft_stable ?? null,
    cf_ciphers_sha1: ch?.cf_ciphers_sha1 ?? null,
    cf_extensions_sha1: ch?.cf_extensions_sha1 ?? null,
    hello_length: ch?.hello_length ?? null,
    certs: b.certs,
    anomalies: b.anomalies,
  }
}

/**
 * A `tls` event without its fingerprints: the rest of the event and the hellos it comes from
 * (bodies as the engine parsed them, copies it owns). Plain data, so it crosses to another
 * thread by structured clone.
 */
export interface DeferredTls {
  base: TlsEventBase
  /** The ClientHello body; null for an SSLv2-format hello or one not seen. */
  clientHello: Uint8Array | null
  /** The ServerHello body and the stream bytes after it (see `parseServerHello`), when seen. */
  serverHello: Uint8Array | null
  serverFollowing: Uint8Array | null
}

/**
 * The event of a deferred one, equal to the one the engine would have built: the hellos parsed
 * there already, so they parse again here (a parse that still fails leaves their fields null).
 */
export function completeTls(d: DeferredTls, fam: FamilySwitches): TlsEvent {
  const t = transportLetter(d.base.transport)
  const dtls = d.base.transport === 'dtls'
  let ch: ClientFields | undefined
  if (d.clientHello !== null) {
    const res = parseClientHello(d.clientHello, { dtls })
    if (res.ok) ch = clientFields(res.value, t, fam)
  }
  let sh = NO_SERVER_PRINTS
  if (d.serverHello !== null) {
    const res = parseServerHello(d.serverHello, {
      dtls,
      following: d.serverFollowing ?? undefined,
    })
    if (res.ok) sh = serverPrints(res.value, t, fam)
  }
  return tlsEvent(d.base, ch, sh)
}

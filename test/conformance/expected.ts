/**
 * Reads `tlsight-expected/1` files (see ../shared/testdata/FORMAT.md) and compares our events
 * with them the way FORMAT.md recommends: per flow identity, list fields element by element,
 * `prefix_only` as a prefix, `optional` may be missing, unsettled disputes only warn.
 */
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { CaptureEvent } from '../../src/events/capture.ts'
import { endpoint } from '../../src/events/endpoint.ts'

export interface ExpectedFlow {
  proto: 'tcp' | 'udp'
  client: string
  server: string
  optional?: string[]
  prefix_only?: string[]
  disputes?: { field: string; index?: number | number[]; settled?: boolean }[]
  [field: string]: unknown
}

export interface ExpectedFile {
  pcap: string
  format: string
  flows: ExpectedFlow[]
  notes?: string[]
}

/** Where the shared corpus is: `TLSIGHT_CONFORMANCE_DIR`, default `../shared/testdata`. */
export function conformanceDir(): string {
  return resolve(
    process.env.TLSIGHT_CONFORMANCE_DIR ?? join(import.meta.dirname, '../../../shared/testdata'),
  )
}

export function listExpectedFiles(dir: string): string[] {
  const root = join(dir, 'expected')
  if (!existsSync(root)) return []
  const out: string[] = []
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.json')) out.push(p)
    }
  }
  walk(root)
  return out
}

export function loadExpected(path: string): ExpectedFile {
  return JSON.parse(readFileSync(path, 'utf8')) as ExpectedFile
}

/** The families compared so far (expected-file field names). */
export const COMPARED_FIELDS = [
  'ja3',
  'ja3_full',
  'ja3s',
  'ja3s_full',
  'ja4',
  'ja4_r',
  'ja4_o',
  'ja4_ro',
  'ja4s',
  'ja4s_r',
  'ja4h',
  'ja4h_r',
  'ja4h_ro',
  'ja4x',
]

/**
 * Per-flow TCP families (JA4T, JA4TS, JA4L): on the `tls` events of a connection, or on its
 * `tcp` event when it had no TLS handshake.
 */
export const TCP_FIELDS = ['ja4t', 'ja4ts', 'ja4l_c', 'ja4l_s']

/** Our output field for each expected-file field of the families compared so far. */
export const FIELD_MAP: Record<string, string> = {
  ja3: 'ja3',
  ja3_full: 'ja3_str',
  ja4: 'ja4',
  ja4_r: 'ja4_r',
  ja4_o: 'ja4_o',
  ja4_ro: 'ja4_ro',
  ja3s: 'ja3s',
  ja3s_full: 'ja3s_str',
  ja4s: 'ja4s',
  ja4s_r: 'ja4s_r',
  ja4t: 'ja4t',
  ja4ts: 'ja4ts',
  ja4l_c: 'ja4l_c',
  ja4l_s: 'ja4l_s',
  ja4h: 'ja4h',
  ja4h_r: 'ja4h_r',
  ja4h_ro: 'ja4h_ro',
}

/** QUIC flows (hellos from decrypted Initial packets), reported apart by `npm run conformance`. */
export function isQuicFlow(f: ExpectedFlow): boolean {
  const ja4 = f.ja4
  return (
    f.proto === 'udp' &&
    Array.isArray(ja4) &&
    ja4.some((v) => typeof v === 'string' && v.startsWith('q'))
  )
}

function isPrefix(want: unknown[], have: string[]): boolean {
  return want.length <= have.length && want.every((v, i) => v === have[i])
}

export function flowId(proto: string, client: string, server: string): string {
  return `${proto} ${client} -> ${server}`
}

/** Per-flow lists of each field, in event order (server fields only where a server answered). */
export function groupEvents(events: CaptureEvent[]): Map<string, Record<string, string[]>> {
  const flows = new Map<string, Record<string, string[]>>()
  for (const e of events) {
    const proto = e.type === 'tls' && e.transport !== 'tcp' ? 'udp' : 'tcp'
    const id = flowId(
      proto,
      endpoint(e.src_ip, e.src_port ?? 0),
      endpoint(e.dst_ip ?? '', e.dst_port ?? 0),
    )
    let f = flows.get(id)
    if (f === undefined) {
      f = {}
      flows.set(id, f)
    }
    for (const [field, ours] of Object.entries(FIELD_MAP)) {
      const v = (e as unknown as Record<string, unknown>)[ours]
      if (typeof v !== 'string') continue
      ;(f[field] ??= []).push(v)
    }
    if (e.type === 'tls') for (const c of e.certs) if (c.ja4x !== null) (f.ja4x ??= []).push(c.ja4x)
  }
  return flows
}

export interface FieldTally {
  total: number
  equal: number
}

export interface Comparison {
  tally: Record<string, FieldTally>
  failures: string[]
  warnings: string[]
}

/** Compares the fields of `fields` for the expected flows that `select` accepts. */
export function compare(
  expected: ExpectedFile,
  events: CaptureEvent[],
  fields: string[],
  select: (f: ExpectedFlow) => boolean = () => true,
): Comparison {
  const ours = groupEvents(events)
  const tally: Record<string, FieldTally> = {}
  const failures: string[] = []
  const warnings: string[] = []
  for (const ef of expected.flows) {
    if (!select(ef)) continue
    const id = flowId(ef.proto, ef.client, ef.server)
    const got = ours.get(id)
    for (const field of fields) {
      const want = ef[field]
      if (typeof want === 'string') {
        // A per-flow value (JA4T/TS, JA4L): every event of the flow carries the same one.
        const t = (tally[field] ??= { total: 0, equal: 0 })
        const have = got?.[field]?.[0] ?? null
        t.total++
        if (have === want) t.equal++
        else
          failures.push(
            `${id} ${field}: expected ${JSON.stringify(want)}, got ${JSON.stringify(have)}`,
          )
        continue
      }
      if (!Array.isArray(want)) continue
      const t = (tally[field] ??= { total: 0, equal: 0 })
      const have = got?.[field] ?? []
      const optional = ef.optional?.includes(field) === true
      if (optional && have.length === 0) continue
      const prefix = ef.prefix_only?.includes(field) === true
      const n = prefix ? want.length : Math.max(want.length, have.length)
      // `prefix_only` marks values from a reference that keeps one ServerHello per flow. FORMAT.md
      // assumes the first; FoxIO python keeps the last one it sees (tls13-draft22: the HRR comes
      // first, python reports the real ServerHello). So the expected run may sit at either end.
      const shift =
        prefix && !isPrefix(want, have) && isPrefix([...want].reverse(), [...have].reverse())
          ? have.length - want.length
          : 0
      for (let i = 0; i < n; i++) {
        t.total++
        if (want[i] === have[i + shift]) {
          t.equal++
          continue
        }
        const unsettled = ef.disputes?.some(
          (d) =>
            d.field === field &&
            d.settled === false &&
            (d.index === undefined ||
              d.index === i ||
              (Array.isArray(d.index) && d.index.includes(i))),
        )
        const msg = `${id} ${field}[${i}]: expected ${JSON.stringify(want[i] ?? null)}, got ${JSON.stringify(have[i] ?? null)}`
        if (unsettled === true) warnings.push(msg)
        else failures.push(msg)
      }
    }
  }
  return { tally, failures, warnings }
}

/**
 * What the references read from TLS sessions decrypted with the capture's key log, which
 * `analyze` does not do, is out of scope: JA4H of HTTP/2 and HTTP/3 requests, and JA4X of
 * certificates sent inside TLS 1.3. Drops those expectations in place; returns how many values.
 */
export function withoutDecrypted(expected: ExpectedFile, events: CaptureEvent[]): number {
  const tls13 = new Set<string>()
  for (const e of events) {
    if (e.type === 'tls' && e.tls_version_negotiated === '1.3' && e.transport === 'tcp')
      tls13.add(flowId('tcp', endpoint(e.src_ip, e.src_port), endpoint(e.dst_ip, e.dst_port)))
  }
  let n = 0
  const drop = (f: ExpectedFlow, keys: string[]): void => {
    for (const k of keys) {
      const list = f[k]
      if (Array.isArray(list)) n += list.length
      Reflect.deleteProperty(f, k)
    }
  }
  for (const f of expected.flows) {
    const ja4h = f.ja4h
    if (Array.isArray(ja4h) && ja4h.some((v) => /^..(20|30)/.test(String(v))))
      drop(f, ['ja4h', 'ja4h_r', 'ja4h_ro'])
    if (tls13.has(flowId(f.proto, f.client, f.server))) drop(f, ['ja4x'])
  }
  return n
}

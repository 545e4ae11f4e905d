/** JA3/JA3S lists per TCP flow, the shape both tshark's and our output are reduced to. */
import { endpoint } from '../../src/events/endpoint.ts'

export { endpoint }

/** The JA3 fields of one flow, as in a `tlsight-expected/1` flow object. */
export interface Ja3Flow {
  proto: 'tcp' | 'udp'
  /** `ip:port` of the client (`[v6]:port` for IPv6). */
  client: string
  server: string
  /** One value per ClientHello, in capture order. */
  ja3: string[]
  ja3_full: string[]
  /** One value per ServerHello (HelloRetryRequest included), in capture order. */
  ja3s: string[]
  ja3s_full: string[]
}

export const JA3_FIELDS = ['ja3', 'ja3_full', 'ja3s', 'ja3s_full'] as const

export function flowKey(f: Pick<Ja3Flow, 'proto' | 'client' | 'server'>): string {
  return `${f.proto} ${f.client} -> ${f.server}`
}

/** An empty flow record. */
export function newFlow(proto: Ja3Flow['proto'], client: string, server: string): Ja3Flow {
  return { proto, client, server, ja3: [], ja3_full: [], ja3s: [], ja3s_full: [] }
}

/**
 * Compares two flow sets field by field and returns readable lines, one per difference (missing
 * flow, extra flow, differing list); an empty array means they are equal. Flows are matched by
 * `(proto, client, server)`; `labels` (flow key → name) makes messages say which client it was.
 */
export function diffJa3Flows(
  expected: readonly Ja3Flow[],
  actual: readonly Ja3Flow[],
  labels: ReadonlyMap<string, string> = new Map(),
): string[] {
  const out: string[] = []
  const name = (key: string): string => {
    const label = labels.get(key)
    return label === undefined ? key : `${label} (${key})`
  }
  const byKey = new Map(actual.map((f) => [flowKey(f), f]))
  const seen = new Set<string>()
  for (const e of expected) {
    const key = flowKey(e)
    const a = byKey.get(key)
    if (a === undefined) {
      out.push(`missing flow ${name(key)}: expected ja3 ${JSON.stringify(e.ja3)}`)
      continue
    }
    seen.add(key)
    for (const field of JA3_FIELDS) {
      if (sameList(e[field], a[field])) continue
      out.push(
        `${name(key)} ${field}:\n` +
          `    expected ${JSON.stringify(e[field])}\n` +
          `    actual   ${JSON.stringify(a[field])}`,
      )
    }
  }
  for (const a of actual) {
    const key = flowKey(a)
    if (!seen.has(key)) out.push(`extra flow ${name(key)}: ja3 ${JSON.stringify(a.ja3)}`)
  }
  return out
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

/** Number of ClientHellos over all flows. */
export function countHellos(flows: readonly Ja3Flow[]): number {
  return flows.reduce((n, f) => n + f.ja3.length, 0)
}

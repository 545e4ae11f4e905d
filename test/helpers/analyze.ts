/** Runs our analyzer (`tlsight analyze FILE --format jsonl`) as a child process. */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { endpoint, newFlow, type Ja3Flow } from './ja3-flows.ts'
import { runOk } from './run.ts'

/** Repository root (this file is `test/helpers/analyze.ts`). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

const CLI = 'src/cli/main.ts'

/** One `tls` line of `--format jsonl`: one per ClientHello (fields this test uses). */
export interface TlsEventLine {
  type: 'tls'
  ts: string | number
  src_ip: string
  src_port: number
  dst_ip: string
  dst_port: number
  transport: 'tcp' | 'quic' | 'dtls'
  sni?: string | null
  alpn?: string | null
  tls_version?: string | null
  ja3: string
  ja3_str: string
  /** From the ServerHello (or HelloRetryRequest) that answered this hello; absent if none. */
  ja3s?: string | null
  ja3s_str?: string | null
  anomalies: string[]
}

/** True once the analyzer's CLI entry point exists in the working tree. */
export function analyzerPresent(): boolean {
  return existsSync(new URL(`../../${CLI}`, import.meta.url))
}

/** Every JSON line the analyzer prints for `pcap`; rejects on a non-zero exit or a non-JSON line. */
export async function analyze(pcap: string): Promise<Record<string, unknown>[]> {
  const args = ['--import', 'tsx', CLI, 'analyze', pcap, '--format', 'jsonl']
  const { stdout } = await runOk(process.execPath, args, { cwd: REPO_ROOT, timeoutMs: 60_000 })
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l) as Record<string, unknown>
      } catch {
        throw new Error(`analyze output line ${i + 1} is not JSON: ${l.slice(0, 200)}`)
      }
    })
}

/** The `tls` events of {@link analyze}, in output order. */
export async function analyzeTls(pcap: string): Promise<TlsEventLine[]> {
  return (await analyze(pcap)).filter((e): e is TlsEventLine & Record<string, unknown> => {
    return e.type === 'tls'
  })
}

/**
 * Groups `tls` events into flows (client = the hello's sender), in order of first appearance:
 * one `ja3` per event, and one `ja3s` per event that has one.
 */
export function ja3FlowsFromEvents(events: readonly TlsEventLine[]): Ja3Flow[] {
  const flows = new Map<string, Ja3Flow>()
  for (const e of events) {
    const proto = e.transport === 'tcp' ? 'tcp' : 'udp'
    const client = endpoint(e.src_ip, e.src_port)
    const server = endpoint(e.dst_ip, e.dst_port)
    const key = `${proto} ${client} ${server}`
    let f = flows.get(key)
    if (f === undefined) {
      f = newFlow(proto, client, server)
      flows.set(key, f)
    }
    f.ja3.push(e.ja3)
    f.ja3_full.push(e.ja3_str)
    if (e.ja3s !== undefined && e.ja3s !== null) {
      f.ja3s.push(e.ja3s)
      f.ja3s_full.push(e.ja3s_str ?? '')
    }
  }
  return [...flows.values()]
}

/** JA3/JA3S of a capture as `tshark` computes them (`tls.handshake.ja3*`, Wireshark ≥ 3.6). */
import { endpoint, newFlow, type Ja3Flow } from './ja3-flows.ts'
import { runOk } from './run.ts'

const FIELDS = [
  'ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport',
  'tcp.flags.syn', 'tcp.flags.ack', 'tls.handshake.type',
  'tls.handshake.ja3', 'tls.handshake.ja3_full', 'tls.handshake.ja3s', 'tls.handshake.ja3s_full',
] as const // prettier-ignore

// JA3 strings contain `,` and `-`, so several values of one field in one frame are joined with `;`.
const AGGREGATOR = ';'

/** `tshark --version` first line's version, e.g. `4.0.17`. */
export async function tsharkVersion(): Promise<string> {
  const r = await runOk('tshark', ['--version'])
  return /TShark \(Wireshark\) (\S+?)\.?\s/.exec(r.stdout)?.[1] ?? 'unknown'
}

/**
 * Reads `pcap` with tshark and returns one flow per TCP connection that carried a TLS hello,
 * ordered by the connection's first SYN (or first hello), with JA3 values per ClientHello and JA3S
 * values per ServerHello in capture order. The client is the sender of the first SYN, else of the
 * ClientHello, else the receiver of the ServerHello.
 */
export async function tsharkJa3Flows(pcap: string): Promise<Ja3Flow[]> {
  const args = ['-r', pcap, '-n', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a']
  args.push('-E', `aggregator=${AGGREGATOR}`, '-o', 'tcp.desegment_tcp_streams:TRUE')
  const hellosAndSyns =
    'tls.handshake.type == 1 || tls.handshake.type == 2 || (tcp.flags.syn == 1 && tcp.flags.ack == 0)'
  args.push('-Y', hellosAndSyns)
  for (const f of FIELDS) args.push('-e', f)
  const { stdout } = await runOk('tshark', args, { timeoutMs: 60_000 })

  const flows = new Map<string, Ja3Flow>()
  const flowOf = (client: string, server: string): Ja3Flow => {
    let f = flows.get(`${client} ${server}`)
    if (f === undefined) {
      f = newFlow('tcp', client, server)
      flows.set(`${client} ${server}`, f)
    }
    return f
  }
  // The flow of a packet between a and b, whichever side turned out to be the client.
  const existing = (a: string, b: string): Ja3Flow | undefined =>
    flows.get(`${a} ${b}`) ?? flows.get(`${b} ${a}`)
  for (const line of stdout.split('\n')) {
    if (line === '') continue
    const cells = line.split('\t')
    const col = Object.fromEntries(FIELDS.map((name, i) => [name, cells[i] ?? '']))
    const src = endpoint(col['ip.src'] || col['ipv6.src']!, col['tcp.srcport']!)
    const dst = endpoint(col['ip.dst'] || col['ipv6.dst']!, col['tcp.dstport']!)
    const values = (name: (typeof FIELDS)[number]): string[] =>
      col[name] === '' ? [] : col[name]!.split(AGGREGATOR)
    const syn = isSet(col['tcp.flags.syn']!) && !isSet(col['tcp.flags.ack']!)
    const ja3 = values('tls.handshake.ja3')
    const ja3s = values('tls.handshake.ja3s')
    if (syn) {
      if (existing(src, dst) === undefined) flowOf(src, dst)
      continue
    }
    if (ja3.length > 0) {
      const f = existing(src, dst) ?? flowOf(src, dst)
      f.ja3.push(...ja3)
      f.ja3_full.push(...values('tls.handshake.ja3_full'))
    }
    if (ja3s.length > 0) {
      const f = existing(src, dst) ?? flowOf(dst, src)
      f.ja3s.push(...ja3s)
      f.ja3s_full.push(...values('tls.handshake.ja3s_full'))
    }
  }
  return [...flows.values()].filter((f) => f.ja3.length > 0 || f.ja3s.length > 0)
}

// tshark prints booleans as 1/0 (4.0) or True/False (4.2+).
function isSet(v: string): boolean {
  return v === '1' || v === 'True'
}

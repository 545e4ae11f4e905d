/**
 * @module bench/suricata — the Suricata configuration the bench writes at run time.
 *
 * Suricata 7.0.x (Debian bookworm-backports) in pcap mode with detection off, eve-log with only
 * `tls` records carrying JA3, JA3S and JA4. Flow timeouts and the "defaults" memcaps are those of
 * Debian's shipped `/etc/suricata/suricata.yaml`.
 *
 * NOTE: with those shipped memcaps Suricata drops about half of the benchmark's handshakes without
 * an error: at 2000 new connections/s and a 60 s timeout for closed TCP sessions, ~120k flows stay
 * alive, the reassembly memcap is hit (`tcp.insert_data_normal_fail` climbs) and their ClientHellos
 * are never parsed. It then also looks faster than it is. The raised memcaps below let it log every
 * handshake; memcaps are ceilings, not allocations (peak RSS stays under 1 GB at 100k).
 */

export interface SuricataConfigOptions {
  /** Directory for eve.json and suricata.log. */
  logDir: string
  /** Keep Debian's shipped memcaps (to show the undercount) instead of raising them. */
  defaults: boolean
}

// Debian's shipped values (suricata 1:7.0.10-1~bpo12+1, /etc/suricata/suricata.yaml).
const SHIPPED_MEMCAPS = {
  flow: { memcap: '128mb', hashSize: 65536 },
  stream: { memcap: '64mb', reassemblyMemcap: '256mb' },
}
const RAISED_MEMCAPS = {
  flow: { memcap: '4gb', hashSize: 1_048_576 },
  stream: { memcap: '4gb', reassemblyMemcap: '8gb' },
}

/** The YAML text of a minimal TLS-only Suricata configuration. */
export function suricataYaml(opts: SuricataConfigOptions): string {
  const m = opts.defaults ? SHIPPED_MEMCAPS : RAISED_MEMCAPS
  return `%YAML 1.1
---
# Written by tlsight bench/analyze.ts for one run; ${opts.defaults ? 'shipped (default) memcaps' : 'memcaps raised so every handshake is logged'}.
default-log-dir: ${opts.logDir}
logging:
  default-log-level: notice
  outputs:
    - console:
        enabled: yes
        level: error
    - file:
        enabled: yes
        level: info
        filename: suricata.log
stats:
  enabled: yes
  interval: 3600
outputs:
  - eve-log:
      enabled: yes
      filetype: regular
      filename: eve.json
      types:
        - tls:
            extended: yes
            ja4: on
            custom: [sni, version, ja3, ja3s, ja4]
  - stats:
      enabled: yes
      filename: stats.log
      append: no
      totals: yes
      threads: no
app-layer:
  protocols:
    tls:
      enabled: yes
      detection-ports:
        dp: 443
      ja3-fingerprints: yes
      ja4-fingerprints: yes
flow:
  memcap: ${m.flow.memcap}
  hash-size: ${m.flow.hashSize}
  prealloc: 10000
  emergency-recovery: 30
flow-timeouts:
  default: { new: 30, established: 300, closed: 0, bypassed: 100, emergency-new: 10, emergency-established: 100, emergency-closed: 0, emergency-bypassed: 50 }
  tcp: { new: 60, established: 600, closed: 60, bypassed: 100, emergency-new: 5, emergency-established: 100, emergency-closed: 10, emergency-bypassed: 50 }
  udp: { new: 30, established: 300, bypassed: 100, emergency-new: 10, emergency-established: 100, emergency-bypassed: 50 }
  icmp: { new: 30, established: 300, bypassed: 100, emergency-new: 10, emergency-established: 100, emergency-bypassed: 50 }
stream:
  memcap: ${m.stream.memcap}
  checksum-validation: yes
  reassembly:
    memcap: ${m.stream.reassemblyMemcap}
    depth: 1mb
`
}

/** Arguments for a pcap-mode run with the configuration at `configPath`. */
export function suricataArgs(configPath: string, pcap: string, logDir: string): string[] {
  return ['-c', configPath, '-r', pcap, '--runmode', 'single', '--disable-detection', '-l', logDir]
}

/** Counters from Suricata's stats.log that explain an undercount. */
export function suricataDropCounters(statsLog: string): Record<string, number> {
  const wanted = [
    'tcp.insert_data_normal_fail',
    'tcp.ssn_memcap_drop',
    'tcp.segment_memcap_drop',
    'flow.memcap',
    'flow.emerg_mode_entered',
    'app_layer.flow.tls',
  ]
  const out: Record<string, number> = {}
  for (const line of statsLog.split('\n')) {
    const cols = line.split('|').map((c) => c.trim())
    const [name, , value] = cols
    if (name !== undefined && value !== undefined && wanted.includes(name)) {
      out[name] = Number(value)
    }
  }
  return out
}

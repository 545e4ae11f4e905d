/**
 * @module pipeline/stats
 * The handshake engine's counters, apart from the engine so that a process that only merges
 * shard statistics (the parallel analyzer's main thread) does not load the parsers.
 */

export interface HandshakeEngineStats {
  packets: number
  /** Packets decoded down to TCP/UDP. */
  decoded: number
  /** Not IP, or an IP protocol we do not follow. */
  ignored: number
  /** Link/IP/transport headers we could not decode. */
  undecodable: number
  flows: number
  flowsEvicted: number
  clientHellos: number
  serverHellos: number
  /** ServerHellos with no ClientHello before them on the flow (capture began mid-handshake). */
  orphanServerHellos: number
  /** ClientHellos whose body did not parse. */
  badHellos: number
  /** `tls` events. */
  events: number
  /** `http` events (cleartext HTTP requests). */
  httpEvents: number
  /** `tcp` events (connections without a `tls` or `http` event). */
  tcpEvents: number
  /** QUIC Initial packets seen (RFC 9000 §17.2.2). */
  quicPackets: number
  /** Count per anomaly code, over every layer. */
  anomalies: Record<string, number>
}

const COUNTERS = [
  'packets',
  'decoded',
  'ignored',
  'undecodable',
  'flows',
  'flowsEvicted',
  'clientHellos',
  'serverHellos',
  'orphanServerHellos',
  'badHellos',
  'events',
  'httpEvents',
  'tcpEvents',
  'quicPackets',
] as const satisfies readonly (keyof HandshakeEngineStats)[]

/** Zeroed counters (also used to merge the statistics of several shards). */
export function emptyStats(): HandshakeEngineStats {
  return {
    packets: 0,
    decoded: 0,
    ignored: 0,
    undecodable: 0,
    flows: 0,
    flowsEvicted: 0,
    clientHellos: 0,
    serverHellos: 0,
    orphanServerHellos: 0,
    badHellos: 0,
    events: 0,
    httpEvents: 0,
    tcpEvents: 0,
    quicPackets: 0,
    anomalies: {},
  }
}

/** Adds `from` into `into` (shard statistics add up by construction). */
export function addStats(into: HandshakeEngineStats, from: HandshakeEngineStats): void {
  for (const k of COUNTERS) into[k] += from[k]
  for (const [k, v] of Object.entries(from.anomalies))
    into.anomalies[k] = (into.anomalies[k] ?? 0) + v
}

/**
 * A generated mixed load for the correlator: connections from a small pool of client ip:ports
 * (so ports are reused), several requests per connection, web-server logs that arrive late
 * (up to `maxLogDelayMs`) and out of order, a constant clock offset between the log source and
 * the sensor, and requests whose handshake the sensor never saw. Seeded, so runs repeat.
 */
import type { HttpEvent } from '../../events/http.ts'
import type { TlsEvent } from '../../events/tls.ts'
import { isoFromUs } from '../../events/time.ts'

export interface LoadOptions {
  connections: number
  seed?: number
  clientIps?: number
  portsPerIp?: number
  maxLogDelayMs?: number
  /** The log source's clock minus the sensor's. */
  logClockOffsetMs?: number
  /** Share of connections whose handshake the sensor did not capture. */
  uncapturedShare?: number
}

export interface Arrival {
  atMs: number
  event: TlsEvent | HttpEvent
}

export interface Load {
  /** Both streams merged by arrival time. */
  arrivals: Arrival[]
  /** Each handshake's connection, and each request's (undefined: its handshake was not seen). */
  connectionOfTls: Map<TlsEvent, number>
  connectionOfRequest: Map<HttpEvent, number | undefined>
  requests: number
  reusedPorts: number
}

function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const T0_MS = Date.UTC(2026, 10, 22, 12, 0, 0)

export function tlsEvent(src: string, port: number, tsMs: number, ja3: string): TlsEvent {
  return {
    type: 'tls',
    ts: isoFromUs(Math.round(tsMs * 1000)),
    sensor: 'sensor-1',
    src_ip: src,
    src_port: port,
    dst_ip: '10.9.0.1',
    dst_port: 443,
    transport: 'tcp',
    hello_index: 1,
    sni: 'shop.example',
    alpn: ['h2', 'http/1.1'],
    tls_version: '1.3',
    tls_version_negotiated: '1.3',
    ja3,
    ja3_str: null,
    ja4: null,
    ja4_r: null,
    ja4_o: null,
    ja4_ro: null,
    ja4_stable: null,
    resumption: [],
    ja3s: null,
    ja3s_str: null,
    ja4s: null,
    ja4s_r: null,
    ja4t: null,
    ja4ts: null,
    ja4l_c: null,
    ja4l_s: null,
    tft: null,
    tft_stable: null,
    cf_ciphers_sha1: null,
    cf_extensions_sha1: null,
    hello_length: null,
    certs: [],
    anomalies: [],
  }
}

export function httpEvent(src: string, port: number, tsMs: number, path: string): HttpEvent {
  return {
    type: 'http',
    // nginx's $msec: millisecond resolution.
    ts: isoFromUs(Math.round(tsMs) * 1000),
    sensor: 'web-1',
    source: 'nginx',
    src_ip: src,
    src_port: port,
    dst_ip: null,
    dst_port: null,
    host: 'shop.example',
    method: 'GET',
    path,
    status: 200,
    user_agent: 'Mozilla/5.0',
    request_time_ms: 3,
    ja4h: null,
    ja4h_r: null,
    ja4h_ro: null,
    tfh: null,
    ja3: null,
    ja4: null,
    cf_ciphers_sha1: null,
    cf_extensions_sha1: null,
    hello_length: null,
    tls_version: null,
    sni: null,
  }
}

export function generateLoad(o: LoadOptions): Load {
  const r = rng(o.seed ?? 1)
  const ips = o.clientIps ?? 100
  const ports = o.portsPerIp ?? 10
  const maxDelay = o.maxLogDelayMs ?? 2_000
  const offset = o.logClockOffsetMs ?? -120
  const uncaptured = o.uncapturedShare ?? 0.02
  const endpoints = ips * ports
  const cursor = Array.from({ length: endpoints }, () => r() * 10_000)
  const arrivals: Arrival[] = []
  const connectionOfTls = new Map<TlsEvent, number>()
  const connectionOfRequest = new Map<HttpEvent, number | undefined>()
  let requests = 0
  let reusedPorts = 0
  const used = new Set<number>()
  for (let c = 0; c < o.connections; c++) {
    // A connection the sensor missed comes from a client it never saw (a missed handshake on a
    // reused port is indistinguishable from the previous connection's: no correlator can tell).
    const seen = r() >= uncaptured
    const ep = seen ? Math.floor(r() * endpoints) : -1
    if (used.has(ep)) reusedPorts++
    if (seen) used.add(ep)
    const ip = seen
      ? `198.51.${Math.floor(ep / ports) >> 8}.${Math.floor(ep / ports) & 255}`
      : `203.0.${(c >> 8) & 255}.${c & 255}`
    const port = seen ? 40_000 + (ep % ports) : 50_000
    const start = seen ? (cursor[ep] ?? 0) : r() * 60_000
    const tls = tlsEvent(ip, port, T0_MS + start, `conn-${c}`)
    if (seen) {
      connectionOfTls.set(tls, c)
      arrivals.push({ atMs: T0_MS + start + r() * 50, event: tls })
    }
    const n = 1 + Math.floor(r() * 5)
    let last = start
    for (let k = 0; k < n; k++) {
      const t = start + 20 + r() * 3_000
      if (t > last) last = t
      const req = httpEvent(ip, port, T0_MS + t + offset, `/c${c}/r${k}`)
      connectionOfRequest.set(req, seen ? c : undefined)
      arrivals.push({ atMs: T0_MS + t + r() * maxDelay, event: req })
      requests++
    }
    // The port is free again once the connection closed; reuse comes a little later.
    if (seen) cursor[ep] = last + 1_000 + r() * 4_000
  }
  arrivals.sort((a, b) => a.atMs - b.atMs)
  return { arrivals, connectionOfTls, connectionOfRequest, requests, reusedPorts }
}

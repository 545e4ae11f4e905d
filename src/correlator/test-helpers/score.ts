/** Runs a generated load through a correlator and scores every decision. */
import type { HttpEvent } from '../../events/http.ts'
import type { SessionEvent } from '../../events/session.ts'
import type { TlsEvent } from '../../events/tls.ts'
import { Correlator, type CorrelatorOptions } from '../correlator.ts'
import type { Load } from './load.ts'

export interface Score {
  requests: number
  /** Requests whose handshake was captured. */
  joinable: number
  correct: number
  wrong: number
  /** Joinable requests left unmatched. */
  missed: number
  /** Requests without a captured handshake, rightly left unmatched. */
  rightlyUnmatched: number
  maxHeld: { requests: number; handshakes: number }
  seconds: number
}

export function scoreLoad(
  load: Load,
  opts: Omit<CorrelatorOptions, 'onSession' | 'onUnmatched'> = {},
): Score {
  const byPath = new Map<string, HttpEvent>()
  for (const req of load.connectionOfRequest.keys()) byPath.set(req.path, req)
  const tlsByJa3 = new Map<string, TlsEvent>()
  for (const tls of load.connectionOfTls.keys()) if (tls.ja3 !== null) tlsByJa3.set(tls.ja3, tls)
  const s: Score = {
    requests: load.requests,
    joinable: 0,
    correct: 0,
    wrong: 0,
    missed: 0,
    rightlyUnmatched: 0,
    maxHeld: { requests: 0, handshakes: 0 },
    seconds: 0,
  }
  for (const c of load.connectionOfRequest.values()) if (c !== undefined) s.joinable++
  const onSession = (x: SessionEvent): void => {
    const req = byPath.get(x.path)
    const tls = x.ja3 === null ? undefined : tlsByJa3.get(x.ja3)
    const want = req === undefined ? undefined : load.connectionOfRequest.get(req)
    const got = tls === undefined ? undefined : load.connectionOfTls.get(tls)
    if (want !== undefined && want === got) s.correct++
    else s.wrong++
  }
  const onUnmatched = (req: HttpEvent): void => {
    if (load.connectionOfRequest.get(req) === undefined) s.rightlyUnmatched++
    else s.missed++
  }
  const c = new Correlator({ ...opts, onSession, onUnmatched })
  const started = process.hrtime.bigint()
  let nextTick = load.arrivals[0]?.atMs ?? 0
  for (const a of load.arrivals) {
    while (nextTick <= a.atMs) {
      c.tick(nextTick)
      nextTick += 100
    }
    if (a.event.type === 'tls') c.addTls(a.event, a.atMs)
    else c.addHttp(a.event, a.atMs)
    const held = c.size
    if (held.requests > s.maxHeld.requests) s.maxHeld.requests = held.requests
    if (held.handshakes > s.maxHeld.handshakes) s.maxHeld.handshakes = held.handshakes
  }
  c.flush()
  s.seconds = Number(process.hrtime.bigint() - started) / 1e9
  return s
}

/**
 * Correlation accuracy on a generated mixed load (`npm run bench` runs it after the analyzer
 * bench; alone: `node --import tsx bench/correlator.ts [--connections N]`): ports reused, logs
 * delayed up to 2 s and shuffled, the log clock 120 ms behind the sensor, 2 % of requests from
 * clients whose handshake was never captured.
 */
import { parseArgs } from 'node:util'
import { generateLoad } from '../src/correlator/test-helpers/load.ts'
import { scoreLoad } from '../src/correlator/test-helpers/score.ts'

export function correlatorBench(connections: number): boolean {
  const load = generateLoad({ connections, seed: 2026 })
  const s = scoreLoad(load)
  const pct = (100 * s.correct) / s.joinable
  const rate = (s.requests + load.connectionOfTls.size) / s.seconds
  console.log(`\ncorrelator (generated load, seed 2026)`)
  console.log(
    `  ${connections} connections, ${s.requests} requests, client ports reused ${load.reusedPorts} times`,
  )
  console.log(
    `  joined correctly ${s.correct}/${s.joinable} (${pct.toFixed(3)} %), wrong joins ${s.wrong}, ` +
      `missed ${s.missed}, rightly unmatched ${s.rightlyUnmatched}/${s.requests - s.joinable}`,
  )
  console.log(
    `  held at most ${s.maxHeld.requests} requests and ${s.maxHeld.handshakes} handshakes; ` +
      `${Math.round(rate).toLocaleString('en-US')} events/s`,
  )
  return s.wrong === 0 && pct >= 99.9
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const { values } = parseArgs({ options: { connections: { type: 'string' } } })
  const ok = correlatorBench(Number(values.connections ?? 20_000))
  process.exitCode = ok ? 0 : 1
}

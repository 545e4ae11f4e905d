// Store throughput and event-loop responsiveness on embedded chDB (100k events):
// `node --import tsx bench/store.ts`; the numbers are printed as diagnostics.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { isoFromUs } from '../src/events/time.ts'
import { openStore } from '../src/store/index.ts'
import { nowUs, tempDir, testConfig, tlsEvent } from '../src/store/test-helpers/fixtures.ts'

const EVENTS = 100_000
/**
 * Longest the event loop may stall while the store works. Generous: on a shared 2-core machine
 * the OS alone can starve the loop for a few hundred ms; a blocking call would take seconds.
 */
const MAX_STALL_MS = 1000
/** Events handed to the writer per event-loop turn, as a busy log listener would. */
const EVENTS_PER_TICK = 1000

test(
  '100k tls events: insert rate, and the event loop stays responsive during a big query',
  {
    timeout: 600_000,
  },
  async (t) => {
    const store = await openStore(
      testConfig(tempDir('perf'), 'perf', { TLSIGHT_STORE__BATCH_MAX_EVENTS: '10000' }),
    )
    try {
      const base = nowUs(600)
      // Made as they are written, as a listener would: holding 100k events up front would
      // measure the garbage collector walking them, not the store.
      const event = (i: number) =>
        tlsEvent(i, {
          ts: isoFromUs(base + i * 1000),
          ja4: `t13d1516h2_${String(i % 500).padStart(12, '0')}_e5627efa2ab1`,
          src_ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        })
      const h = monitorEventLoopDelay({ resolution: 10 })
      h.enable()
      const t0 = performance.now()
      const acks: Promise<void>[] = []
      for (let i = 0; i < EVENTS; i += EVENTS_PER_TICK) {
        for (let k = i; k < i + EVENTS_PER_TICK; k++) acks.push(store.writer.write(event(k)))
        await new Promise((r) => setImmediate(r))
      }
      await Promise.all(acks)
      await store.writer.flush()
      const insertMs = performance.now() - t0
      h.disable()
      const stored = (await store.queries.countEvents()).tls
      assert.equal(stored, EVENTS)
      t.diagnostic(
        `insert: ${EVENTS} events in ${insertMs.toFixed(0)} ms = ` +
          `${Math.round(EVENTS / (insertMs / 1000))} events/s; ` +
          `event-loop max stall ${(h.max / 1e6).toFixed(1)} ms (batches of 10000)`,
      )
      assert.ok(h.max / 1e6 < MAX_STALL_MS, `event loop stalled ${h.max / 1e6} ms during inserts`)

      // A big query (a full scan with heavy aggregation) while a timer measures the loop.
      const q = monitorEventLoopDelay({ resolution: 10 })
      q.enable()
      const t1 = performance.now()
      const rows = await store.connection.query<{ n: number }>(
        'SELECT uniqExact(sipHash64(number, {s:String})) AS n FROM numbers(20000000)',
        { s: 'x' },
      )
      const queryMs = performance.now() - t1
      q.disable()
      assert.equal(rows[0]?.n, 20_000_000)
      const stallMs = q.max / 1e6
      t.diagnostic(`query: ${queryMs.toFixed(0)} ms; event-loop max stall ${stallMs.toFixed(1)} ms`)
      assert.ok(stallMs < MAX_STALL_MS, `event loop stalled ${stallMs} ms during a query`)

      const top = await store.queries.topFingerprints({
        family: 'ja4',
        from: isoFromUs(base - 1),
        to: isoFromUs(nowUs(-60)),
        limit: 10,
      })
      assert.equal(top.length, 10)
      assert.equal(top[0]?.events, EVENTS / 500)
    } finally {
      await store.close()
    }
  },
)

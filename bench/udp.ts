/**
 * @module bench/udp — UDP records/s that `tlsight serve` accepts with storage on, beside a bare
 * `dgram` receiver, in the same run (`npm run bench` runs it after the analyzer bench; alone:
 * `node --import tsx bench/udp.ts [--help]`).
 *
 * A C sender (`bench/udp-sender.c`, compiled with `gcc -O2` into a temporary directory) sends
 * nginx access-log records in RFC 3164 syslog to 127.0.0.1 at a fixed rate. Each receiver runs
 * in its own process (`bench/udp-receiver.ts`): `bare` only `JSON.parse`s the message, `tlsight`
 * is `startServe` on a temporary data directory (embedded chDB). For each receiver the send rate
 * climbs a ladder of steps, then is bisected between the last lossless and the first lossy step.
 * A step is lossless when every datagram sent reached the process, the kernel's drop counter of
 * the socket (`/proc/net/udp{,6}`) did not move, the receiver dropped nothing and (tlsight)
 * every record was acknowledged by the store. Goal: tlsight's lossless rate ≥ 90 % of bare's,
 * and every accepted record found in `tlsight_logs.http_events` at the end.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { haveCommand } from './measure.ts'
import { SERVE_NODE_FLAGS } from '../src/cli/serve-flags.ts'
import type { ChildMessage, ParentMessage, ReceiverCounts } from './udp-receiver.ts'

const run = promisify(execFile)
const benchDir = dirname(fileURLToPath(import.meta.url))
const repoDir = resolve(benchDir, '..')

/** tlsight's lossless rate must reach this share of the bare receiver's. */
export const GOAL_SHARE_OF_BARE = 0.9

export type ReceiverMode = 'bare' | 'tlsight'

export interface UdpBenchOptions {
  /** Ladder of send rates (datagrams/s), ascending. */
  rates: number[]
  /**
   * Seconds of sending per step. Long enough that the receiver's buffers (the listener's
   * 64 MiB ring and max_pending_events: ~3 s of 50k records/s) cannot pass a rate it does not
   * sustain: with 3 s steps tlsight passed 68k/s and lost at 45k/s over 20 s.
   */
  stepSeconds: number
  /** Bisection steps between the last lossless and the first lossy rate. */
  refine: number
  /** Tries per rate: a rate is lossless when one try is (a shared machine has hiccups). */
  attempts: number
  /** Receivers to measure. */
  modes: ReceiverMode[]
  /** Write a V8 CPU profile of each receiver child into this directory. */
  profileDir: string | null
  /** Extra environment of the tlsight receiver (`--set NAME=VALUE`), e.g. store tuning. */
  set: Record<string, string>
  /** Extra node options of the receivers (`--node-arg`), e.g. `--trace-gc`. */
  nodeArgs: string[]
}

export const UDP_BENCH_DEFAULTS: Readonly<UdpBenchOptions> = {
  rates: [10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 80_000, 100_000, 130_000, 160_000],
  stepSeconds: 15,
  refine: 2,
  attempts: 2,
  modes: ['bare', 'tlsight'],
  profileDir: null,
  set: {},
  nodeArgs: [],
}

/** Quiet time after which a receiver counts as done with a step. */
const SETTLE_QUIET_MS = 2_500
const SETTLE_MAX_MS = 30_000
const POLL_MS = 100
/** Seconds of sending at the lowest rate before the ladder, not counted. */
const WARMUP_SECONDS = 2
/** Bisection stops when the bracket is this narrow. */
const MIN_BRACKET = 2_000

interface SenderResult {
  sent: number
  seconds: number
  rate: number
  sendErrors: number
  bytes: number
}

interface Step {
  target: number
  sender: SenderResult
  /** Deltas over the step. */
  received: number
  accepted: number
  dropped: Record<string, number>
  kernelDrops: number
  /** Longest event-loop delay of the receiver during the step, ms. */
  loopMaxMs: number
  /** Receiver CPU per record received, µs: the whole process and its main thread. */
  cpuUsPerRecord: number
  mainCpuUsPerRecord: number | null
  /** Host-wide `Udp: RcvbufErrors` delta of /proc/net/snmp (every socket; informative). */
  hostRcvbufErrors: number | null
  lossless: boolean
}

interface Search {
  mode: ReceiverMode
  steps: Step[]
  /** Highest target rate with a lossless step; 0 when none. */
  lossless: number
  /** The achieved send rate of that step. */
  achieved: number
  /** True when even the top of the ladder was lossless (the rate is a lower bound). */
  capped: boolean
  /** Rows in http_events at the end and records accepted over all steps (tlsight). */
  stored: { rows: number; accepted: number } | null
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')

function hostRcvbufErrors(): number | null {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'))
    const names = lines[0]?.split(/\s+/) ?? []
    const values = lines[1]?.split(/\s+/) ?? []
    const i = names.indexOf('RcvbufErrors')
    return i < 0 || values[i] === undefined ? null : Number(values[i])
  } catch {
    return null
  }
}

/** A receiver child and its one outstanding request. */
class Receiver {
  readonly #child: ChildProcess
  #waiting: ((m: ChildMessage) => void) | null = null
  #failed: string | null = null
  readonly exited: Promise<void>
  port = 0

  constructor(
    mode: ReceiverMode,
    env: NodeJS.ProcessEnv,
    profileDir: string | null,
    nodeArgs: string[] = [],
  ) {
    // Both with the node options of `npm start`: the same runtime for the collector and its peer.
    const execArgv = [...SERVE_NODE_FLAGS, ...nodeArgs, '--import', 'tsx']
    // One profile per thread (tsx's loader runs in a worker): the main thread's is `*.0.*`.
    if (profileDir !== null)
      execArgv.unshift('--cpu-prof', '--cpu-prof-dir', join(profileDir, mode))
    this.#child = fork(join(benchDir, 'udp-receiver.ts'), ['--mode', mode], {
      cwd: repoDir,
      env,
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#child.on('message', (raw) => {
      const m = raw as ChildMessage
      if (m.type === 'error') this.#failed = m.message
      const w = this.#waiting
      this.#waiting = null
      w?.(m)
    })
    this.exited = new Promise((resolve) => {
      this.#child.on('exit', (code, signal) => {
        this.#failed ??= `receiver exited (${signal ?? code})`
        const w = this.#waiting
        this.#waiting = null
        w?.({ type: 'error', message: this.#failed })
        resolve()
      })
    })
  }

  #next(send?: ParentMessage): Promise<ChildMessage> {
    if (this.#failed !== null) return Promise.resolve({ type: 'error', message: this.#failed })
    return new Promise((resolve) => {
      this.#waiting = resolve
      if (send !== undefined) this.#child.send(send)
    })
  }

  async ready(): Promise<void> {
    const m = await this.#next()
    if (m.type !== 'ready') throw new Error(m.type === 'error' ? m.message : 'unexpected message')
    this.port = m.port
  }

  /** `reset`: the event-loop delay measurement starts again after this answer. */
  async counts(reset = false): Promise<ReceiverCounts> {
    const m = await this.#next({ type: 'counts', reset })
    if (m.type !== 'counts') throw new Error(m.type === 'error' ? m.message : 'unexpected message')
    return m.counts
  }

  async finish(): Promise<number | null> {
    const m = await this.#next({ type: 'finish' })
    if (m.type !== 'finished')
      throw new Error(m.type === 'error' ? m.message : 'unexpected message')
    await this.exited
    return m.rows
  }

  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill()
  }
}

/** The environment of the tlsight child: nothing of the caller's tlsight settings leaks in. */
function receiverEnv(dataDir: string, set: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(TLSIGHT_|CLICKHOUSE_|DATABASE_URL$|NODE_NAME$|PORT$|LOG_LEVEL$)/.test(k)) continue
    env[k] = v
  }
  return {
    ...env,
    TLSIGHT_DATA_DIR: dataDir,
    TLSIGHT_UDP_PORT: '0',
    TLSIGHT_TCP_PORT: 'off',
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...set,
  }
}

async function sendAt(sender: string, port: number, rate: number, count: number, seed: number) {
  const { stdout } = await run(sender, [String(port), String(rate), String(count), String(seed)])
  const m = /sent=(\d+) seconds=([\d.]+) rate=(\d+) send_errors=(\d+) bytes=(\d+)/.exec(stdout)
  if (m === null) throw new Error(`udp-sender: unexpected output ${JSON.stringify(stdout)}`)
  return {
    sent: Number(m[1]),
    seconds: Number(m[2]),
    rate: Number(m[3]),
    sendErrors: Number(m[4]),
    bytes: Number(m[5]),
  }
}

const perRecordUs = (ms: number, records: number): number =>
  records > 0 ? (1000 * ms) / records : 0

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0)

function minus(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(a)) if (v - (b[k] ?? 0) > 0) out[k] = v - (b[k] ?? 0)
  return out
}

/** The counters that move while records arrive or settle (CPU time moves even when idle). */
const progress = (c: ReceiverCounts): string =>
  JSON.stringify([c.received, c.accepted, c.dropped, c.pending, c.kernelDrops])

/** Waits until the receiver has seen (or lost) every datagram and settled every record. */
async function settled(r: Receiver, before: ReceiverCounts, sent: number) {
  const started = performance.now()
  let last = await r.counts()
  let lastChange = performance.now()
  while (performance.now() - started < SETTLE_MAX_MS) {
    const seen = last.received - before.received + (last.kernelDrops - before.kernelDrops)
    const settledAll =
      last.pending === 0 &&
      last.accepted - before.accepted + sum(minus(last.dropped, before.dropped)) >=
        last.received - before.received
    if (seen >= sent && settledAll) return last
    if (performance.now() - lastChange > SETTLE_QUIET_MS) return last
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    const now = await r.counts()
    if (progress(now) !== progress(last)) lastChange = performance.now()
    last = now
  }
  return last
}

async function step(r: Receiver, sender: string, target: number, o: UdpBenchOptions, seed: number) {
  const count = Math.round(target * o.stepSeconds)
  const before = await r.counts(true)
  const snmp0 = hostRcvbufErrors()
  const s = await sendAt(sender, r.port, target, count, seed)
  const after = await settled(r, before, s.sent)
  const snmp1 = hostRcvbufErrors()
  const dropped = minus(after.dropped, before.dropped)
  const st: Step = {
    target,
    sender: s,
    received: after.received - before.received,
    accepted: after.accepted - before.accepted,
    dropped,
    kernelDrops: after.kernelDrops - before.kernelDrops,
    loopMaxMs: after.loopMaxMs,
    cpuUsPerRecord: perRecordUs(after.cpuMs - before.cpuMs, after.received - before.received),
    mainCpuUsPerRecord:
      after.mainCpuMs === null || before.mainCpuMs === null
        ? null
        : perRecordUs(after.mainCpuMs - before.mainCpuMs, after.received - before.received),
    hostRcvbufErrors: snmp0 === null || snmp1 === null ? null : snmp1 - snmp0,
    lossless: false,
  }
  st.lossless =
    s.sent === count &&
    s.sendErrors === 0 &&
    st.received === s.sent &&
    st.accepted === s.sent &&
    st.kernelDrops === 0 &&
    sum(dropped) === 0
  return st
}

function stepLine(mode: ReceiverMode, st: Step): string {
  const lost = st.sender.sent - st.accepted
  const ours = sum(st.dropped)
  const why = ours === 0 ? '' : ` ours ${JSON.stringify(st.dropped)}`
  return (
    `  ${mode.padEnd(7)} ${fmt(st.target).padStart(8)}/s (sent at ${fmt(st.sender.rate)}/s): ` +
    `${st.lossless ? 'lossless' : `lost ${fmt(lost)}`}, received ${fmt(st.received)}/${fmt(st.sender.sent)}, ` +
    `kernel drops ${fmt(st.kernelDrops)}${why}; CPU ${fmt(st.cpuUsPerRecord)} µs/record` +
    (st.mainCpuUsPerRecord === null ? '' : ` (main thread ${fmt(st.mainCpuUsPerRecord)})`) +
    `, longest event-loop stall ${fmt(st.loopMaxMs)} ms`
  )
}

async function search(
  mode: ReceiverMode,
  sender: string,
  o: UdpBenchOptions,
  scratch: string,
): Promise<Search> {
  const dataDir = join(scratch, `data-${mode}`)
  const r = new Receiver(
    mode,
    receiverEnv(dataDir, mode === 'tlsight' ? o.set : {}),
    o.profileDir,
    o.nodeArgs,
  )
  const steps: Step[] = []
  let seed = mode === 'bare' ? 1 : 100_001
  const tryRate = async (target: number): Promise<boolean> => {
    for (let a = 0; a < o.attempts; a++) {
      const st = await step(r, sender, target, o, seed++)
      steps.push(st)
      console.log(stepLine(mode, st))
      if (st.lossless) return true
    }
    return false
  }
  try {
    await r.ready()
    // Not counted: the first seconds pay for JIT compilation and the store's first inserts.
    const warm = await step(
      r,
      sender,
      o.rates[0] ?? 10_000,
      { ...o, stepSeconds: WARMUP_SECONDS },
      seed++,
    )
    console.log(stepLine(mode, warm).replace(/^ {2}(\S+)\s+/, '  $1 warm-up '))
    let best = 0
    let worst: number | null = null
    for (const rate of o.rates) {
      if (await tryRate(rate)) best = rate
      else {
        worst = rate
        break
      }
    }
    for (let i = 0; i < o.refine && worst !== null && worst - best > MIN_BRACKET; i++) {
      const mid = Math.round((best + worst) / 2 / 1000) * 1000
      if (mid <= best || mid >= worst) break
      if (await tryRate(mid)) best = mid
      else worst = mid
    }
    const bestStep = steps.filter((s) => s.lossless && s.target === best).at(-1)
    const accepted = steps.reduce((a, s) => a + s.accepted, warm.accepted)
    const rows = await r.finish()
    return {
      mode,
      steps,
      lossless: best,
      achieved: bestStep?.sender.rate ?? 0,
      capped: worst === null,
      stored: rows === null ? null : { rows, accepted },
    }
  } finally {
    r.kill()
    await r.exited
  }
}

function rateCell(s: Search | undefined, target: number): string {
  if (s === undefined) return '—'
  const tries = s.steps.filter((x) => x.target === target)
  if (tries.length === 0) return '—'
  return tries
    .map((x) => (x.lossless ? 'ok' : `lost ${fmt(x.sender.sent - x.accepted)}`))
    .join(', ')
}

function report(searches: Search[], o: UdpBenchOptions): boolean {
  const bare = searches.find((s) => s.mode === 'bare')
  const ours = searches.find((s) => s.mode === 'tlsight')
  const targets = [...new Set(searches.flatMap((s) => s.steps.map((x) => x.target)))].sort(
    (a, b) => a - b,
  )
  console.log(`\n  ${'rate/s'.padStart(9)}  ${'bare dgram'.padEnd(26)}  tlsight (storage on)`)
  for (const t of targets)
    console.log(`  ${fmt(t).padStart(9)}  ${rateCell(bare, t).padEnd(26)}  ${rateCell(ours, t)}`)
  const show = (s: Search | undefined) =>
    s === undefined
      ? 'not run'
      : s.lossless === 0
        ? `none (lossy at ${fmt(o.rates[0] ?? 0)}/s)`
        : `${s.capped ? '≥ ' : ''}${fmt(s.lossless)}/s (sent at ${fmt(s.achieved)}/s)`
  console.log(`  lossless rate: bare ${show(bare)}; tlsight ${show(ours)}`)
  let ok = true
  if (bare !== undefined && ours !== undefined) {
    const share = bare.lossless > 0 ? ours.lossless / bare.lossless : 0
    const pass = share >= GOAL_SHARE_OF_BARE
    ok &&= pass
    const bound = bare.capped ? ' (bare reached the top of the ladder: a bound)' : ''
    console.log(
      `  ${pass ? 'PASS' : 'FAIL'}  tlsight ÷ bare = ${(100 * share).toFixed(0)} % ` +
        `(goal ≥ ${100 * GOAL_SHARE_OF_BARE} %)${bound}`,
    )
  }
  if (ours?.stored != null) {
    const { rows, accepted } = ours.stored
    const pass = rows === accepted
    ok &&= pass
    console.log(
      `  ${pass ? 'PASS' : 'FAIL'}  stored: ${fmt(rows)} rows in tlsight_logs.http_events for ` +
        `${fmt(accepted)} records accepted`,
    )
  }
  const host = searches.flatMap((s) => s.steps).reduce((a, s) => a + (s.hostRcvbufErrors ?? 0), 0)
  if (host > 0)
    console.log(
      `  note: /proc/net/snmp Udp RcvbufErrors rose ${fmt(host)} during the run (every socket ` +
        `on the host; the per-socket counter above decides)`,
    )
  return ok
}

/**
 * Runs the UDP ingest bench and prints its table; true when tlsight's lossless rate is at least
 * 90 % of the bare receiver's and every accepted record is stored. Without gcc it prints why
 * and returns true (skipped).
 */
export async function udpBench(options: Partial<UdpBenchOptions> = {}): Promise<boolean> {
  const o: UdpBenchOptions = { ...UDP_BENCH_DEFAULTS, ...options }
  console.log(
    `\nUDP ingest: nginx syslog datagrams to 127.0.0.1, ${o.stepSeconds} s per step, ` +
      `sender in C; lossless = every datagram received and accepted, 0 kernel and 0 own drops`,
  )
  if (!haveCommand('gcc')) {
    console.log('  skipped: gcc not found (Debian package gcc) to build bench/udp-sender.c')
    return true
  }
  const scratch = mkdtempSync(join(tmpdir(), 'tlsight-udp-bench-'))
  try {
    const sender = join(scratch, 'udp-sender')
    await run('gcc', ['-O2', '-o', sender, join(benchDir, 'udp-sender.c')])
    const searches: Search[] = []
    for (const mode of o.modes) searches.push(await search(mode, sender, o, scratch))
    if (o.profileDir !== null)
      console.log(`  CPU profiles: ${o.profileDir}/<mode>/CPU.*.<pid>.0.*.cpuprofile`)
    return report(searches, o)
  } catch (e) {
    console.log(`  FAIL  ${e instanceof Error ? e.message : String(e)}`)
    return false
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

const HELP = `usage: node --import tsx bench/udp.ts [options]
  --rates LIST         ladder of send rates/s (default ${UDP_BENCH_DEFAULTS.rates.join(',')})
  --step-seconds N     seconds per step (default ${UDP_BENCH_DEFAULTS.stepSeconds})
  --refine N           bisection steps after the ladder (default ${UDP_BENCH_DEFAULTS.refine})
  --attempts N         tries per rate before it counts as lossy (default ${UDP_BENCH_DEFAULTS.attempts})
  --only MODE          bare or tlsight
  --cpu-prof DIR       V8 CPU profiles of each receiver into DIR/<mode>/
  --set NAME=VALUE     environment of the tlsight receiver (repeatable), e.g.
                       TLSIGHT_STORE__BATCH_MAX_EVENTS=50000
  --node-arg OPTION    node option of the receivers (repeatable), e.g. --node-arg=--trace-gc`

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const { values } = parseArgs({
    options: {
      rates: { type: 'string' },
      'step-seconds': { type: 'string' },
      refine: { type: 'string' },
      attempts: { type: 'string' },
      only: { type: 'string' },
      'cpu-prof': { type: 'string' },
      set: { type: 'string', multiple: true },
      'node-arg': { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
  })
  if (values.help === true) console.log(HELP)
  else {
    const o: Partial<UdpBenchOptions> = {}
    if (values.rates !== undefined) o.rates = values.rates.split(',').map(Number)
    if (values['step-seconds'] !== undefined) o.stepSeconds = Number(values['step-seconds'])
    if (values.refine !== undefined) o.refine = Number(values.refine)
    if (values.attempts !== undefined) o.attempts = Number(values.attempts)
    if (values.only === 'bare' || values.only === 'tlsight') o.modes = [values.only]
    if (values['cpu-prof'] !== undefined) o.profileDir = resolve(values['cpu-prof'])
    const set: Record<string, string> = {}
    for (const kv of values.set ?? []) {
      const eq = kv.indexOf('=')
      if (eq <= 0) throw new Error(`--set wants NAME=VALUE, got ${JSON.stringify(kv)}`)
      set[kv.slice(0, eq)] = kv.slice(eq + 1)
    }
    o.set = set
    o.nodeArgs = values['node-arg'] ?? []
    udpBench(o).then(
      (ok) => {
        process.exitCode = ok ? 0 : 1
      },
      (e: unknown) => {
        console.error(e)
        process.exitCode = 2
      },
    )
  }
}

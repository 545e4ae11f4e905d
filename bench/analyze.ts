/**
 * @module bench/analyze — `npm run bench`: `tlsight analyze` beside tshark and Suricata on the
 * benchmark capture, in one run, with ratios, goal checks and a JA3/JA4 check against the truth.
 *
 * See bench/README.md for the options, the columns and the Suricata memcap caveat.
 */
import { correlatorBench } from './correlator.ts'
import { udpBench } from './udp.ts'
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { statSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import ts from 'typescript'
import { haveCommand, rssMethod, runMeasured, type RunResult } from './measure.ts'
import { suricataArgs, suricataDropCounters, suricataYaml } from './suricata.ts'
import { walkPcap } from './walk-pcap.ts'

const HELP = `usage: npm run bench -- [options]

  --handshakes N        TLS connections in the generated capture (default 100000)
  --split               generate with --ch-mss 1448 (large ClientHellos over two segments)
  --pcap FILE           use FILE instead of generating (truth: FILE minus .pcap plus .truth.tsv)
  --skip-peers          run only tlsight and the walk baseline (no tcpdump, Suricata, tshark)
  --peers LIST          peers to run, comma-separated (default tcpdump,suricata,tshark)
  --suricata-defaults   run Suricata with Debian's shipped memcaps to show its undercount
  --rss-1m              also run tlsight on a 1M-handshake capture and compare peak RSS
  --tlsight-args=ARGS   extra arguments for \`tlsight analyze\`, split on spaces
  --skip-udp            leave out the UDP ingest bench (bench/udp.ts)
                        (write it with "=" when ARGS starts with "-": --tlsight-args=--no-ja4plus)
  --nice N              niceness of every measured command and of the generator (default 10)
  --keep                keep the tools' outputs (tlsight jsonl, eve.json, tshark fields)
  --repeat N            runs of tlsight and Suricata, alternating; the median is reported (default 3)
  -h, --help            this text

Captures are cached in $TMPDIR/tlsight-bench/ by size and flags (rm -rf it to free the space).`

const GOAL_VS_TSHARK = 20
const GOAL_VS_SURICATA = 3
/** Peak RSS at 1M may exceed the 100k figure by at most this factor to count as flat. */
const RSS_FLAT_FACTOR = 1.25
const MB = 1e6

const repoDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** Connections of the generated correlation load. */
const CORRELATION_CONNECTIONS = 20_000
const sharedDir = resolve(repoDir, process.env['TLSIGHT_SHARED_DIR'] ?? '../shared')
const generator = join(sharedDir, 'tools/perf/gen_pcap.py')
const cacheDir = join(tmpdir(), 'tlsight-bench')
const startedAt = performance.now()

/** A progress line, prefixed with the seconds since the bench started. */
function say(msg: string): void {
  const s = ((performance.now() - startedAt) / 1000).toFixed(1).padStart(6)
  console.log(`[${s} s] ${msg}`)
}

const PEERS = ['tcpdump', 'suricata', 'tshark'] as const
type Peer = (typeof PEERS)[number]

interface Options {
  handshakes: number
  split: boolean
  pcap: string | undefined
  peers: Set<Peer>
  suricataDefaults: boolean
  rss1m: boolean
  tlsightArgs: string[]
  nice: number
  keep: boolean
  /** Runs of tlsight and Suricata, interleaved; the median run is reported. */
  repeat: number
  skipUdp: boolean
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      handshakes: { type: 'string', default: '100000' },
      split: { type: 'boolean', default: false },
      pcap: { type: 'string' },
      'skip-peers': { type: 'boolean', default: false },
      peers: { type: 'string', default: PEERS.join(',') },
      'suricata-defaults': { type: 'boolean', default: false },
      'rss-1m': { type: 'boolean', default: false },
      'tlsight-args': { type: 'string', default: '' },
      nice: { type: 'string', default: '10' },
      keep: { type: 'boolean', default: false },
      repeat: { type: 'string', default: '3' },
      'skip-udp': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return null
  const handshakes = Number(values.handshakes)
  const nice = Number(values.nice)
  if (!Number.isInteger(handshakes) || handshakes < 1) throw new Error('--handshakes: integer ≥ 1')
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new Error('--nice: integer 0..19')
  const repeat = Number(values.repeat)
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20)
    throw new Error('--repeat: integer 1..20')
  const peers = new Set<Peer>()
  if (!values['skip-peers']) {
    for (const p of values.peers.split(',').filter((x) => x !== '')) {
      const peer = PEERS.find((k) => k === p)
      if (peer === undefined) throw new Error(`--peers: unknown "${p}" (${PEERS.join(', ')})`)
      peers.add(peer)
    }
  }
  return {
    handshakes,
    split: values.split,
    pcap: values.pcap,
    peers,
    suricataDefaults: values['suricata-defaults'],
    rss1m: values['rss-1m'],
    tlsightArgs: values['tlsight-args'].split(/\s+/).filter((a) => a !== ''),
    nice,
    keep: values.keep,
    repeat,
    skipUdp: values['skip-udp'],
  }
}

// ---------------------------------------------------------------- capture and truth

interface Capture {
  pcap: string
  truth: string | null
  bytes: number
  records: number
  handshakes: number
}

function generatorDigest(): string {
  const h = createHash('sha256')
  h.update(readFileSync(generator))
  const templates = join(dirname(generator), 'templates.json')
  if (existsSync(templates)) h.update(readFileSync(templates))
  return h.digest('hex').slice(0, 16)
}

function run(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('error', (err) => {
      console.error(String(err))
      done(null)
    })
    child.on('close', (code) => done(code))
  })
}

/** Generates (or reuses from the cache) the capture of `n` handshakes and its truth file. */
async function generatedCapture(n: number, split: boolean, nice: number): Promise<Capture> {
  if (!existsSync(generator)) {
    throw new Error(`${generator} not found (set TLSIGHT_SHARED_DIR to the shared directory)`)
  }
  mkdirSync(cacheDir, { recursive: true })
  const base = join(cacheDir, `bench-${n}${split ? '-split' : ''}`)
  const pcap = `${base}.pcap`
  const truth = `${base}.truth.tsv`
  const meta = `${base}.meta.json`
  const digest = generatorDigest()
  const genArgs = ['-n', String(n), ...(split ? ['--ch-mss', '1448'] : [])]
  let cached = false
  if (existsSync(pcap) && existsSync(truth) && existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { digest?: string; args?: string[] }
    cached = m.digest === digest && JSON.stringify(m.args) === JSON.stringify(genArgs)
  }
  if (cached) {
    say(`capture: ${pcap} (cached)`)
  } else {
    say(`capture: generating ${pcap} …`)
    const started = performance.now()
    const args = [generator, ...genArgs, '-o', `${pcap}.part`, '--truth', `${truth}.part`]
    const code = await run('nice', ['-n', String(nice), 'python3', ...args])
    if (code !== 0) throw new Error(`gen_pcap.py failed (exit ${code})`)
    renameSync(`${pcap}.part`, pcap)
    renameSync(`${truth}.part`, truth)
    writeFileSync(meta, JSON.stringify({ digest, args: genArgs }) + '\n')
    say(`capture: generated in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  }
  return describeCapture(pcap, truth, n)
}

function describeCapture(pcap: string, truth: string | null, fallbackN: number): Capture {
  // One untimed pass reads the file into the page cache, so no tool pays for the disk.
  const walk = walkPcap(pcap)
  const handshakes = truth === null ? fallbackN : readTruth(truth).size
  return { pcap, truth, bytes: statSync(pcap).size, records: walk.records, handshakes }
}

function givenCapture(pcap: string, fallbackN: number): Capture {
  const sibling = pcap.replace(/\.pcap$/, '') + '.truth.tsv'
  const truth = existsSync(sibling) ? sibling : null
  if (truth === null) say(`capture: no ${sibling}; assuming ${fallbackN} handshakes`)
  return describeCapture(pcap, truth, fallbackN)
}

interface Fingerprints {
  ja3: string
  ja4: string
  ja3s: string
}

const truthCache = new Map<string, Map<string, Fingerprints>>()

/** Truth per client `ip:port` (columns idx client label split sni ja3 ja3s ja4 ja3_string). */
function readTruth(path: string): Map<string, Fingerprints> {
  const hit = truthCache.get(path)
  if (hit) return hit
  const lines = readFileSync(path, 'utf8').split('\n')
  const header = (lines[0] ?? '').split('\t')
  const col = (name: string): number => {
    const i = header.indexOf(name)
    if (i < 0) throw new Error(`${path}: no "${name}" column`)
    return i
  }
  const [client, ja3, ja4, ja3s] = [col('client'), col('ja3'), col('ja4'), col('ja3s')]
  const out = new Map<string, Fingerprints>()
  for (const line of lines.slice(1)) {
    if (line === '') continue
    const f = line.split('\t')
    out.set(f[client]!, { ja3: f[ja3]!, ja4: f[ja4]!, ja3s: f[ja3s]! })
  }
  truthCache.set(path, out)
  return out
}

// ---------------------------------------------------------------- tools

interface ToolRow {
  tool: string
  /** Handshakes the tool logged; null for tools that only read packets. */
  logged: number | null
  withJa3: number | null
  withJa4: number | null
  seconds: number
  cpuSeconds: number | null
  peakRssMiB: number | null
  /** Handshakes per second: logged ones for fingerprinting tools, the capture's for the rest. */
  handshakesPerSecond: number
  mbPerSecond: number
  note: string
  /** Another tlsight run (the 1M capture): no ratio. */
  self?: true
}

interface Correctness {
  tool: string
  total: number
  ja3: number
  ja4: number
  ja3s: number | null
  missing: number
}

async function* jsonLines(path: string): AsyncGenerator<Record<string, unknown>> {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity })
  for await (const line of rl) {
    if (line === '') continue
    try {
      yield JSON.parse(line) as Record<string, unknown>
    } catch {
      // not JSON: ignored, like a stray diagnostic line
    }
  }
}

const str = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'object' && v !== null && 'hash' in v ? str(v.hash) : ''

function compare(
  tool: string,
  seen: Map<string, Fingerprints>,
  truth: Map<string, Fingerprints>,
): Correctness {
  const c: Correctness = { tool, total: truth.size, ja3: 0, ja4: 0, ja3s: null, missing: 0 }
  let ja3s = 0
  let anyJa3s = false
  for (const [client, t] of truth) {
    const s = seen.get(client)
    if (!s) {
      c.missing++
      continue
    }
    if (s.ja3 === t.ja3) c.ja3++
    if (s.ja4 === t.ja4) c.ja4++
    if (s.ja3s !== '') anyJa3s = true
    if (s.ja3s === t.ja3s) ja3s++
  }
  // JA3S is compared only when the tool outputs it at all.
  if (anyJa3s) c.ja3s = ja3s
  return c
}

function row(
  tool: string,
  r: RunResult,
  cap: Capture,
  counts: { logged: number; ja3: number; ja4: number | null } | null,
  note = '',
): ToolRow {
  const seconds = r.seconds
  return {
    tool,
    logged: counts?.logged ?? null,
    withJa3: counts?.ja3 ?? null,
    withJa4: counts?.ja4 ?? null,
    seconds,
    cpuSeconds: r.cpuSeconds,
    peakRssMiB: r.peakRssMiB,
    handshakesPerSecond: (counts?.logged ?? cap.handshakes) / seconds,
    mbPerSecond: cap.bytes / MB / seconds,
    note,
  }
}

/** Reports the end of a measured run; true when it failed. */
function failed(tool: string, r: RunResult): boolean {
  if (r.exitCode === 0) {
    say(`${tool}: ${r.seconds.toFixed(2)} s`)
    return false
  }
  const why = r.signal !== null ? `signal ${r.signal}` : `exit ${r.exitCode}`
  say(`${tool}: failed (${why}); stderr:\n${r.stderrTail.split('\n').slice(-8).join('\n')}`)
  return true
}

interface Context {
  opts: Options
  runDir: string
}

async function runTlsight(
  ctx: Context,
  cap: Capture,
  label: string,
): Promise<{ row: ToolRow; seen: Map<string, Fingerprints> } | null> {
  if (!existsSync(join(repoDir, 'dist/cli/main.js'))) {
    say('tlsight: not built (no dist/cli/main.js; `npm run build`)')
    return null
  }
  const out = join(ctx.runDir, `${label}.jsonl`)
  const args = [join(repoDir, 'bin/tlsight.js'), 'analyze', cap.pcap, '--format', 'jsonl']
  say(`${label}: running …`)
  const r = await runMeasured('node', [...args, ...ctx.opts.tlsightArgs], {
    stdoutFile: out,
    cwd: repoDir,
    nice: ctx.opts.nice,
    scratchDir: ctx.runDir,
  })
  if (failed(label, r)) return null
  const seen = new Map<string, Fingerprints>()
  let logged = 0
  let ja3 = 0
  let ja4 = 0
  for await (const e of jsonLines(out)) {
    if (e['type'] !== 'tls') continue
    logged++
    const fp = { ja3: str(e['ja3']), ja4: str(e['ja4']), ja3s: str(e['ja3s']) }
    if (fp.ja3 !== '') ja3++
    if (fp.ja4 !== '') ja4++
    const client = `${String(e['src_ip'])}:${String(e['src_port'])}`
    if (!seen.has(client)) seen.set(client, fp)
  }
  if (!ctx.opts.keep) rmSync(out, { force: true })
  return { row: row('tlsight analyze', r, cap, { logged, ja3, ja4 }), seen }
}

/** Transpiles walk-pcap.ts so the baseline runs on plain `node`, without a loader's start-up. */
function compiledWalker(runDir: string): string {
  const src = readFileSync(join(repoDir, 'bench/walk-pcap.ts'), 'utf8')
  const js = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText
  const path = join(runDir, 'walk-pcap.mjs')
  writeFileSync(path, js)
  return path
}

async function runWalk(ctx: Context, cap: Capture): Promise<ToolRow | null> {
  const out = join(ctx.runDir, 'walk.json')
  const r = await runMeasured('node', [compiledWalker(ctx.runDir), cap.pcap], {
    stdoutFile: out,
    nice: ctx.opts.nice,
    scratchDir: ctx.runDir,
  })
  if (failed('walk', r)) return null
  const w = JSON.parse(readFileSync(out, 'utf8')) as { records: number; seconds: number }
  const loopRate = Math.round(cap.handshakes / w.seconds / 1000)
  return row(
    'node walk (baseline)',
    r,
    cap,
    null,
    `loop alone ${w.seconds.toFixed(2)} s, ${loopRate}k/s`,
  )
}

async function runTcpdump(ctx: Context, cap: Capture): Promise<ToolRow | null> {
  if (!haveCommand('tcpdump')) {
    say('tcpdump: not installed (Debian package tcpdump); skipped')
    return null
  }
  const r = await runMeasured('tcpdump', ['-r', cap.pcap, '-w', '/dev/null'], {
    nice: ctx.opts.nice,
    scratchDir: ctx.runDir,
  })
  if (failed('tcpdump', r)) return null
  const pps = Math.round(cap.records / r.seconds / 1000)
  return row('tcpdump -w /dev/null', r, cap, null, `${pps}k packets/s`)
}

async function runTshark(ctx: Context, cap: Capture): Promise<ToolRow | null> {
  if (!haveCommand('tshark')) {
    say('tshark: not installed (Debian package tshark); skipped')
    return null
  }
  const out = join(ctx.runDir, 'tshark.txt')
  const args = ['-r', cap.pcap, '-Y', 'tls.handshake.type==1', '-T', 'fields']
  say('tshark: running (about 1 minute per 100k handshakes) …')
  const r = await runMeasured('tshark', [...args, '-e', 'tls.handshake.ja3'], {
    stdoutFile: out,
    nice: ctx.opts.nice,
    scratchDir: ctx.runDir,
  })
  if (failed('tshark', r)) return null
  let logged = 0
  let ja3 = 0
  const rl = createInterface({ input: createReadStream(out), crlfDelay: Infinity })
  for await (const line of rl) {
    logged++
    if (line.trim() !== '') ja3++
  }
  if (!ctx.opts.keep) rmSync(out, { force: true })
  return row('tshark -e tls.handshake.ja3', r, cap, { logged, ja3, ja4: null }, 'JA3 only')
}

async function runSuricata(
  ctx: Context,
  cap: Capture,
): Promise<{
  row: ToolRow
  seen: Map<string, Fingerprints>
  drops: Record<string, number>
} | null> {
  if (!haveCommand('suricata')) {
    say(
      'suricata: not installed (Debian package suricata from bookworm-backports: ' +
        'apt-get install -t bookworm-backports suricata); skipped',
    )
    return null
  }
  const logDir = join(ctx.runDir, 'suricata')
  rmSync(logDir, { recursive: true, force: true })
  mkdirSync(logDir, { recursive: true })
  const config = join(logDir, 'suricata.yaml')
  writeFileSync(config, suricataYaml({ logDir, defaults: ctx.opts.suricataDefaults }))
  say(`suricata: running (${ctx.opts.suricataDefaults ? 'shipped' : 'raised'} memcaps) …`)
  const r = await runMeasured('suricata', suricataArgs(config, cap.pcap, logDir), {
    nice: ctx.opts.nice,
    scratchDir: ctx.runDir,
  })
  if (failed('suricata', r)) return null
  const seen = new Map<string, Fingerprints>()
  let logged = 0
  let ja3 = 0
  let ja4 = 0
  for await (const e of jsonLines(join(logDir, 'eve.json'))) {
    if (e['event_type'] !== 'tls') continue
    logged++
    const tls = (e['tls'] ?? {}) as Record<string, unknown>
    const fp = { ja3: str(tls['ja3']), ja4: str(tls['ja4']), ja3s: str(tls['ja3s']) }
    if (fp.ja3 !== '') ja3++
    if (fp.ja4 !== '') ja4++
    const client = `${String(e['src_ip'])}:${String(e['src_port'])}`
    if (!seen.has(client)) seen.set(client, fp)
  }
  const statsLog = join(logDir, 'stats.log')
  const drops = existsSync(statsLog) ? suricataDropCounters(readFileSync(statsLog, 'utf8')) : {}
  if (!ctx.opts.keep) rmSync(logDir, { recursive: true, force: true })
  const label = ctx.opts.suricataDefaults ? 'suricata (shipped memcaps)' : 'suricata (eve tls)'
  return { row: row(label, r, cap, { logged, ja3, ja4 }), seen, drops }
}

function version(cmd: string, args: string[]): string | null {
  if (!haveCommand(cmd)) return null
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return (r.stdout + r.stderr).split('\n').find((l) => l.trim() !== '') ?? null
}

// ---------------------------------------------------------------- report

const fmt = (v: number | null, digits = 0): string =>
  v === null
    ? '—'
    : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

function table(rows: ToolRow[], tlsight: ToolRow | null): string {
  const head = [
    'tool',
    'logged',
    'ja3/ja4',
    'seconds',
    'handshakes/s',
    'MB/s',
    'peak RSS MB',
    'tlsight÷tool',
  ]
  const body = rows.map((r) => [
    r.tool,
    fmt(r.logged),
    r.logged === null ? '—' : `${fmt(r.withJa3)}/${fmt(r.withJa4)}`,
    fmt(r.seconds, 2),
    fmt(r.handshakesPerSecond) + (r.logged === null ? '*' : ''),
    fmt(r.mbPerSecond, 1),
    fmt(r.peakRssMiB),
    tlsight === null || r.self
      ? '—'
      : r === tlsight
        ? '1.00×'
        : `${fmt(tlsight.handshakesPerSecond / r.handshakesPerSecond, 2)}×`,
  ])
  const all = [head, ...body]
  const width = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)))
  return all
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  '))
    .join('\n')
}

type Verdict = 'PASS' | 'FAIL' | 'n/a'

interface Goal {
  goal: string
  verdict: Verdict
  detail: string
}

function ratioGoal(
  name: string,
  need: number,
  tlsight: ToolRow | null,
  peer: ToolRow | null,
  n: number,
): Goal {
  const goal = `tlsight ≥ ${need}× ${name}`
  if (!tlsight || !peer)
    return { goal, verdict: 'n/a', detail: `${tlsight ? name : 'tlsight'} not measured` }
  const ratio = tlsight.handshakesPerSecond / peer.handshakesPerSecond
  const sameCount = tlsight.logged === n && peer.logged === n
  const detail = `${fmt(ratio, 2)}× (${fmt(tlsight.logged)} vs ${fmt(peer.logged)} handshakes logged)`
  return { goal, verdict: ratio >= need && sameCount ? 'PASS' : 'FAIL', detail }
}

function correctnessLine(c: Correctness): string {
  const part = (name: string, k: number | null) =>
    k === null ? null : `${name} ${k}/${c.total} equal`
  const parts = [part('JA3', c.ja3), part('JA4', c.ja4), part('JA3S', c.ja3s)].filter(
    (p) => p !== null,
  )
  return `  ${c.tool.padEnd(9)} ${parts.join(', ')}${c.missing > 0 ? `; ${c.missing} connections missing` : ''}`
}

// ---------------------------------------------------------------- main

/** The run with the median wall time; its note lists every run's seconds. */
function medianRun<T extends { row: ToolRow }>(runs: T[]): T | null {
  if (runs.length === 0) return null
  const sorted = [...runs].sort((a, b) => a.row.seconds - b.row.seconds)
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]
  if (mid === undefined || runs.length === 1) return mid ?? null
  const all = runs.map((r) => r.row.seconds.toFixed(2)).join(', ')
  const note = `median of ${runs.length} runs (${all} s)`
  return {
    ...mid,
    row: { ...mid.row, note: mid.row.note === '' ? note : `${mid.row.note}; ${note}` },
  }
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2))
  if (opts === null) {
    console.log(HELP)
    return 0
  }
  const cap = opts.pcap
    ? givenCapture(resolve(opts.pcap), opts.handshakes)
    : await generatedCapture(opts.handshakes, opts.split, opts.nice)
  const runDir = join(cacheDir, `run-${process.pid}`)
  mkdirSync(runDir, { recursive: true })
  const ctx: Context = { opts, runDir }
  say(
    `capture: ${fmt(cap.handshakes)} handshakes, ${fmt(cap.records)} packets, ` +
      `${fmt(cap.bytes / MB, 1)} MB; peak RSS via ${rssMethod()}; nice ${opts.nice}`,
  )

  const rows: ToolRow[] = []
  const correctness: Correctness[] = []
  const truth = cap.truth === null ? null : readTruth(cap.truth)

  const walk = await runWalk(ctx, cap)
  if (walk) rows.push(walk)
  // tlsight and Suricata alternate `repeat` times and the median run of each is reported: on a
  // shared or virtual machine single runs swing by tens of percent, and alternating spreads any
  // slow period over both tools.
  const tRuns: NonNullable<Awaited<ReturnType<typeof runTlsight>>>[] = []
  const sRuns: NonNullable<Awaited<ReturnType<typeof runSuricata>>>[] = []
  for (let i = 0; i < opts.repeat; i++) {
    const ti = await runTlsight(ctx, cap, 'tlsight')
    if (ti) tRuns.push(ti)
    if (opts.peers.has('suricata')) {
      const si = await runSuricata(ctx, cap)
      if (si) sRuns.push(si)
    }
  }
  const t = medianRun(tRuns)
  const tlsight = t?.row ?? null
  if (t) {
    rows.unshift(t.row)
    if (truth) correctness.push(compare('tlsight', t.seen, truth))
  }
  let tshark: ToolRow | null = null
  let suricata: ToolRow | null = null
  let suricataDrops: Record<string, number> = {}
  if (opts.peers.size === 0) say('peers: none (--skip-peers)')
  if (opts.peers.has('tcpdump')) {
    const td = await runTcpdump(ctx, cap)
    if (td) rows.push(td)
  }
  const s = medianRun(sRuns)
  if (s) {
    suricata = s.row
    suricataDrops = s.drops
    rows.push(s.row)
    if (truth) correctness.push(compare('suricata', s.seen, truth))
  }
  if (opts.peers.has('tshark')) {
    tshark = await runTshark(ctx, cap)
    if (tshark) rows.push(tshark)
  }

  let rss: { at100k: number | null; at1m: number | null; verdict: Verdict; detail: string } = {
    at100k: tlsight?.peakRssMiB ?? null,
    at1m: null,
    verdict: 'n/a',
    detail: 'run with --rss-1m',
  }
  if (opts.rss1m) {
    if (!tlsight) {
      rss.detail = 'tlsight not measured; 1M capture not generated'
    } else {
      const big = await generatedCapture(1_000_000, opts.split, opts.nice)
      const t1m = await runTlsight(ctx, big, 'tlsight-1m')
      const at1m = t1m?.row.peakRssMiB ?? null
      const at100k = tlsight.peakRssMiB
      if (at1m !== null && at100k !== null) {
        rss = {
          at100k,
          at1m,
          verdict: at1m <= at100k * RSS_FLAT_FACTOR ? 'PASS' : 'FAIL',
          detail:
            `${fmt(at100k)} MB at ${fmt(cap.handshakes)} → ${fmt(at1m)} MB at 1,000,000 ` +
            `(limit ×${RSS_FLAT_FACTOR}); 1M run ${fmt(t1m!.row.handshakesPerSecond)} handshakes/s, ` +
            `${fmt(t1m!.row.logged)} logged`,
        }
      }
      if (t1m) rows.push({ ...t1m.row, tool: 'tlsight analyze (1M)', self: true })
    }
  }

  const n = cap.handshakes
  const counted = [tlsight, suricata, tshark].filter((r) => r !== null)
  const goals: Goal[] = [
    ratioGoal('tshark', GOAL_VS_TSHARK, tlsight, tshark, n),
    ratioGoal('Suricata', GOAL_VS_SURICATA, tlsight, suricata, n),
    {
      goal: 'same handshake count',
      verdict: !tlsight ? 'n/a' : counted.every((r) => r.logged === n) ? 'PASS' : 'FAIL',
      detail: [
        ...counted.map((r) => `${r.tool.split(' ')[0]} ${fmt(r.logged)}`),
        `capture ${fmt(n)}`,
      ].join(', '),
    },
    { goal: 'peak RSS flat 100k → 1M', verdict: rss.verdict, detail: rss.detail },
  ]

  console.log()
  console.log(table(rows, tlsight))
  console.log(`* the capture's ${fmt(n)} handshakes per second (tool logs none)`)
  for (const r of rows) if (r.note !== '') console.log(`  ${r.tool}: ${r.note}`)
  if (suricata && suricata.logged !== n) {
    console.log(
      `  suricata logged ${fmt(suricata.logged)} of ${fmt(n)} handshakes (as a capture rate it ` +
        `would read ${fmt(n / suricata.seconds)}/s); counters ${JSON.stringify(suricataDrops)}`,
    )
  }
  console.log()
  const how = opts.tlsightArgs.length > 0 ? opts.tlsightArgs.join(' ') : 'defaults: every family on'
  console.log(`goals (same run; tlsight analyze ${how}):`)
  for (const g of goals) console.log(`  ${g.verdict.padEnd(4)}  ${g.goal.padEnd(26)} ${g.detail}`)
  if (cap.truth === null) console.log('correctness: no truth file, nothing to compare')
  else console.log(`correctness vs ${cap.truth} (by client ip:port):`)
  if (cap.truth !== null && correctness.length === 0) console.log('  nothing to compare')
  for (const c of correctness) console.log(correctnessLine(c))

  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? null, mem_gb: totalmem() / 2 ** 30 },
    versions: {
      node: process.version,
      tshark: version('tshark', ['--version']),
      suricata: version('suricata', ['-V']),
      tcpdump: version('tcpdump', ['--version']),
    },
    options: { ...opts, peers: [...opts.peers] },
    capture: cap,
    rss_method: rssMethod(),
    rows,
    suricata_counters: suricataDrops,
    goals,
    rss,
    correctness,
  }
  // The correlator's accuracy on a generated load (bench/correlator.ts), in the same run.
  const correlationOk = correlatorBench(CORRELATION_CONNECTIONS)
  goals.push({
    goal: 'correlation ≥ 99.9 %, 0 wrong',
    verdict: correlationOk ? 'PASS' : 'FAIL',
    detail: `${fmt(CORRELATION_CONNECTIONS)} generated connections (see above)`,
  })
  if (!opts.skipUdp) {
    // UDP ingest with storage on beside a bare dgram receiver (bench/udp.ts), in the same run.
    const udpOk = await udpBench()
    goals.push({
      goal: 'UDP lossless ≥ 90 % of bare',
      verdict: udpOk ? 'PASS' : 'FAIL',
      detail: 'tlsight serve (embedded chDB) vs a bare dgram receiver, same run (see above)',
    })
  }
  const resultPath = join(cacheDir, 'bench-result.json')
  writeFileSync(resultPath, JSON.stringify(result, null, 2) + '\n')
  console.log(`\nresults: ${resultPath}`)
  if (opts.keep) console.log(`outputs kept in ${runDir}`)
  else rmSync(runDir, { recursive: true, force: true })
  return goals.some((g) => g.verdict === 'FAIL') ? 1 : 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exitCode = 2
  },
)

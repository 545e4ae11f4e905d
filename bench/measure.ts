/**
 * @module bench/measure — run one command, timed, with its peak resident set size.
 *
 * Peak RSS comes from GNU time (`/usr/bin/time -f '%M %U %S'`, Debian package `time`) when it is
 * installed, else from polling `VmHWM` in `/proc/<pid>/status` until the process exits.
 */
import { spawn, spawnSync } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const GNU_TIME = '/usr/bin/time'
const RSS_POLL_MS = 20
const STDERR_TAIL_CHARS = 2000

export interface RunOptions {
  /** File that receives the command's stdout; `/dev/null` when omitted. */
  stdoutFile?: string
  cwd?: string
  /** Niceness passed to `nice -n`; 0 runs the command directly. */
  nice: number
  /** Directory for the GNU time report. */
  scratchDir: string
}

export interface RunResult {
  exitCode: number | null
  signal: string | null
  /** Wall-clock seconds from spawn to exit. */
  seconds: number
  /** Peak RSS in MiB, null when it could not be measured. */
  peakRssMiB: number | null
  /** User + system CPU seconds (GNU time only). */
  cpuSeconds: number | null
  stderrTail: string
}

/** True when `cmd` resolves on PATH (or is an existing path). */
export function haveCommand(cmd: string): boolean {
  if (cmd.includes('/')) return existsSync(cmd)
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}

/** Which peak-RSS method is in use, for the report. */
export function rssMethod(): string {
  return existsSync(GNU_TIME) ? `GNU time (${GNU_TIME})` : '/proc/<pid>/status VmHWM polling'
}

function readVmHwmKiB(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

/** Runs `cmd args` to completion and measures wall time and peak RSS. */
export async function runMeasured(
  cmd: string,
  args: readonly string[],
  opts: RunOptions,
): Promise<RunResult> {
  const useGnuTime = existsSync(GNU_TIME)
  const rssFile = join(opts.scratchDir, `rss-${process.pid}-${Date.now()}.txt`)
  const inner = opts.nice !== 0 ? ['nice', '-n', String(opts.nice), cmd, ...args] : [cmd, ...args]
  const argv = useGnuTime ? [GNU_TIME, '-f', '%M %U %S', '-o', rssFile, ...inner] : inner
  const out = openSync(opts.stdoutFile ?? '/dev/null', 'w')
  let stderr = ''
  let hwmKiB = 0
  const started = performance.now()
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    stdio: ['ignore', out, 'pipe'],
  })
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (s: string) => {
    stderr = (stderr + s).slice(-STDERR_TAIL_CHARS)
  })
  // Without GNU time, `nice` execs the command in place, so the child pid is the measured process.
  const poll = useGnuTime
    ? undefined
    : setInterval(() => {
        if (child.pid !== undefined) hwmKiB = Math.max(hwmKiB, readVmHwmKiB(child.pid) ?? 0)
      }, RSS_POLL_MS)
  const [exitCode, signal] = await new Promise<[number | null, string | null]>((resolve) => {
    child.on('error', (err) => {
      stderr += String(err)
      resolve([null, null])
    })
    child.on('close', (code, sig) => resolve([code, sig]))
  })
  const seconds = (performance.now() - started) / 1000
  if (poll) clearInterval(poll)
  closeSync(out)

  let peakRssMiB: number | null = null
  let cpuSeconds: number | null = null
  if (useGnuTime) {
    try {
      // GNU time writes "Command exited with non-zero status N" before the format on failure.
      const lines = readFileSync(rssFile, 'utf8').trim().split('\n')
      const [kib, user, sys] = (lines[lines.length - 1] ?? '').split(' ').map(Number)
      if (kib !== undefined && Number.isFinite(kib) && kib > 0) peakRssMiB = kib / 1024
      if (user !== undefined && sys !== undefined && Number.isFinite(user + sys)) {
        cpuSeconds = user + sys
      }
    } catch {
      // no report: the command could not be started
    }
    rmSync(rssFile, { force: true })
  } else if (hwmKiB > 0) {
    peakRssMiB = hwmKiB / 1024
  }
  return { exitCode, signal, seconds, peakRssMiB, cpuSeconds, stderrTail: stderr.trim() }
}

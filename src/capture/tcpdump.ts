/**
 * @module capture/tcpdump
 * The live packet source: a `tcpdump -w -` child whose stdout is a pcap stream. Root or
 * CAP_NET_RAW belongs to tcpdump, never to Node. This module starts it, turns its failures into
 * AppErrors with a hint, and reads its packet counters (the kernel's drops among them) from the
 * statistics it prints on SIGUSR1 and at exit.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'
import { AppError } from '../errors.ts'

/** Executable used when neither `--tcpdump` nor TLSIGHT_TCPDUMP names one. */
export const DEFAULT_TCPDUMP_PATH = 'tcpdump'
/** How long tcpdump may take to report "listening on" before the start fails. */
export const TCPDUMP_START_TIMEOUT_MS = 10_000
/** tcpdump is asked for its counters (SIGUSR1) this often by default. */
export const TCPDUMP_STATS_INTERVAL_MS = 5_000
/** After SIGINT, tcpdump gets this long to flush and exit before SIGKILL. */
export const TCPDUMP_STOP_TIMEOUT_MS = 5_000
/** Bytes of tcpdump's other stderr output kept for error messages. */
const STDERR_TAIL_BYTES = 8_192
/** Longest stderr line buffered while waiting for its newline. */
const MAX_STDERR_LINE_BYTES = 4_096

export const SETCAP_HINT = 'setcap cap_net_raw,cap_net_admin=eip "$(command -v tcpdump)"'

/** tcpdump's packet counters (pcap_stats(3PCAP)); -1 until tcpdump reported them once. */
export interface KernelStats {
  /** Packets tcpdump wrote to us. */
  captured: number
  /**
   * Packets that passed the filter. NOTE: on Linux `lo` each packet is seen twice (sent and
   * received) and libpcap discards the copy after counting it, so this is about 2× `captured`.
   */
  receivedByFilter: number
  /** Packets the kernel dropped for lack of buffer space: the sensor fell behind. */
  droppedByKernel: number
  /** Drops by the interface or its driver, when the platform reports them. */
  droppedByInterface: number
}

export interface TcpdumpOptions {
  iface: string
  /** BPF filter expression. */
  filter: string
  /** Executable (default DEFAULT_TCPDUMP_PATH, looked up on PATH). */
  path?: string
  /** Kernel capture buffer (`-B`, KiB); libpcap's default (2 MiB) when omitted. */
  bufferSizeKiB?: number
  /** SIGUSR1 polling period; 0 turns polling off (the exit report still counts). */
  statsIntervalMs?: number
  startTimeoutMs?: number
}

export interface TcpdumpProcess {
  /** The pcap stream. */
  readonly stdout: Readable
  readonly pid: number
  /** The last counters tcpdump reported. */
  stats(): KernelStats
  /** Asks tcpdump for fresh counters (they arrive asynchronously). */
  requestStats(): void
  /**
   * Resolves when tcpdump has exited and its stdout ended. Rejects with E_CAPTURE_FAILED when it
   * exits with an error that `stop` did not cause (the interface went away, …).
   */
  readonly exited: Promise<KernelStats>
  /** SIGINT, then SIGKILL after TCPDUMP_STOP_TIMEOUT_MS; resolves with the final counters. */
  stop(): Promise<KernelStats>
}

/** The arguments tcpdump is started with. */
export function tcpdumpArgs(opts: Pick<TcpdumpOptions, 'iface' | 'filter' | 'bufferSizeKiB'>) {
  // -U: flush per packet; --immediate-mode: no kernel batching delay (libpcap >= 1.5, tcpdump
  // >= 4.7); -s 0: whole packets; -n: no name lookups (it never prints packets with -w anyway).
  const args = ['-i', opts.iface, '-U', '-w', '-', '--immediate-mode', '-s', '0', '-n']
  if (opts.bufferSizeKiB !== undefined) args.push('-B', String(opts.bufferSizeKiB))
  args.push(opts.filter)
  return args
}

const COUNTER_RE =
  /(\d+) packets? (captured|received by filter|dropped by kernel|dropped by interface)/g

/**
 * Counters in tcpdump's statistics text: the one-line SIGUSR1 report (`tcpdump: 5 packets
 * captured, 10 packets received by filter, 0 packets dropped by kernel`) or the exit report (one
 * counter per line). Returns only the counters found.
 */
export function parseTcpdumpStats(text: string): Partial<KernelStats> {
  const out: Partial<KernelStats> = {}
  for (const m of text.matchAll(COUNTER_RE)) {
    const n = Number(m[1])
    if (m[2] === 'captured') out.captured = n
    else if (m[2] === 'received by filter') out.receivedByFilter = n
    else if (m[2] === 'dropped by kernel') out.droppedByKernel = n
    else out.droppedByInterface = n
  }
  return out
}

/** The AppError for tcpdump's failure to start, from what it printed. */
export function classifyTcpdumpError(stderr: string, path: string, iface: string): AppError {
  const text = stderr.trim()
  if (/You don't have permission|Operation not permitted|Permission denied/i.test(text)) {
    return new AppError(
      'E_CAPTURE_PERMISSION',
      `tcpdump may not capture on ${iface}: run tlsight capture as root, or give tcpdump the ` +
        `capability once with: ${SETCAP_HINT}\n${text}`,
    )
  }
  if (/No such device|doesn't exist|is not up|no suitable device|Interface doesn't/i.test(text)) {
    return new AppError(
      'E_CAPTURE_INTERFACE',
      `no capture interface "${iface}" (see "ip link" or "tcpdump -D"):\n${text}`,
    )
  }
  if (/parse filter expression|syntax error|illegal|expression rejects|filter/i.test(text)) {
    return new AppError('E_CAPTURE_FILTER', `tcpdump rejected the BPF filter:\n${text}`)
  }
  return new AppError('E_CAPTURE_FAILED', `${path} failed:\n${text || '(no message)'}`)
}

function missingTool(path: string, err: NodeJS.ErrnoException): AppError {
  return new AppError(
    'E_CAPTURE_TOOL_MISSING',
    `cannot run tcpdump (${path}: ${err.code ?? err.message}): install the Debian package ` +
      `"tcpdump" (apt-get install tcpdump), or name the executable with --tcpdump PATH or ` +
      `TLSIGHT_TCPDUMP`,
    { cause: err },
  )
}

function emptyStats(): KernelStats {
  return { captured: -1, receivedByFilter: -1, droppedByKernel: -1, droppedByInterface: -1 }
}

/**
 * Starts tcpdump and resolves once it reports "listening on" (packets from then on are seen).
 * Rejects with E_CAPTURE_TOOL_MISSING, E_CAPTURE_PERMISSION, E_CAPTURE_INTERFACE,
 * E_CAPTURE_FILTER or E_CAPTURE_FAILED.
 */
export function spawnTcpdump(opts: TcpdumpOptions): Promise<TcpdumpProcess> {
  const path = opts.path ?? DEFAULT_TCPDUMP_PATH
  const args = tcpdumpArgs(opts)
  const stats = emptyStats()
  let tail = ''
  let partial = ''
  let listening = false
  let stopping = false
  let child: ChildProcessByStdio<null, Readable, Readable>
  try {
    // Its own process group: a terminal's Ctrl-C reaches only us, and we stop tcpdump in order
    // (its last packets are read before the engine is flushed).
    child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  } catch (e) {
    // spawn throws synchronously only for bad arguments (a NUL in the filter, …).
    return Promise.reject(new AppError('E_CAPTURE_FAILED', `cannot start ${path}`, { cause: e }))
  }

  let onListening = (): void => {}
  const onLine = (line: string): void => {
    const found = parseTcpdumpStats(line)
    if (Object.keys(found).length > 0) {
      // tcpdump prints the interface counter only when it is non-zero.
      if (stats.droppedByInterface < 0) stats.droppedByInterface = 0
      Object.assign(stats, found)
      return
    }
    tail = (tail + line + '\n').slice(-STDERR_TAIL_BYTES)
    if (!listening && line.includes('listening on')) {
      listening = true
      onListening()
    }
  }
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (s: string) => {
    partial += s
    let nl = partial.indexOf('\n')
    while (nl >= 0) {
      onLine(partial.slice(0, nl))
      partial = partial.slice(nl + 1)
      nl = partial.indexOf('\n')
    }
    if (partial.length > MAX_STDERR_LINE_BYTES) {
      onLine(partial)
      partial = ''
    }
  })

  const stderrEnded = new Promise<void>((resolve) => child.stderr.once('close', resolve))
  const stdoutEnded = new Promise<void>((resolve) => {
    child.stdout.once('end', resolve)
    child.stdout.once('close', resolve)
  })
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  )
  let timer: NodeJS.Timeout | undefined

  // tcpdump runs in its own process group: make sure it does not outlive us.
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)
  const exited = (async (): Promise<KernelStats> => {
    const { code, signal } = await closed
    process.off('exit', killOnExit)
    await stdoutEnded
    if (timer !== undefined) clearInterval(timer)
    if (partial !== '') onLine(partial)
    partial = ''
    if (stopping || code === 0) return { ...stats }
    const why = code !== null ? `exit code ${code}` : `signal ${signal ?? '?'}`
    throw new AppError('E_CAPTURE_FAILED', `tcpdump ended (${why}):\n${tail.trim()}`)
  })()
  // Until someone awaits it (after the start), a failure is reported by the start itself.
  exited.catch(() => {})

  const requestStats = (): void => {
    // SIGUSR1 before tcpdump installed its handler would kill it: only once listening.
    if (listening && child.exitCode === null && child.signalCode === null) child.kill('SIGUSR1')
  }
  const proc: TcpdumpProcess = {
    stdout: child.stdout,
    pid: child.pid ?? -1,
    stats: () => ({ ...stats }),
    requestStats,
    exited,
    async stop() {
      stopping = true
      if (timer !== undefined) clearInterval(timer)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
      const kill = setTimeout(() => child.kill('SIGKILL'), TCPDUMP_STOP_TIMEOUT_MS)
      try {
        return await exited
      } finally {
        clearTimeout(kill)
      }
    },
  }

  const startTimeoutMs = opts.startTimeoutMs ?? TCPDUMP_START_TIMEOUT_MS
  return new Promise<TcpdumpProcess>((resolve, reject) => {
    let settled = false
    const deadline = setTimeout(() => {
      child.kill('SIGKILL')
      fail(
        new AppError(
          'E_CAPTURE_FAILED',
          `tcpdump did not start listening within ${startTimeoutMs} ms:\n${tail}`,
        ),
      )
    }, startTimeoutMs)
    function fail(e: AppError): void {
      if (settled) return
      settled = true
      clearTimeout(deadline)
      reject(e)
    }
    onListening = () => {
      if (settled) return
      settled = true
      clearTimeout(deadline)
      const interval = opts.statsIntervalMs ?? TCPDUMP_STATS_INTERVAL_MS
      if (interval > 0) {
        timer = setInterval(requestStats, interval)
        timer.unref()
      }
      resolve(proc)
    }
    child.once('error', (err: NodeJS.ErrnoException) => {
      fail(
        err.code === 'ENOENT' || err.code === 'EACCES'
          ? missingTool(path, err)
          : new AppError('E_CAPTURE_FAILED', `cannot start ${path}: ${err.message}`, {
              cause: err,
            }),
      )
    })
    // Not 'close': that waits for stdout, which nobody reads before the start resolves.
    child.once('exit', () => {
      void stderrEnded.then(() => fail(classifyTcpdumpError(tail + partial, path, opts.iface)))
    })
  })
}

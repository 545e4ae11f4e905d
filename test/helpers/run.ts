/** Run a child process to completion and collect its output (system tests only). */
import { spawn } from 'node:child_process'

export interface RunOptions {
  cwd?: string
  /** Written to the child's stdin, which is then closed. Without it stdin is closed at once. */
  input?: string | Uint8Array
  /** The child is sent SIGKILL after this long; the result then has `timedOut: true`. */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  timedOut: boolean
}

/** Spawns `cmd args` without a shell and resolves when it exits; rejects only if it cannot start. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, opts.timeoutMs ?? 30_000)
    child.stdout.on('data', (b: Buffer) => stdout.push(b))
    child.stderr.on('data', (b: Buffer) => stderr.push(b))
    // A child that exits before reading its input makes stdin emit EPIPE; that is not our error.
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        timedOut,
      })
    })
  })
}

/** Like {@link run} but rejects unless the child exits with code 0; the error quotes its stderr. */
export async function runOk(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const r = await run(cmd, args, opts)
  if (r.code !== 0) {
    const why = r.timedOut ? 'timed out' : `exited with ${r.code ?? r.signal}`
    throw new Error(`${cmd} ${args.join(' ')} ${why}:\n${r.stderr.slice(-2000)}`)
  }
  return r
}

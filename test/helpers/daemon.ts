/** A server process run by a system test (nginx, Apache, Caddy): start, wait until it listens, stop. */
import { spawn, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'

export interface Daemon {
  child: ChildProcess
  /** Everything it printed so far (for failure messages). */
  output: () => string
  stop(): Promise<void>
}

export function daemon(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Daemon {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  child.stdout?.on('data', (b: Buffer) => out.push(b))
  child.stderr?.on('data', (b: Buffer) => out.push(b))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    child,
    output: () => Buffer.concat(out).toString(),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** Resolves once `host:port` accepts connections; throws if the daemon exits or 10 s pass. */
export async function listening(port: number, d: Daemon, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, host, () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (d.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`server did not listen on ${port}:\n${d.output()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Packet capture with the system `tcpdump` for system tests and fixture recorders. */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'

export interface TcpdumpOptions {
  /** Interface to capture on; `lo` by default. */
  iface?: string
  /** Output pcap file. */
  file: string
  /** BPF filter, e.g. `tcp port 4433 or tcp port 4434`. */
  filter: string
  /** How long to wait for "listening on"; 10 s by default. */
  startTimeoutMs?: number
}

export interface Capture {
  /** Stops the capture (SIGINT) and resolves once tcpdump has exited and the file is complete. */
  stop(): Promise<{ stderr: string }>
}

/**
 * Starts `tcpdump -U -w FILE` and resolves once it reports "listening on", so packets sent after
 * that are captured. `-U` and `--immediate-mode` write every packet as it arrives.
 */
export async function startTcpdump(opts: TcpdumpOptions): Promise<Capture> {
  const args = ['-i', opts.iface ?? 'lo', '-U', '--immediate-mode', '-w', opts.file]
  // As root, tcpdump drops to the `tcpdump` user before opening the output file; keep root so the
  // file can be written into a private temp dir and is owned like the rest of the tree.
  if (process.getuid?.() === 0) args.push('-Z', 'root')
  args.push(opts.filter)
  const child = spawn('tcpdump', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (s: string) => (stderr += s))
  const exited = once(child, 'close')

  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000)
  while (!stderr.includes('listening on')) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`tcpdump ${args.join(' ')} exited early:\n${stderr}`)
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`tcpdump did not start listening within the timeout:\n${stderr}`)
    }
    await sleep(20)
  }

  return {
    async stop() {
      // Let the kernel hand over the last loopback packets before the capture loop is broken.
      await sleep(250)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
      if (child.exitCode !== 0) {
        throw new Error(`tcpdump ended with ${child.exitCode ?? child.signalCode}:\n${stderr}`)
      }
      return { stderr }
    },
  }
}

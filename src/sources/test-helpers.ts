/** Shared by the source tests: a logger that records, a sink that collects, a poller. */
import type { CollectedEvent, SourceLogger } from './stats.ts'

/** The fields of an http event that a plain web-server record leaves null. */
export const NULL_TLS = {
  ja4h: null,
  ja4h_r: null,
  ja4h_ro: null,
  tfh: null,
  ja3: null,
  ja4: null,
  cf_ciphers_sha1: null,
  cf_extensions_sha1: null,
  hello_length: null,
  tls_version: null,
  sni: null,
} as const

export interface LogLine {
  level: 'info' | 'warn' | 'error'
  fields: Record<string, unknown>
  msg: string
}

export function recordingLogger(): SourceLogger & { lines: LogLine[] } {
  const lines: LogLine[] = []
  return {
    lines,
    info: (fields, msg) => lines.push({ level: 'info', fields, msg }),
    warn: (fields, msg) => lines.push({ level: 'warn', fields, msg }),
    error: (fields, msg) => lines.push({ level: 'error', fields, msg }),
  }
}

/** A sink that keeps every event (synchronously accepted). */
export function collectingSink(): {
  events: CollectedEvent[]
  sink: (batch: readonly CollectedEvent[]) => void
} {
  const events: CollectedEvent[] = []
  return { events, sink: (batch) => void events.push(...batch) }
}

/** Polls `cond` until it holds; fails after `timeoutMs` with `what`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Reading and writing `tlsight-expected/1` files (see `../shared/testdata/FORMAT.md`). */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Ja3Flow } from './ja3-flows.ts'

export const EXPECTED_FORMAT = 'tlsight-expected/1'

/** A flow object; only the JA3 fields are typed, other fingerprint fields pass through. */
export interface ExpectedFlow extends Partial<Omit<Ja3Flow, 'proto' | 'client' | 'server'>> {
  proto: 'tcp' | 'udp'
  client: string
  server: string
  /** Our extension for recorded fixtures: the name of the client that made the connection. */
  label?: string
  sources?: Record<string, string[]>
  [field: string]: unknown
}

export interface ExpectedFile {
  pcap: string
  origin: string
  split: string
  sha256: string
  format: typeof EXPECTED_FORMAT
  sources: { id: string; what: string }[]
  flows: ExpectedFlow[]
  notes: string[]
}

/** Parses an expected file and checks its format tag. */
export function readExpected(path: string): ExpectedFile {
  const data = JSON.parse(readFileSync(path, 'utf8')) as ExpectedFile
  if (data.format !== EXPECTED_FORMAT) {
    throw new Error(`${path}: format ${String(data.format)}, want ${EXPECTED_FORMAT}`)
  }
  return data
}

/** Lower-case hex SHA-256 of a file. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** The JA3 view of expected flows (flows without any JA3 field are left out). */
export function ja3FlowsOf(flows: readonly ExpectedFlow[]): Ja3Flow[] {
  return flows
    .filter((f) => f.ja3 !== undefined || f.ja3s !== undefined)
    .map((f) => ({
      proto: f.proto,
      client: f.client,
      server: f.server,
      ja3: f.ja3 ?? [],
      ja3_full: f.ja3_full ?? [],
      ja3s: f.ja3s ?? [],
      ja3s_full: f.ja3s_full ?? [],
    }))
}

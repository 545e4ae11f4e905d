/** `npm run conformance`: per-family agreement with the shared corpus, as a table. */
import { join } from 'node:path'
import { collectFile } from '../../src/pipeline/collect.ts'
import {
  COMPARED_FIELDS,
  TCP_FIELDS,
  compare,
  withoutDecrypted,
  conformanceDir,
  isQuicFlow,
  listExpectedFiles,
  loadExpected,
  type FieldTally,
} from './expected.ts'

const FIELDS = [...COMPARED_FIELDS, ...TCP_FIELDS]
const dir = conformanceDir()
const totals: Record<string, FieldTally> = {}
const quic: Record<string, FieldTally> = {}
const failures: string[] = []
const add = (into: Record<string, FieldTally>, from: Record<string, FieldTally>): void => {
  for (const [f, t] of Object.entries(from)) {
    const acc = (into[f] ??= { total: 0, equal: 0 })
    acc.total += t.total
    acc.equal += t.equal
  }
}
let files = 0
for (const file of listExpectedFiles(dir)) {
  const expected = loadExpected(file)
  const { events } = await collectFile(join(dir, expected.pcap))
  withoutDecrypted(expected, events)
  const res = compare(expected, events, FIELDS)
  files++
  add(totals, res.tally)
  add(quic, compare(expected, events, FIELDS, isQuicFlow).tally)
  for (const m of res.failures) failures.push(`${expected.pcap}: ${m}`)
}
console.log(`corpus: ${dir} (${files} captures)`)
const table = (title: string, tally: Record<string, FieldTally>): void => {
  console.log(`${title}\nfamily      equal / total`)
  for (const f of FIELDS) {
    const t = tally[f] ?? { total: 0, equal: 0 }
    const pct = t.total === 0 ? '-' : ((100 * t.equal) / t.total).toFixed(1) + ' %'
    console.log(
      `${f.padEnd(10)} ${String(t.equal).padStart(6)} / ${String(t.total).padEnd(6)} ${pct}`,
    )
  }
}
table('All flows (TLS over TCP, DTLS, QUIC):', totals)
table('\nof which QUIC:', quic)
if (failures.length > 0) console.log(`\n${failures.length} differences:\n` + failures.join('\n'))

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runFuzz } from './targets.ts'
import { Rng } from './rng.ts'

const CASES = Number(process.env.TLSIGHT_FUZZ_CASES ?? 100_000)
/** A case that takes longer than this is treated as a hang. */
const MAX_CASE_MS = 250

test(`fuzz: ${CASES} mutated hellos, records, packets and captures never throw or hang`, () => {
  const heapBefore = process.memoryUsage().heapUsed
  const report = runFuzz(CASES, 0x7151_6d7, (s) => new Rng(s))
  const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6
  assert.equal(report.cases, CASES)
  assert.deepEqual(
    report.failures.map(
      (f) => `${f.target}#${f.case}: ${f.error.split('\n')[0]} input=${f.inputHex.slice(0, 200)}`,
    ),
    [],
  )
  assert.ok(
    report.maxCaseMs < MAX_CASE_MS,
    `slowest case ${report.maxCaseMs.toFixed(1)} ms: ${report.slowest}`,
  )
  // Nothing is retained across cases: the heap must not grow with the case count.
  assert.ok(heapGrowthMb < 64, `heap grew by ${heapGrowthMb.toFixed(1)} MB`)
})

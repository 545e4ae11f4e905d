/** `npm run fuzz`: many more cases than `npm test`, several seeds, with a summary. */
import { parseArgs } from 'node:util'
import { runFuzz } from './targets.ts'
import { Rng } from './rng.ts'

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
  },
})
const cases = Number(values.cases)
const seed = Number(values.seed)
const started = performance.now()
const rssBefore = process.memoryUsage().rss
const report = runFuzz(cases, seed, (s) => new Rng(s))
const secs = (performance.now() - started) / 1000
const rssMb = process.memoryUsage().rss / 1e6
console.log(
  JSON.stringify(
    {
      cases: report.cases,
      seed,
      seconds: Number(secs.toFixed(1)),
      throws: report.failures.length,
      max_case_ms: Number(report.maxCaseMs.toFixed(2)),
      slowest: report.slowest,
      rss_mb_before: Math.round(rssBefore / 1e6),
      rss_mb_after: Math.round(rssMb),
      per_target: report.perTarget,
    },
    null,
    2,
  ),
)
for (const f of report.failures)
  console.error(`\n${f.target} case ${f.case}:\n${f.error}\ninput: ${f.inputHex}`)
process.exitCode = report.failures.length === 0 ? 0 : 1

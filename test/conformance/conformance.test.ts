/**
 * Conformance with the shared reference corpus: every JA3/JA3S/JA4(+_r/_o/_ro)/JA4S value of
 * every flow of every capture (TLS over TCP, DTLS and QUIC) must equal the canonical expectation.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { existsSync } from 'node:fs'
import { collectFile } from '../../src/pipeline/collect.ts'
import {
  COMPARED_FIELDS,
  TCP_FIELDS,
  compare,
  conformanceDir,
  listExpectedFiles,
  loadExpected,
  withoutDecrypted,
} from './expected.ts'

const FIELDS = COMPARED_FIELDS

const dir = conformanceDir()
const files = listExpectedFiles(dir)

test(
  'shared conformance corpus is present',
  {
    skip:
      files.length === 0 && process.env.TLSIGHT_REQUIRE_ALL !== '1'
        ? `no corpus at ${dir} (set TLSIGHT_CONFORMANCE_DIR)`
        : false,
  },
  () => {
    assert.ok(files.length > 0, `no expected files under ${dir}`)
  },
)

/** The shared corpus, then the captures this project recorded itself (test/fixtures). */
const fixtureDir = join(import.meta.dirname, '../fixtures')
const suites: [string, string[]][] = [
  [dir, files],
  [fixtureDir, listExpectedFiles(fixtureDir)],
]

for (const [root, list] of suites) {
  for (const file of list) {
    const expected = loadExpected(file)
    const name = file.slice(join(root, 'expected').length + 1)
    const pcap = join(root, expected.pcap)
    test(`conformance ${root === dir ? '' : 'fixture '}${name}`, async (t) => {
      assert.ok(existsSync(pcap), `capture missing: ${pcap}`)
      const { events } = await collectFile(pcap)
      const skipped = withoutDecrypted(expected, events)
      if (skipped > 0) t.diagnostic(`${skipped} values from decrypted TLS not compared`)
      const res = compare(expected, events, FIELDS)
      for (const w of res.warnings) t.diagnostic(`warning (unsettled): ${w}`)
      assert.deepEqual(res.failures, [], res.failures.join('\n'))
      const compared = Object.values(res.tally).reduce((n, x) => n + x.total, 0)
      // Our own fixtures exist for these families; shared captures may hold only later ones (JA4H…).
      if (root !== dir) assert.ok(compared > 0, 'no value was compared')
      const tcp = compare(expected, events, TCP_FIELDS)
      assert.deepEqual(tcp.failures, [], tcp.failures.join('\n'))
    })
  }
}

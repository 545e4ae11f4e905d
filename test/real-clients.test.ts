/**
 * Real TLS clients (openssl s_client, curl, node:tls) recorded on loopback: our JA3/JA3S must equal
 * tshark's `tls.handshake.ja3*` on the same capture, for every handshake.
 *
 * - The stored fixture (`fixtures/pcap/real-clients.pcap`, made by
 *   `fixtures/record-real-clients.ts`) is checked against `fixtures/expected/real-clients.json`.
 * - A live run records a fresh capture the same way and compares us with tshark directly; it needs
 *   root, tcpdump, tshark, openssl and curl, and skips without them unless TLSIGHT_REQUIRE_ALL=1.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { analyzeTls, ja3FlowsFromEvents } from './helpers/analyze.ts'
import { ja3FlowsOf, readExpected, sha256File } from './helpers/expected.ts'
import { countHellos, diffJa3Flows, flowKey } from './helpers/ja3-flows.ts'
import { allOf, requireRoot, requireTool } from './helpers/tools.ts'
import { tsharkJa3Flows } from './helpers/tshark.ts'
import {
  CLIENTS,
  checkAgainstClients,
  labelsByFlow,
  recordRealClients,
} from './fixtures/record-real-clients.ts'

const fixture = (rel: string): string =>
  fileURLToPath(new URL(`./fixtures/${rel}`, import.meta.url))
const EXPECTED_PATH = fixture('expected/real-clients.json')

function assertNoDiff(lines: readonly string[], what: string): void {
  if (lines.length > 0) assert.fail(`${what}: ${lines.length} difference(s)\n${lines.join('\n')}`)
}

test('real-clients fixture: the capture is the one the expected file describes', () => {
  const expected = readExpected(EXPECTED_PATH)
  assert.equal(sha256File(fixture(expected.pcap)), expected.sha256)
  assert.equal(expected.flows.length, CLIENTS.length, 'one flow per recorded client')
})

test('real-clients fixture: our JA3/JA3S equal the expected (tshark) values', async (t) => {
  const expected = readExpected(EXPECTED_PATH)
  const flows = ja3FlowsOf(expected.flows)
  const labels = new Map(expected.flows.map((f) => [flowKey(f), f.label ?? '?']))
  const ours = ja3FlowsFromEvents(await analyzeTls(fixture(expected.pcap)))
  assertNoDiff(diffJa3Flows(flows, ours, labels), 'analyzer vs expected/real-clients.json')
  t.diagnostic(`${flows.length} flows, ${countHellos(flows)} ClientHellos equal`)
})

test('real-clients fixture: tshark still computes the expected values', async (t) => {
  const req = requireTool('tshark', 'tshark')
  if (!req.ok) return t.skip(req.skip)
  const expected = readExpected(EXPECTED_PATH)
  const labels = new Map(expected.flows.map((f) => [flowKey(f), f.label ?? '?']))
  const theirs = await tsharkJa3Flows(fixture(expected.pcap))
  assertNoDiff(diffJa3Flows(ja3FlowsOf(expected.flows), theirs, labels), 'tshark vs expected')
})

test(
  'real clients live: our JA3/JA3S equal tshark on a fresh capture',
  { timeout: 120_000 },
  async (t) => {
    const req = allOf(
      requireRoot('capturing on lo with tcpdump'),
      requireTool('tcpdump', 'tcpdump'),
      requireTool('tshark', 'tshark'),
      requireTool('openssl', 'openssl'),
      requireTool('curl', 'curl'),
    )
    if (!req.ok) return t.skip(req.skip)

    const dir = mkdtempSync(join(tmpdir(), 'tlsight-live-'))
    const pcap = join(dir, 'real-clients.pcap')
    let passed = false
    try {
      const started = Date.now()
      const clients = await recordRealClients(pcap)
      const recordedMs = Date.now() - started
      const theirs = await tsharkJa3Flows(pcap)
      const ours = ja3FlowsFromEvents(await analyzeTls(pcap))
      const labels = labelsByFlow(theirs, clients)
      assertNoDiff(checkAgainstClients(theirs, clients), 'tshark flows vs clients run')
      assertNoDiff(diffJa3Flows(theirs, ours, labels), 'analyzer vs tshark')
      assert.equal(ours.length, clients.length, 'one handshake flow per client')
      const hellos = clients.reduce((n, c) => n + c.hellos, 0)
      assert.equal(countHellos(ours), hellos, 'one JA3 per ClientHello')
      passed = true
      t.diagnostic(
        `${clients.length} clients, ${hellos} ClientHellos, recorded in ${recordedMs} ms, ` +
          'JA3/JA3S all equal to tshark',
      )
    } finally {
      // A failed run keeps its capture for inspection.
      if (passed) rmSync(dir, { recursive: true, force: true })
      else t.diagnostic(`capture kept: ${pcap}`)
    }
  },
)

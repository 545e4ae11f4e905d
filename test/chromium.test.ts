/**
 * Real Chromium ClientHellos recorded on loopback: our JA3/JA3S must equal tshark's, our JA4 family
 * must equal the one computed from tshark's dissection, the hello must look like Chrome's
 * (`t13d15xxh2_8daaf6152771_…`, an X25519MLKEM768 key share), and splitting the hello across two
 * TCP segments must not change any fingerprint.
 *
 * - The stored fixture (`fixtures/pcap/chromium.pcap`, made by `fixtures/record-chromium.ts`) is
 *   checked against `fixtures/expected/chromium.json` whether or not Chromium is installed.
 * - A live run records a fresh capture the same way; it needs root, tcpdump, tshark, openssl and
 *   chromium, and skips without them unless TLSIGHT_REQUIRE_ALL=1.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ByteReader, parseWith } from '../src/bytes/reader.ts'
import { parseClientHello } from '../src/protocols/tls/client-hello.ts'
import { analyzeTls, ja3FlowsFromEvents, type TlsEventLine } from './helpers/analyze.ts'
import { ja3FlowsOf, readExpected, sha256File, type ExpectedFile } from './helpers/expected.ts'
import { countHellos, diffJa3Flows, endpoint, flowKey } from './helpers/ja3-flows.ts'
import { allOf, hasTool, requireRoot, requireTool } from './helpers/tools.ts'
import { TEST_HOST } from './helpers/tls-server.ts'
import { tsharkJa3Flows } from './helpers/tshark.ts'
import {
  CHROMIUM,
  helloSegments,
  JA4_FIELDS,
  LABEL,
  recordChromium,
  SPLIT_AT_BYTE,
  splitClientHellos,
  tsharkHellos,
  type HelloSegments,
  type TsharkHello,
} from './fixtures/record-chromium.ts'

const fixture = (rel: string): string =>
  fileURLToPath(new URL(`./fixtures/${rel}`, import.meta.url))
const EXPECTED_PATH = fixture('expected/chromium.json')

/** JA4 `b` of Chrome's 15 cipher suites (TLS 1.3 AES/ChaCha, ECDHE AEAD/CBC, RSA kx), sorted. */
const CHROME_CIPHER_HASH = '8daaf6152771'
/** JA4 `a` of a Chrome hello with SNI and ALPN h2: 15 ciphers, any extension count. */
const CHROME_JA4_A = /^t13d15\d\dh2$/
/** draft-ietf-tls-ecdhe-mlkem: X25519MLKEM768; its client share is ML-KEM-768 ek ‖ X25519. */
const X25519_MLKEM768 = 0x11ec
const X25519_MLKEM768_SHARE_BYTES = 1184 + 32
/** draft-tls-westerbaan-xyber768d00: the pre-standard hybrid Chrome 124–130 sent. */
const X25519_KYBER768_DRAFT00 = 0x6399

type Ja4Field = (typeof JA4_FIELDS)[number]
type Event = TlsEventLine & Record<Ja4Field, string>

function assertNoDiff(lines: readonly string[], what: string): void {
  if (lines.length > 0) assert.fail(`${what}: ${lines.length} difference(s)\n${lines.join('\n')}`)
}

/** JA4 lists per flow key, for our events, tshark-derived hellos or the expected file. */
type Ja4Lists = Map<string, Record<Ja4Field, string[]>>

function ja4Lists(
  items: readonly ({ client: string; server: string } & Record<Ja4Field, string>)[],
): Ja4Lists {
  const out: Ja4Lists = new Map()
  for (const h of items) {
    const key = flowKey({ proto: 'tcp', client: h.client, server: h.server })
    let f = out.get(key)
    if (f === undefined) {
      f = { ja4: [], ja4_r: [], ja4_o: [], ja4_ro: [] }
      out.set(key, f)
    }
    for (const k of JA4_FIELDS) f[k].push(h[k])
  }
  return out
}

function eventJa4Lists(events: readonly Event[]): Ja4Lists {
  return ja4Lists(
    events.map((e) => ({
      ...e,
      client: endpoint(e.src_ip, e.src_port),
      server: endpoint(e.dst_ip, e.dst_port),
    })),
  )
}

function expectedJa4Lists(doc: ExpectedFile): Ja4Lists {
  const out: Ja4Lists = new Map()
  for (const f of doc.flows) {
    const lists = Object.fromEntries(JA4_FIELDS.map((k) => [k, (f[k] ?? []) as string[]]))
    out.set(flowKey(f), lists as Record<Ja4Field, string[]>)
  }
  return out
}

function diffJa4(expected: Ja4Lists, actual: Ja4Lists): string[] {
  const out: string[] = []
  for (const [key, e] of expected) {
    const a = actual.get(key)
    if (a === undefined) {
      out.push(`missing flow ${key}: expected ja4 ${JSON.stringify(e.ja4)}`)
      continue
    }
    for (const k of JA4_FIELDS) {
      if (JSON.stringify(e[k]) === JSON.stringify(a[k])) continue
      out.push(
        `${key} ${k}:\n    expected ${JSON.stringify(e[k])}\n    actual   ${JSON.stringify(a[k])}`,
      )
    }
  }
  for (const key of actual.keys()) if (!expected.has(key)) out.push(`extra flow ${key}`)
  return out
}

async function ourEvents(pcap: string): Promise<Event[]> {
  return (await analyzeTls(pcap)) as Event[]
}

let fixtureRun: Promise<Event[]> | undefined
/** Our events on the stored capture, analyzed once for all fixture tests. */
function fixtureEvents(pcap: string): Promise<Event[]> {
  fixtureRun ??= ourEvents(pcap)
  return fixtureRun
}

interface KeyShare {
  group: number
  bytes: number
}

/** The key_share entries of a ClientHello record, parsed with our own ClientHello parser. */
function keyShares(record: Uint8Array): KeyShare[] {
  // RFC 8446 §5.1 record header (5 bytes), §4 handshake header: type (1) and uint24 length.
  const len = ((record[6] ?? 0) << 16) | ((record[7] ?? 0) << 8) | (record[8] ?? 0)
  const hello = parseClientHello(record.subarray(9, 9 + len))
  if (!hello.ok) assert.fail(`ClientHello does not parse: ${JSON.stringify(hello.error)}`)
  const ext = hello.value.extensions.find((e) => e.type === 0x0033)
  if (ext === undefined) return []
  // RFC 8446 §4.2.8: KeyShareEntry client_shares<0..2^16-1>;
  // struct { NamedGroup group; opaque key_exchange<1..2^16-1>; } KeyShareEntry.
  const parsed = parseWith('key_share', () => {
    const list = new ByteReader(ext.data).vec16()
    const out: KeyShare[] = []
    while (!list.atEnd) out.push({ group: list.u16(), bytes: list.vec16().remaining })
    return out
  })
  if (!parsed.ok) assert.fail(`key_share does not parse: ${JSON.stringify(parsed.error)}`)
  return parsed.value
}

const hex = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`

/**
 * Asserts that every hello (our events, and the records from {@link helloSegments}) is Chrome's:
 * JA4 `a`/`b` as Chrome's, one JA4 and JA4_r over all connections, X25519MLKEM768 offered (not
 * the Kyber draft) with a full-size key share.
 * Returns lines describing the hellos for the test's diagnostics.
 */
function assertChromeHellos(events: readonly Event[], hellos: readonly HelloSegments[]): string[] {
  assert.ok(events.length >= 1, 'at least one ClientHello from Chromium')
  assert.equal(hellos.length, events.length, 'one first ClientHello per connection')
  for (const e of events) {
    const [a, b] = e.ja4.split('_')
    assert.match(a ?? '', CHROME_JA4_A, `JA4 a of ${e.src_port}`)
    assert.equal(b, CHROME_CIPHER_HASH, `JA4 cipher hash of ${e.src_port}`)
    assert.equal(e.sni, TEST_HOST, 'SNI from the host-resolver rule')
    // JA3 field 4 is supported_groups without GREASE (decimal).
    const groups = (e.ja3_str.split(',')[3] ?? '').split('-').map(Number)
    assert.ok(groups.includes(X25519_MLKEM768), `X25519MLKEM768 in supported_groups: ${groups}`)
    assert.ok(!groups.includes(X25519_KYBER768_DRAFT00), 'no X25519Kyber768Draft00')
  }
  // Chrome shuffles its extensions per connection: JA4 and JA4_r (sorted) agree, JA3 may not.
  assert.equal(new Set(events.map((e) => e.ja4)).size, 1, 'one JA4 over all connections')
  assert.equal(new Set(events.map((e) => e.ja4_r)).size, 1, 'one JA4_r over all connections')
  return hellos.map((h) => {
    const shares = keyShares(h.record)
    const pq = shares.find((s) => s.group === X25519_MLKEM768)
    assert.equal(pq?.bytes, X25519_MLKEM768_SHARE_BYTES, `X25519MLKEM768 key share of ${h.client}`)
    const list = shares.map((s) => `${hex(s.group)}(${s.bytes})`).join(' ')
    return (
      `${h.client}: hello record ${h.record.length} bytes in ${h.segments} TCP segment(s) ` +
      `[${h.segmentBytes.join('+')}], key shares ${list}`
    )
  })
}

/**
 * Our JA3/JA4 of the split capture equal those on the original (`before`), and every hello is
 * split; tshark, when installed, reassembles the split hellos to the same JA3.
 */
async function assertSplitEqual(
  t: TestContext,
  original: string,
  before: readonly Event[],
  dir: string,
): Promise<void> {
  const split = join(dir, 'split.pcap')
  writeFileSync(split, splitClientHellos(readFileSync(original), SPLIT_AT_BYTE))
  const segments = helloSegments(readFileSync(split))
  assert.ok(segments.length > 0)
  for (const h of segments) {
    assert.equal(h.segments, 2, `${h.client}: hello in two segments`)
    assert.equal(h.segmentBytes[0], SPLIT_AT_BYTE)
  }
  const after = await ourEvents(split)
  const ja3Before = ja3FlowsFromEvents(before)
  assertNoDiff(diffJa3Flows(ja3Before, ja3FlowsFromEvents(after)), 'JA3 split vs original')
  assertNoDiff(diffJa4(eventJa4Lists(before), eventJa4Lists(after)), 'JA4 split vs original')
  if (hasTool('tshark')) {
    assertNoDiff(diffJa3Flows(ja3Before, await tsharkJa3Flows(split)), 'tshark JA3 of split')
  }
  t.diagnostic(
    `split at byte ${SPLIT_AT_BYTE}: ${segments.map((h) => h.segmentBytes.join('+')).join(', ')}` +
      ' bytes; JA3/JA4 unchanged',
  )
}

/** JA3 from tshark and JA4 from tshark's fields equal ours on `pcap`. */
async function assertOursEqualTshark(pcap: string, events: readonly Event[]): Promise<void> {
  const theirs = await tsharkJa3Flows(pcap)
  assertNoDiff(diffJa3Flows(theirs, ja3FlowsFromEvents(events)), 'analyzer vs tshark JA3')
  const hellos: TsharkHello[] = await tsharkHellos(pcap)
  assertNoDiff(diffJa4(ja4Lists(hellos), eventJa4Lists(events)), 'analyzer vs tshark-field JA4')
  // tshark's key_share groups are the ones our parser sees (GREASE included), in wire order.
  const ours = helloSegments(readFileSync(pcap))
  for (const h of hellos) {
    const seg = ours.find((s) => s.client === h.client)
    assert.ok(seg !== undefined, `hello of ${h.client} found by helloSegments`)
    const groups = keyShares(seg.record).map((s) => s.group)
    assert.deepEqual(groups, h.keyShareGroups, `key share groups of ${h.client}`)
  }
}

test('chromium fixture: the capture is the one the expected file describes', () => {
  const expected = readExpected(EXPECTED_PATH)
  assert.equal(sha256File(fixture(expected.pcap)), expected.sha256)
  assert.ok(expected.flows.length >= 1, 'at least one Chromium connection')
  for (const f of expected.flows) assert.equal(f.label, LABEL)
})

test('chromium fixture: our JA3/JA3S and JA4 family equal the expected values', async (t) => {
  const expected = readExpected(EXPECTED_PATH)
  const events = await fixtureEvents(fixture(expected.pcap))
  const flows = ja3FlowsOf(expected.flows)
  assertNoDiff(diffJa3Flows(flows, ja3FlowsFromEvents(events)), 'analyzer vs expected JA3')
  assertNoDiff(diffJa4(expectedJa4Lists(expected), eventJa4Lists(events)), 'analyzer vs JA4')
  t.diagnostic(`${flows.length} flows, ${countHellos(flows)} ClientHellos equal`)
})

test('chromium fixture: tshark still computes the expected values', async (t) => {
  const req = requireTool('tshark', 'tshark')
  if (!req.ok) return t.skip(req.skip)
  const expected = readExpected(EXPECTED_PATH)
  const pcap = fixture(expected.pcap)
  const theirs = await tsharkJa3Flows(pcap)
  assertNoDiff(diffJa3Flows(ja3FlowsOf(expected.flows), theirs), 'tshark vs expected JA3')
  const hellos = await tsharkHellos(pcap)
  assertNoDiff(diffJa4(expectedJa4Lists(expected), ja4Lists(hellos)), 'tshark fields vs JA4')
})

test('chromium fixture: every hello is Chrome-shaped with a post-quantum key share', async (t) => {
  const expected = readExpected(EXPECTED_PATH)
  const pcap = fixture(expected.pcap)
  const lines = assertChromeHellos(await fixtureEvents(pcap), helloSegments(readFileSync(pcap)))
  for (const l of lines) t.diagnostic(l)
})

test('chromium fixture: a hello split across two TCP segments keeps its JA3 and JA4', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-chromium-split-'))
  try {
    const pcap = fixture(readExpected(EXPECTED_PATH).pcap)
    await assertSplitEqual(t, pcap, await fixtureEvents(pcap), dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('chromium live: a fresh capture agrees with tshark', { timeout: 120_000 }, async (t) => {
  const req = allOf(
    requireRoot('capturing on lo with tcpdump'),
    requireTool('tcpdump', 'tcpdump'),
    requireTool('tshark', 'tshark'),
    requireTool('openssl', 'openssl'),
    requireTool(CHROMIUM, 'chromium'),
  )
  if (!req.ok) return t.skip(req.skip)

  const dir = mkdtempSync(join(tmpdir(), 'tlsight-chromium-live-'))
  const pcap = join(dir, 'chromium.pcap')
  let passed = false
  try {
    const started = Date.now()
    const rec = await recordChromium(pcap)
    const recordedMs = Date.now() - started
    const events = await ourEvents(pcap)
    await assertOursEqualTshark(pcap, events)
    const lines = assertChromeHellos(events, helloSegments(readFileSync(pcap)))
    for (const e of events) assert.equal(e.dst_port, rec.serverPort, 'only Chromium connections')
    await assertSplitEqual(t, pcap, events, dir)
    passed = true
    t.diagnostic(
      `${rec.version}: ${events.length} ClientHello(s), Chromium ran ${rec.chromiumMs} ms, ` +
        `recorded in ${recordedMs} ms (${rec.attempts} attempt(s))`,
    )
    t.diagnostic(`JA4 ${events[0]?.ja4}`)
    t.diagnostic(`JA4_r ${events[0]?.ja4_r}`)
    for (const e of events) t.diagnostic(`${e.src_port}: JA3 ${e.ja3} ${e.ja3_str}`)
    for (const l of lines) t.diagnostic(l)
  } finally {
    // A failed run keeps its capture for inspection.
    if (passed) rmSync(dir, { recursive: true, force: true })
    else t.diagnostic(`capture kept: ${pcap}`)
  }
})

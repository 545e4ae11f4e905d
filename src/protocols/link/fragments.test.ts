import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { toHex } from '../../bytes/hex.ts'
import { MAX_IP_FRAGMENTS_PER_DATAGRAM } from '../limits.ts'
import { CaptureReader } from '../pcap/reader.ts'
import type { PacketRecord } from '../pcap/types.ts'
import { PacketDecoder } from './decode.ts'
import { FragmentTable } from './fragments.ts'
import type { DecodeOutcome, LinkAnomaly } from './types.ts'

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v)

test('FragmentTable: completes when the last gap fills, in any order', () => {
  const t = new FragmentTable(10, 1_000)
  const a: LinkAnomaly[] = []
  assert.equal(t.add('k', 0, 16, false, bytes(4, 3), a), 'held')
  assert.equal(t.add('k', 0, 0, true, bytes(8, 1), a), 'held')
  const out = t.add('k', 0, 8, true, bytes(8, 2), a)
  assert.ok(out instanceof Uint8Array)
  assert.equal(toHex(out), '0101010101010101' + '0202020202020202' + '03030303')
  assert.deepEqual(a, [])
  assert.equal(t.size, 0)
})

test('FragmentTable: the stored fragment is a copy, not a view of the caller buffer', () => {
  const t = new FragmentTable(10, 1_000)
  const buf = bytes(8, 7)
  t.add('k', 0, 0, true, buf, [])
  buf.fill(0)
  const out = t.add('k', 0, 8, false, bytes(8, 8), [])
  assert.ok(out instanceof Uint8Array)
  assert.equal(out[0], 7)
})

test('FragmentTable: conflicting last fragments keep the first total length', () => {
  const t = new FragmentTable(10, 1_000)
  const a: LinkAnomaly[] = []
  t.add('k', 0, 8, false, bytes(8, 2), a)
  assert.equal(t.add('k', 0, 8, false, bytes(16, 9), a), 'held')
  assert.deepEqual(a, ['ip.fragment_overlap'])
  const out = t.add('k', 0, 0, true, bytes(8, 1), a)
  assert.ok(out instanceof Uint8Array)
  assert.equal(out.length, 16)
})

test('FragmentTable: too many fragments drop the datagram', () => {
  const t = new FragmentTable(10, 1_000)
  const a: LinkAnomaly[] = []
  for (let i = 0; i < MAX_IP_FRAGMENTS_PER_DATAGRAM; i++) {
    assert.equal(t.add('k', 0, i * 8, true, bytes(8, i), a), 'held')
  }
  assert.equal(t.add('k', 0, 8 * MAX_IP_FRAGMENTS_PER_DATAGRAM, false, bytes(8, 0), a), 'dropped')
  assert.deepEqual(a, ['ip.fragment_limit'])
  assert.equal(t.size, 0)
})

// ---- the recorded fixture --------------------------------------------------------------------

const fixtures = new URL('../../../test/fixtures/', import.meta.url)

function decodeCapture(file: string): { recs: PacketRecord[]; outs: DecodeOutcome[] } {
  const recs: PacketRecord[] = []
  const outs: DecodeOutcome[] = []
  const decoder = new PacketDecoder()
  const reader = new CaptureReader((p) => {
    const out = decoder.decode(p)
    recs.push({ ...p, data: p.data.slice() })
    // Copy the views that the next call would invalidate.
    if (out.kind === 'packet') {
      const payload = out.packet.payload.slice()
      outs.push({ ...out, packet: { ...out.packet, payload } })
    } else outs.push(out)
  })
  reader.push(readFileSync(fileURLToPath(new URL(file, fixtures))))
  const summary = reader.end()
  assert.equal(reader.failed, false)
  assert.equal(summary.truncated, false)
  return { recs, outs }
}

function isHello(o: DecodeOutcome): boolean {
  return o.kind === 'packet' && o.packet.payload[0] === 0x16 && o.packet.payload[5] === 0x01
}

test('fixture ipv4-fragmented-client-hello: the real ClientHello comes back whole', () => {
  const whole = decodeCapture('pcap/ipv4-unfragmented-client-hello.pcap')
  const split = decodeCapture('pcap/ipv4-fragmented-client-hello.pcap')
  assert.equal(split.recs.length, whole.recs.length + 2)

  const w = whole.outs.findIndex(isHello)
  const s = split.outs.findIndex(isHello)
  assert.ok(w >= 0 && s >= 0)
  assert.equal(s, w + 2)
  assert.deepEqual(
    split.outs.slice(w, s + 1).map((o) => [o.kind, o.anomalies]),
    [
      ['fragment_held', []],
      ['fragment_held', []],
      ['packet', []],
    ],
  )
  const original = whole.outs[w]
  const rebuilt = split.outs[s]
  assert.ok(original?.kind === 'packet' && rebuilt?.kind === 'packet')
  assert.equal(toHex(rebuilt.packet.payload), toHex(original.packet.payload))
  assert.equal(rebuilt.packet.srcPort, original.packet.srcPort)
  assert.equal(rebuilt.packet.tcp?.seq, original.packet.tcp?.seq)
  assert.equal(rebuilt.packet.tunnelled, false)
  // The completed datagram carries the time of its last fragment.
  assert.equal(split.recs[s]?.tsUs, (whole.recs[w]?.tsUs ?? 0) + 2)
  // The TLS record length covers the whole hello: it really was spread over three fragments.
  const p = rebuilt.packet.payload
  assert.equal((((p[3] ?? 0) << 8) | (p[4] ?? 0)) + 5, p.length)
  assert.ok(p.length > 2 * 128)
})

test('fixture ipv4-fragmented-client-hello is what the generator makes from the source', async () => {
  const { makeFragmentedCapture, SOURCE, TARGET } =
    await import('../../../test/fixtures/make-ipv4-fragments.ts')
  const source = readFileSync(fileURLToPath(new URL(SOURCE, fixtures)))
  const stored = readFileSync(fileURLToPath(new URL(TARGET, fixtures)))
  assert.equal(toHex(makeFragmentedCapture(source)), toHex(stored))
})

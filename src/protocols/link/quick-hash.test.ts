import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { CaptureReader } from '../pcap/reader.ts'
import { PacketDecoder } from './decode.ts'
import { flowHash } from '../tcp/flows.ts'

const ROOT = join(import.meta.dirname, '../../..')
const corpus = join(process.env.TLSIGHT_CONFORMANCE_DIR ?? join(ROOT, '../shared/testdata'), 'pcap')

function captures(): string[] {
  const out = [
    join(ROOT, 'test/fixtures/pcap/real-clients.pcap'),
    join(ROOT, 'test/fixtures/pcap/ipv4-fragmented-client-hello.pcap'),
  ]
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n)
      if (statSync(p).isDirectory()) walk(p)
      else out.push(p)
    }
  }
  if (existsSync(corpus)) walk(corpus)
  return out
}

test('quickFlowHash agrees with the full decoder wherever it answers', () => {
  let quick = 0
  let total = 0
  for (const file of captures()) {
    const viaQuick = new PacketDecoder()
    const full = new PacketDecoder()
    const reader = new CaptureReader((rec) => {
      total++
      const h = viaQuick.quickFlowHash(rec)
      const out = full.decode(rec)
      if (h < 0) return
      quick++
      assert.equal(out.kind, 'packet', file)
      if (out.kind !== 'packet') return
      assert.deepEqual([...out.anomalies], [], file)
      const p = out.packet
      assert.equal(h, flowHash(p.srcIp, p.srcPort, p.dstIp, p.dstPort), file)
    })
    reader.push(readFileSync(file))
    reader.end()
  }
  // Most corpus packets are plain Ethernet/IPv4, so the fast path must actually be taken.
  assert.ok(quick > total / 3, `${quick} of ${total} packets took the fast path`)
})

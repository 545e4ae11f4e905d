/** Session resumption on real traffic: the recorded openssl PSK resumption (test/fixtures). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { collectFile, tlsEvents } from '../src/pipeline/collect.ts'

const FIXTURES = join(import.meta.dirname, 'fixtures')

test('a resumed TLS 1.3 hello reports psk, and ja4_stable matches its fresh hello', async () => {
  const expected = JSON.parse(
    readFileSync(join(FIXTURES, 'expected/real-clients.json'), 'utf8'),
  ) as {
    flows: { label: string; client: string }[]
  }
  const client = (label: string): string => {
    const f = expected.flows.find((x) => x.label === label)
    assert.ok(f, label)
    return f.client
  }
  const events = tlsEvents((await collectFile(join(FIXTURES, 'pcap/real-clients.pcap'))).events)
  const byClient = (c: string) => events.find((e) => `${e.src_ip}:${e.src_port}` === c)
  const fresh = byClient(client('openssl-tls1_3-sni'))
  const resumed = byClient(client('openssl-tls1_3-sni-resumed'))
  assert.ok(fresh && resumed)
  assert.deepEqual(fresh.resumption, [])
  assert.deepEqual(resumed.resumption, ['psk'])
  assert.notEqual(resumed.ja4, fresh.ja4)
  assert.equal(resumed.ja4_stable, fresh.ja4_stable)
  assert.equal(fresh.ja4_stable, fresh.ja4)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fromHex } from '../../bytes/hex.ts'
import { parseCertificate, type Certificate } from '../../protocols/x509/certificate.ts'
import { makeTestCertificates, toolSkip } from '../../protocols/x509/test-helpers/openssl.ts'
import { hash12 } from '../hash.ts'
import { ja4x } from './ja4x.ts'

const sha12 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 12)

function parsed(der: Uint8Array): Certificate {
  const r = parseCertificate(der)
  assert.ok(r.ok)
  return r.value
}

test('FINGERPRINTS.md §6 worked value: hash12("551d0f,551d25,551d11")', () => {
  assert.equal(hash12('551d0f,551d25,551d11'), 'aae71e8db6d7')
})

test('openssl-made leaf and v1 certificates', { skip: toolSkip('openssl', 'openssl') }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-ja4x-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const certs = makeTestCertificates(dir)
  // The subjects, issuers and extensions the helper asked openssl for, in DER order.
  const issuer = '550406,55040a,550403'
  const subject = '550406,550408,550407,55040a,55040b,550403'
  const exts = '551d13,551d0f,551d25,551d11,551d0e,551d23'
  assert.deepEqual(ja4x(parsed(certs.leaf.der)), {
    ja4x: `${sha12(issuer)}_${sha12(subject)}_${sha12(exts)}`,
    ja4x_r: `${issuer}_${subject}_${exts}`,
  })
  // Version 1: no extensions, so c is the empty-list value (FINGERPRINTS.md §0).
  assert.deepEqual(ja4x(parsed(certs.v1.der)), {
    ja4x: `${sha12('550403')}_${sha12('550403')}_000000000000`,
    ja4x_r: '550403_550403_',
  })
})

test('empty issuer and subject give zeros, never the hash of ""', () => {
  // A hand-built certificate with empty Names and no extensions.
  const tlv = (tag: string, body: string): string =>
    tag + (body.length / 2).toString(16).padStart(2, '0') + body
  const alg = tlv('30', tlv('06', '2a8648ce3d040302'))
  const validity = tlv('30', tlv('17', '3234303133313132303030305a').repeat(2))
  const spki = tlv('30', tlv('30', tlv('06', '2a8648ce3d0201')) + tlv('03', '0000'))
  const tbs = tlv('30', tlv('02', '01') + alg + '3000' + validity + '3000' + spki)
  const c = parsed(fromHex(tlv('30', tbs + alg + tlv('03', '00'))))
  assert.deepEqual(ja4x(c), { ja4x: '000000000000_000000000000_000000000000', ja4x_r: '__' })
})

// --- Shared corpus: every certificate tshark shows in the clear ---------------------------------

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const corpusDir = resolve(
  process.env.TLSIGHT_CONFORMANCE_DIR ?? join(repoRoot, '../shared/testdata'),
)
const expectedDir = join(corpusDir, 'expected')

interface ExpectedFlow {
  client: string
  server: string
  ja4x?: string[]
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name)
      return statSync(p).isDirectory() ? walk(p) : [p]
    })
}

function endpoint(v4: string, v6: string, port: string): string {
  return v4 !== '' ? `${v4}:${port}` : `[${v6}]:${port}`
}

/** An unordered pair key, so certificates from either side land on the same flow. */
const pairKey = (a: string, b: string): string => (a < b ? `${a} ${b}` : `${b} ${a}`)

/**
 * JA4X of every certificate of every Certificate message tshark decodes, per TCP connection, in
 * capture order. tshark reassembles TCP and TLS records; TLS 1.3 certificates are encrypted and
 * absent, as they are from the expectations.
 */
function ja4xByFlow(pcap: string): Map<string, string[]> {
  const fields = ['ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport']
  const args = ['-r', pcap, '-n', '-Y', 'tls.handshake.certificate', '-T', 'fields']
  args.push('-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,')
  for (const f of [...fields, 'tls.handshake.certificate']) args.push('-e', f)
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28 })
  assert.equal(r.status, 0, r.stderr)
  const out = new Map<string, string[]>()
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue
    const [s4 = '', s6 = '', sp = '', d4 = '', d6 = '', dp = '', certs = ''] = line.split('\t')
    const key = pairKey(endpoint(s4, s6, sp), endpoint(d4, d6, dp))
    const list = out.get(key) ?? []
    for (const hex of certs.split(',')) {
      const c = parseCertificate(fromHex(hex))
      list.push(c.ok ? ja4x(c.value).ja4x : `unparsed: ${c.error.context}`)
    }
    out.set(key, list)
  }
  return out
}

// All 16 captures with JA4X expectations are checked: TLS ≤ 1.2 over TCP (plain, SOCKS, SMTP
// STARTTLS, IPv6), whose certificates tshark 4.0 and 4.4 both decode; the expected lists hold the
// server chains only, in capture order.
if (!existsSync(expectedDir)) {
  test(
    'JA4X corpus',
    { skip: `no corpus at ${expectedDir} (set TLSIGHT_CONFORMANCE_DIR)` },
    () => {},
  )
} else {
  const skip = toolSkip('tshark', 'tshark')
  const files = walk(expectedDir).filter((f) => f.endsWith('.json'))
  for (const file of files) {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { pcap: string; flows: ExpectedFlow[] }
    const flows = data.flows.filter((f) => f.ja4x !== undefined)
    if (flows.length === 0) continue
    test(`JA4X corpus ${relative(expectedDir, file)}`, { skip }, () => {
      const got = ja4xByFlow(join(corpusDir, data.pcap))
      for (const f of flows) {
        assert.deepEqual(
          got.get(pairKey(f.client, f.server)) ?? [],
          f.ja4x,
          `${f.client} ${f.server}`,
        )
      }
    })
  }
}

import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { AppError, errorCode } from '../errors.ts'
import { allOf, requireRoot, requireTool } from '../../test/helpers/tools.ts'
import {
  classifyTcpdumpError,
  parseTcpdumpStats,
  spawnTcpdump,
  tcpdumpArgs,
  type KernelStats,
} from './tcpdump.ts'

test('tcpdump statistics: the SIGUSR1 line and the exit report', () => {
  assert.deepEqual(
    parseTcpdumpStats(
      'tcpdump: 2 packets captured, 4 packets received by filter, 0 packets dropped by kernel',
    ),
    { captured: 2, receivedByFilter: 4, droppedByKernel: 0 },
  )
  assert.deepEqual(
    parseTcpdumpStats(
      '1 packet captured\n1 packet received by filter\n7 packets dropped by kernel\n' +
        '3 packets dropped by interface\n',
    ),
    { captured: 1, receivedByFilter: 1, droppedByKernel: 7, droppedByInterface: 3 },
  )
  assert.deepEqual(parseTcpdumpStats('tcpdump: listening on lo'), {})
})

test('tcpdump errors are classified by what it printed', () => {
  const cases: [string, string][] = [
    [
      "tcpdump: eth0: You don't have permission to perform this capture on that device\n" +
        '(socket: Operation not permitted)',
      'E_CAPTURE_PERMISSION',
    ],
    ['tcpdump: nosuch0: No such device exists\n(No such device exists)', 'E_CAPTURE_INTERFACE'],
    ["tcpdump: can't parse filter expression: syntax error", 'E_CAPTURE_FILTER'],
    ['tcpdump: something else', 'E_CAPTURE_FAILED'],
  ]
  for (const [stderr, code] of cases) {
    assert.equal(classifyTcpdumpError(stderr, 'tcpdump', 'eth0').code, code, stderr)
  }
  assert.match(classifyTcpdumpError(cases[0]![0], 'tcpdump', 'eth0').message, /setcap cap_net_raw/)
})

test('tcpdump arguments', () => {
  assert.deepEqual(tcpdumpArgs({ iface: 'eth0', filter: 'tcp', bufferSizeKiB: 8192 }), [
    '-i', 'eth0', '-U', '-w', '-', '--immediate-mode', '-s', '0', '-n', '-B', '8192', 'tcp',
  ]) // prettier-ignore
})

test('a missing tcpdump is E_CAPTURE_TOOL_MISSING naming the Debian package', async () => {
  await assert.rejects(
    spawnTcpdump({ iface: 'lo', filter: 'tcp', path: '/nonexistent/bin/tcpdump' }),
    (e) => {
      assert.ok(e instanceof AppError)
      assert.equal(e.code, 'E_CAPTURE_TOOL_MISSING')
      assert.match(e.message, /Debian package "tcpdump"/)
      assert.match(e.message, /apt-get install tcpdump/)
      return true
    },
  )
})

const live = (): ReturnType<typeof allOf> =>
  allOf(requireRoot('capturing with tcpdump'), requireTool('tcpdump', 'tcpdump'))

test('an unknown interface is E_CAPTURE_INTERFACE', async (t) => {
  const req = live()
  if (!req.ok) return t.skip(req.skip)
  await assert.rejects(spawnTcpdump({ iface: 'tlsight-nope0', filter: 'tcp' }), (e) => {
    assert.equal(errorCode(e), 'E_CAPTURE_INTERFACE')
    assert.match(String(e), /tlsight-nope0/)
    return true
  })
})

test('a bad filter is E_CAPTURE_FILTER', async (t) => {
  const req = live()
  if (!req.ok) return t.skip(req.skip)
  await assert.rejects(
    spawnTcpdump({ iface: 'lo', filter: 'tcp port' }),
    (e) => errorCode(e) === 'E_CAPTURE_FILTER',
  )
})

test('tcpdump without the privilege is E_CAPTURE_PERMISSION with the setcap hint', async (t) => {
  const req = allOf(live(), requireTool('setpriv', 'util-linux'))
  if (!req.ok) return t.skip(req.skip)
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-tcpdump-'))
  try {
    // The real tcpdump, run as `nobody` with no capabilities.
    const wrapper = join(dir, 'tcpdump-unprivileged')
    writeFileSync(
      wrapper,
      '#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all ' +
        'tcpdump "$@"\n',
    )
    chmodSync(wrapper, 0o755)
    await assert.rejects(spawnTcpdump({ iface: 'lo', filter: 'tcp', path: wrapper }), (e) => {
      assert.equal(errorCode(e), 'E_CAPTURE_PERMISSION')
      assert.match(String(e), /setcap cap_net_raw,cap_net_admin=eip/)
      return true
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a running tcpdump reports its counters on request and at exit', async (t) => {
  const req = live()
  if (!req.ok) return t.skip(req.skip)
  const p = await spawnTcpdump({ iface: 'lo', filter: 'tcp port 9', statsIntervalMs: 50 })
  let bytes = 0
  p.stdout.on('data', (b: Buffer) => (bytes += b.length))
  const before: KernelStats = { ...p.stats() }
  assert.equal(before.captured, -1, 'nothing reported yet')
  const deadline = Date.now() + 5_000
  while (p.stats().captured < 0 && Date.now() < deadline) await sleep(20)
  assert.ok(p.stats().captured >= 0, 'SIGUSR1 report parsed')
  const final = await p.stop()
  assert.equal(final.droppedByKernel, 0)
  assert.equal(final.droppedByInterface, 0)
  assert.ok(final.captured >= 0 && final.receivedByFilter >= 0)
  assert.equal(bytes, 24, 'the pcap file header, no packets')
})

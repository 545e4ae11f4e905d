import { test } from 'node:test'
import assert from 'node:assert/strict'
import { emptyStats } from '../pipeline/stats.ts'
import type { WriterStats } from '../store/writer.ts'
import {
  collectMetrics,
  escapeLabelValue,
  formatValue,
  Histogram,
  renderPrometheus,
  RequestMetrics,
  type MetricsSource,
} from './metrics.ts'
import { parsePrometheus, sampleValue } from './test-helpers/prometheus.ts'

const writer: WriterStats = {
  acknowledged: 10,
  inserted: 7,
  spooled: 3,
  replayed: 2,
  failed: 1,
  rejected: 4,
  pending: 5,
  spool_bytes: 4096,
  store_available: false,
}

test('label values escape backslash, double quote and line feed; HELP escapes \\ and \\n', () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd')
  const text = renderPrometheus([
    {
      name: 'x_total',
      help: 'two\nlines \\ here',
      type: 'counter',
      samples: [{ labels: { source: 'we"ird\\\nname' }, value: 1 }],
    },
  ])
  assert.equal(
    text,
    '# HELP x_total two\\nlines \\\\ here\n' +
      '# TYPE x_total counter\n' +
      'x_total{source="we\\"ird\\\\\\nname"} 1\n',
  )
  const parsed = parsePrometheus(text)
  assert.equal(parsed.get('x_total')?.help, 'two\nlines \\ here')
  assert.equal(sampleValue(parsed, 'x_total', { source: 'we"ird\\\nname' }), 1)
})

test('values: integers, floats, +Inf, -Inf, NaN', () => {
  assert.deepEqual([0, 1.5, 1e-7, Infinity, -Infinity, NaN].map(formatValue), [
    '0',
    '1.5',
    '1e-7',
    '+Inf',
    '-Inf',
    'NaN',
  ])
})

test('a histogram renders cumulative buckets ending in +Inf, then _sum and _count', () => {
  const h = new Histogram([0.1, 1])
  for (const v of [0.05, 0.5, 0.7, 3]) h.observe(v)
  const text = renderPrometheus([
    { name: 'lat_seconds', help: 'h', type: 'histogram', samples: [{ value: h.snapshot() }] },
  ])
  assert.equal(
    text,
    [
      '# HELP lat_seconds h',
      '# TYPE lat_seconds histogram',
      'lat_seconds_bucket{le="0.1"} 1',
      'lat_seconds_bucket{le="1"} 3',
      'lat_seconds_bucket{le="+Inf"} 4',
      'lat_seconds_sum 4.25',
      'lat_seconds_count 4',
      '',
    ].join('\n'),
  )
  parsePrometheus(text)
})

test('bad metric or label names are refused, as are repeated families', () => {
  const bad =
    (name: string, labels: Record<string, string> = {}) =>
    () =>
      renderPrometheus([{ name, help: '', type: 'gauge', samples: [{ labels, value: 1 }] }])
  assert.throws(bad('1abc'), { code: 'E_INVALID_ARGUMENT' })
  assert.throws(bad('a-b'), { code: 'E_INVALID_ARGUMENT' })
  assert.throws(bad('ok', { 'bad-label': 'x' }), { code: 'E_INVALID_ARGUMENT' })
  assert.throws(bad('ok', { __reserved: 'x' }), { code: 'E_INVALID_ARGUMENT' })
  assert.throws(
    () =>
      renderPrometheus([
        { name: 'a', help: '', type: 'gauge', samples: [] },
        { name: 'a', help: '', type: 'gauge', samples: [] },
      ]),
    { code: 'E_INVALID_ARGUMENT' },
  )
  assert.throws(() => new Histogram([1, 1]), { code: 'E_INVALID_ARGUMENT' })
})

test('collectMetrics names every counter of the sources, writer, correlator and capture', () => {
  const latency = new Histogram()
  latency.observe(0.02)
  const capture = emptyStats()
  capture.packets = 100
  capture.flowsEvicted = 2
  capture.anomalies['tls.duplicate_extension'] = 3
  const source: MetricsSource = {
    sources: () => ({
      udp: { received: 12, accepted: 9, dropped: { bad_json: 2, untrusted: 1 } },
      ingest: { received: 4, accepted: 4, dropped: { bad_json: 0 } },
    }),
    writer: () => writer,
    batchLatency: () => latency.snapshot(),
    correlator: () => ({
      handshakes: 5,
      requests: 6,
      sessions: 4,
      unmatched: 2,
      evictedRequests: 0,
      evictedHandshakes: 1,
      noPort: 0,
    }),
    capture: () => capture,
  }
  const requests = new RequestMetrics()
  requests.observe('/api/v1/fingerprints/:fp', 'GET', 200, 0.003)
  requests.observe('/api/v1/fingerprints/:fp', 'GET', 404, 0.001)
  const m = parsePrometheus(renderPrometheus(collectMetrics(source, requests.families())))
  const v = (name: string, labels?: Record<string, string>, family?: string) =>
    sampleValue(m, name, labels, family)
  assert.equal(v('tlsight_source_received_events_total', { source: 'udp' }), 12)
  assert.equal(v('tlsight_source_accepted_events_total', { source: 'ingest' }), 4)
  assert.equal(v('tlsight_source_dropped_events_total', { source: 'udp', reason: 'untrusted' }), 1)
  assert.equal(v('tlsight_store_events_total', { outcome: 'rejected' }), 4)
  assert.equal(v('tlsight_store_spool_bytes'), 4096)
  assert.equal(v('tlsight_store_pending_events'), 5)
  assert.equal(v('tlsight_store_available'), 0)
  assert.equal(
    v('tlsight_store_batch_latency_seconds_count', {}, 'tlsight_store_batch_latency_seconds'),
    1,
  )
  assert.equal(v('tlsight_correlator_sessions_total'), 4)
  assert.equal(v('tlsight_correlator_evicted_handshakes_total'), 1)
  assert.equal(v('tlsight_capture_packets_total'), 100)
  assert.equal(v('tlsight_capture_flows_evicted_total'), 2)
  assert.equal(v('tlsight_capture_anomalies_total', { code: 'tls.duplicate_extension' }), 3)
  assert.equal(
    v('tlsight_api_requests_total', { route: '/api/v1/fingerprints/:fp', status: '404' }),
    1,
  )
  for (const f of m.values()) {
    assert.ok(f.help !== undefined && f.help !== '', `${f.name} has HELP`)
    if (f.type === 'counter') assert.match(f.name, /_total$/)
    assert.match(f.name, /^tlsight_/)
  }
})

test('the optional parts are left out when the process does not run them', () => {
  const m = parsePrometheus(
    renderPrometheus(collectMetrics({ sources: () => ({}), writer: () => writer })),
  )
  assert.ok(m.has('tlsight_store_spool_bytes'))
  assert.ok(!m.has('tlsight_correlator_sessions_total'))
  assert.ok(!m.has('tlsight_capture_packets_total'))
  assert.ok(!m.has('tlsight_store_batch_latency_seconds'))
})

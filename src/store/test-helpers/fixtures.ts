/** Events, configs and a fault-injecting connection for the store's tests. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isoFromUs } from '../../events/time.ts'
import type { HttpEvent } from '../../events/http.ts'
import type { SessionEvent } from '../../events/session.ts'
import { storeConfigFromEnv, type StoreConfig } from '../config.ts'
import type { InsertOptions, QueryParams, StoreConnection } from '../connection.ts'
import type { StoredTlsEvent } from '../schema.ts'

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tlsight-${prefix}-`))
}

/** A config over a fresh data dir; `dbSuffix` gives each test its own databases. */
export function testConfig(
  dataDir: string,
  dbSuffix: string,
  env: NodeJS.ProcessEnv = {},
): StoreConfig {
  return storeConfigFromEnv({
    TLSIGHT_DATA_DIR: dataDir,
    CLICKHOUSE_DB_LOGS: `logs_${dbSuffix}`,
    CLICKHOUSE_DB_PROCESSING: `proc_${dbSuffix}`,
    NODE_NAME: 'sensor-test',
    TLSIGHT_STORE__RETRY_MIN_MS: '10',
    TLSIGHT_STORE__RETRY_MAX_MS: '50',
    ...env,
  })
}

/** Microseconds now, minus `agoS` seconds (rows must be newer than the retention TTL). */
export function nowUs(agoS = 0): number {
  return Math.floor(Date.now() * 1000) - Math.round(agoS * 1e6)
}

export function tlsEvent(i: number, over: Partial<StoredTlsEvent> = {}): StoredTlsEvent {
  return {
    type: 'tls',
    ts: isoFromUs(nowUs(60) + i),
    src_ip: `192.0.2.${i % 250}`,
    src_port: 10_000 + (i % 50_000),
    dst_ip: '198.51.100.7',
    dst_port: 443,
    transport: 'tcp',
    hello_index: 1,
    sni: 'example.com',
    alpn: ['h2', 'http/1.1'],
    tls_version: '1.3',
    tls_version_negotiated: '1.3',
    ja3: '0123456789abcdef0123456789abcdef',
    ja3_str: '771,4865-4866,0-10-11,29-23,0',
    ja4: 't13d1516h2_8daaf6152771_e5627efa2ab1',
    ja4_r: 't13d1516h2_002f,0035_0005,000a',
    ja4_o: 't13d1516h2_acb858a92679_0ac8d1ed8d3a',
    ja4_ro: 't13d1516h2_1301,1302_0000,0005',
    ja4_stable: 't13d1513h2_8daaf6152771_aaaaaaaaaaaa',
    resumption: ['session_ticket'],
    ja3s: 'fedcba9876543210fedcba9876543210',
    ja3s_str: '771,4865,43-51',
    ja4s: 't130200_1301_234ea6891581',
    ja4s_r: 't130200_1301_002b,0033',
    ja4t: '64240_2-1-3-1-1-4_1460_8',
    ja4ts: '65160_2-4-8-1-3_1460_7',
    ja4l_c: '2500_64',
    ja4l_s: '1200_128',
    anomalies: [],
    sensor: 'sensor-a',
    tft: '0123456789abcdef',
    tft_stable: 'fedcba9876543210',
    cf_ciphers_sha1: 'a'.repeat(40),
    cf_extensions_sha1: 'b'.repeat(40),
    hello_length: 512,
    certs: [
      {
        role: 'server',
        index: 0,
        subject: 'CN=example.com,O=Ex\\, Inc.',
        subject_cn: 'example.com',
        issuer: 'CN=Example CA',
        issuer_cn: 'Example CA',
        sans: ['example.com', 'www.example.com'],
        not_before: '2024-01-01T00:00:00Z',
        not_after: '9999-12-31T23:59:59Z',
        serial: '0a1b2c',
        sha256: 'c'.repeat(64),
        self_signed: false,
        ja4x: 'a373a9f83c6b_2bab15409345_7bf9a7bf7029',
        ja4x_r: null,
        anomalies: ['x509.example'],
      },
      {
        role: 'server',
        index: 1,
        subject: 'CN=Example CA',
        subject_cn: null,
        issuer: 'CN=Example CA',
        issuer_cn: null,
        sans: [],
        not_before: null,
        not_after: null,
        serial: '01',
        sha256: 'd'.repeat(64),
        self_signed: true,
        ja4x: null,
        ja4x_r: null,
        anomalies: [],
      },
    ],
    ...over,
  }
}

export function httpEvent(i: number, over: Partial<HttpEvent> = {}): HttpEvent {
  return {
    type: 'http',
    ts: isoFromUs(nowUs(60) + i),
    sensor: 'collector-1',
    source: 'nginx',
    src_ip: `203.0.113.${i % 250}`,
    src_port: 40_000 + (i % 20_000),
    dst_ip: null,
    dst_port: 443,
    host: 'shop.example',
    method: 'GET',
    path: `/item/${i}?q=1`,
    status: 200,
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
    request_time_ms: 12.5,
    ja4h: 'ge11cn060000_4e59edc1297a_000000000000_000000000000',
    ja4h_r: null,
    ja4h_ro: null,
    tfh: 'tfh-1',
    ja3: null,
    ja4: null,
    cf_ciphers_sha1: null,
    cf_extensions_sha1: null,
    hello_length: null,
    tls_version: null,
    sni: null,
    ...over,
  }
}

export function sessionEvent(i: number, over: Partial<SessionEvent> = {}): SessionEvent {
  const { type: _t, ...tls } = tlsEvent(i)
  const {
    type: _h,
    ts: _ts,
    sensor: _s,
    src_ip: _ip,
    src_port: _p,
    dst_ip: _d,
    dst_port: _dp,
    ...http
  } = httpEvent(i)
  return {
    ...tls,
    source: http.source,
    host: http.host,
    method: http.method,
    path: http.path,
    status: http.status,
    user_agent: 'curl/8.5.0',
    request_time_ms: http.request_time_ms,
    ja4h: http.ja4h,
    ja4h_r: http.ja4h_r,
    ja4h_ro: http.ja4h_ro,
    tfh: http.tfh,
    type: 'session',
    lag_ms: 3.25,
    join: 'ip_port',
    ...over,
  }
}

/**
 * A fault injector around the real store: `down` fails every call as an unreachable store
 * would, `refuse` fails inserts while pings still answer (a store refusing one batch). Records
 * the rows of every insert that reached the store, in order.
 */
export class FlakyConnection implements StoreConnection {
  readonly kind: 'embedded' | 'server'
  down = false
  refuse: ((table: string, rows: readonly Record<string, unknown>[]) => boolean) | null = null
  /** Rows (parsed) of each insert that reached the store, in order. */
  readonly inserted: { table: string; rows: Record<string, unknown>[]; token: string }[] = []
  readonly #real: StoreConnection

  constructor(real: StoreConnection) {
    this.#real = real
    this.kind = real.kind
  }

  query<T>(sql: string, params?: QueryParams): Promise<T[]> {
    if (this.down) return Promise.reject(new Error('injected: store unreachable'))
    return this.#real.query<T>(sql, params)
  }

  command(sql: string, params?: QueryParams): Promise<void> {
    if (this.down) return Promise.reject(new Error('injected: store unreachable'))
    return this.#real.command(sql, params)
  }

  async insert(table: string, body: Buffer, options: InsertOptions): Promise<void> {
    if (this.down) throw new Error('injected: store unreachable')
    const parsed = bodyRows(body)
    if (this.refuse?.(table, parsed) === true) throw new Error('injected: insert refused')
    await this.#real.insert(table, body, options)
    this.inserted.push({ table, rows: parsed, token: options.dedup_token })
  }

  async ping(): Promise<boolean> {
    return this.down ? false : this.#real.ping()
  }

  close(): Promise<void> {
    return this.#real.close()
  }
}

/** The rows of a JSONEachRow body. */
export function bodyRows(body: Buffer): Record<string, unknown>[] {
  return body
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const v: unknown = JSON.parse(l)
      if (typeof v !== 'object' || v === null) throw new Error('a row is a JSON object')
      return Object.fromEntries(Object.entries(v))
    })
}

/** A JSONEachRow body of `rows`. */
export function body(rows: readonly object[]): Buffer {
  return Buffer.from(rows.map((r) => JSON.stringify(r) + '\n').join(''))
}

/** Polls `cond` every 10 ms until true, failing after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

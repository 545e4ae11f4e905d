/**
 * @module serve/serve
 * `tlsight serve`: log sources (and optionally a live capture) → correlator → store, with the
 * REST API, in one process. Every event is stored as it arrives; the correlator adds a `session`
 * event for each request it joins with a handshake. Shutdown (SIGINT/SIGTERM) stops the inputs
 * first, then flushes the correlator and the store.
 */
import { pino, type Logger } from 'pino'
import type { CaptureEvent } from '../events/capture.ts'
import type { HttpEvent } from '../events/http.ts'
import type { TlsEvent } from '../events/tls.ts'
import { apiPort, loadSettings, logLevel } from '../config/config.ts'
import { openStore, type Store, type StoreConnection } from '../store/index.ts'
import { storeConfigFromEnv } from '../store/config.ts'
import {
  Correlator,
  DEFAULT_CORRELATION_SETTLE_MS,
  DEFAULT_CORRELATION_SKEW_MS,
  DEFAULT_CORRELATION_WINDOW_MS,
} from '../correlator/correlator.ts'
import { sourcesConfigFromEnv, startSources, type RunningSources } from '../sources/index.ts'
import { buildApi } from '../api/server.ts'
import { mysqlSinkConfigFromEnv, openMysqlSink } from '../store/mysql/index.ts'
import { AppError } from '../errors.ts'

/** How often the correlator decides what has settled. */
const CORRELATOR_TICK_MS = 100

export interface ServeOptions {
  env: NodeJS.ProcessEnv
  /** `--config FILE`; else TLSIGHT_CONFIG, else ./tlsight.yaml when present. */
  configPath?: string
  /** `--interface IFACE`: also capture live on this interface. */
  iface?: string
  /** Where logs go (default: pino to stdout at LOG_LEVEL). */
  logger?: Logger
  /** Bind address of the API (default all interfaces). */
  host?: string
  /** Wraps the store connection (a fault injector in durability tests). */
  wrapStoreConnection?: (c: StoreConnection) => StoreConnection
}

export interface Server {
  readonly port: number
  readonly sources: RunningSources
  readonly store: Store
  readonly correlator: Correlator
  close(): Promise<void>
}

function intSetting(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return dflt
  if (!/^\d+$/.test(raw))
    throw new AppError('E_CONFIG_INVALID', `${name}: not a whole number: ${raw}`)
  return Number(raw)
}

export async function startServe(o: ServeOptions): Promise<Server> {
  const { env, file } = loadSettings(o.env, o.configPath)
  const log = o.logger ?? pino({ level: logLevel(env), base: { app: 'tlsight' } })
  const port = apiPort(env)
  const store = await openStore(storeConfigFromEnv(env), {
    wrapConnection: o.wrapStoreConnection,
    // Startup waits for these; a rebuilding one takes about a minute per 10M stored events.
    onMigration: (m) => log.info({ migration: m.name }, 'applying a store migration'),
  })
  const writer = store.writer
  const closers: (() => Promise<unknown>)[] = [() => store.close()]
  const closeAll = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c()
      } catch (e) {
        log.error({ err: e }, 'shutdown step failed')
      }
    }
  }
  try {
    const capturing = o.iface !== undefined || (env.TLSIGHT_INTERFACE ?? '') !== ''
    const correlator = new Correlator({
      windowMs: intSetting(env, 'TLSIGHT_CORRELATION_WINDOW_MS', DEFAULT_CORRELATION_WINDOW_MS),
      skewMs: intSetting(env, 'TLSIGHT_CORRELATION_SKEW_MS', DEFAULT_CORRELATION_SKEW_MS),
      settleMs: intSetting(env, 'TLSIGHT_CORRELATION_SETTLE_MS', DEFAULT_CORRELATION_SETTLE_MS),
      // Without a capture, handshakes can only come from the log sources.
      awaitHandshakes: capturing,
      // A session is one more row; the request and the handshake are stored already.
      onSession: (s) => {
        writer.write(s).catch((e: unknown) => log.warn({ err: e }, 'session not stored'))
      },
    })
    const tick = setInterval(() => correlator.tick(), CORRELATOR_TICK_MS)
    tick.unref()
    closers.push(() => {
      clearInterval(tick)
      correlator.flush()
      return Promise.resolve()
    })
    // MySQL/MariaDB aggregates (DATABASE_URL): signalytics counts requests, so only `http`
    // events feed it (a handshake and its requests would otherwise count one client twice).
    const mysqlConfig = mysqlSinkConfigFromEnv(env)
    const mysql = mysqlConfig === null ? undefined : await openMysqlSink(mysqlConfig)
    if (mysql !== undefined) closers.push(() => mysql.close())
    // Stored first (the caller's acknowledgement waits for it), then offered for joining.
    const sink = (events: readonly (HttpEvent | TlsEvent)[]): Promise<void> => {
      const stored = writer.writeMany(events)
      const aggregated: Promise<void>[] = []
      for (const e of events) {
        if (e.type === 'tls') correlator.addTls(e)
        else {
          correlator.addHttp(e)
          if (mysql !== undefined) aggregated.push(mysql.write(e))
        }
      }
      if (aggregated.length === 0) return stored
      return Promise.all([stored, ...aggregated]).then(() => undefined)
    }
    const sourcesConfig = sourcesConfigFromEnv(env)
    const sources = await startSources(sourcesConfig, sink, log)
    closers.push(() => sources.close())
    if (capturing) {
      const { startCapture, captureSettingsFromEnv } = await import('../capture/capture.ts')
      const settings = captureSettingsFromEnv(env)
      const capture = await startCapture({
        ...settings,
        iface: o.iface ?? env.TLSIGHT_INTERFACE ?? 'any',
        bpf: (env.TLSIGHT_BPF ?? '') === '' ? undefined : env.TLSIGHT_BPF,
        // Every handshake must reach the correlator (a client's later connections carry its
        // later requests); dedup is for sensors that only forward events.
        dedupTtlSeconds: 0,
        onEvent: (e: CaptureEvent) => {
          // `tcp` events (connections without TLS) have no table; they stay in the capture's
          // counters.
          if (e.type === 'tcp') return
          sink([e]).catch((err: unknown) => log.warn({ err }, 'captured event not stored'))
        },
      })
      closers.push(() => capture.stop())
      log.info({ interface: o.iface, filter: capture.filter }, 'live capture started')
    }
    const api = buildApi({
      queries: store.queries,
      token: env.TLSIGHT_API_TOKEN,
      logger: log,
      metrics: {
        sources: () => sources.stats.snapshot().sources,
        writer: () => writer.stats,
        correlator: () => correlator.stats,
      },
      // The collector's ingest, with its own token (TLSIGHT_INGEST_TOKEN; unset: 403).
      ingest: (body) => sources.ingest(body),
      ingestToken: sourcesConfig.ingest_token ?? '',
      maxIngestBytes: sourcesConfig.max_ingest_bytes,
    })
    await api.listen({ port, host: o.host ?? '::' })
    closers.push(() => api.close())
    log.info(
      {
        port,
        config: file ?? null,
        data_dir: store.connection === undefined ? null : (env.TLSIGHT_DATA_DIR ?? './data'),
        udp: sources.addresses.udp?.port ?? null,
        tcp: sources.addresses.tcp?.port ?? null,
        unix: sources.addresses.unix ?? null,
      },
      'tlsight serve is up',
    )
    const address = api.server.address()
    return {
      port: typeof address === 'object' && address !== null ? address.port : port,
      sources,
      store,
      correlator,
      close: closeAll,
    }
  } catch (e) {
    await closeAll()
    throw e
  }
}

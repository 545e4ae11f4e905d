/**
 * @module store/mysql/sink
 * `MysqlSink`: folds `tls` and `http` events into per-batch aggregates and upserts them into the
 * signalytics tables, acknowledging each `write()` only once its batch is committed or durably
 * in the spool. The rules are the event writer's (`../writer.ts`): batches by size or interval;
 * while the server is unavailable every batch goes to the spool, and a replay loop applies the
 * spooled batches oldest first with backoff; new batches keep going to the spool until it is
 * empty; a spool left by an earlier run is replayed at start; `close()` flushes.
 *
 * NOTE: every batch carries an id, committed in the same transaction as its rows. A batch whose
 * commit acknowledgement was lost is spooled and replayed like any other; the server then
 * reports the id as applied and the replay changes nothing (no double count).
 *
 * Telemetry: typed messages on the `tlsight.mysql` diagnostics channel (no logger here).
 */
import { randomUUID } from 'node:crypto'
import { channel } from 'node:diagnostics_channel'
import { AppError } from '../../errors.ts'
import type { StoreEvent, StoreEventType } from '../schema.ts'
import { SpoolReplay } from '../replay.ts'
import { Spool, type SpooledBatch } from '../spool.ts'
import {
  classify,
  DailyAggregate,
  decodeRows,
  encodeRows,
  eventCount,
  type DailyRow,
  type IgnoreReason,
  type SinkEventType,
} from './batch.ts'
import type { MysqlSinkConfig } from './config.ts'
import { isConfigError, isTransient, type MysqlTarget } from './connection.ts'

/** A spooled batch the server refuses this many times while it answers pings is moved aside. */
export const MYSQL_MAX_BATCH_ATTEMPTS = 5
/** Applied batch ids older than the retention are deleted at most this often. */
export const MYSQL_PRUNE_INTERVAL_MS = 3_600_000

export type MysqlSinkTelemetry =
  | {
      name: 'MysqlBatchApplied'
      type: StoreEventType
      events: number
      rows: number
      replayed: boolean
      /** The batch id was applied before (a replay after a lost acknowledgement): no change. */
      duplicate: boolean
    }
  | { name: 'MysqlBatchSpooled'; type: StoreEventType; events: number; spool_bytes: number }
  | {
      name: 'MysqlApplyFailed'
      type: StoreEventType
      /** `denied`: the login or a privilege was refused (an operator must act). */
      error_type: 'unavailable' | 'refused' | 'conflict' | 'denied'
    }
  | { name: 'MysqlBatchRejected'; type: StoreEventType; events: number }
  | { name: 'MysqlWriteFailed'; events: number; code: string }
  | { name: 'MysqlEventsIgnored'; reason: IgnoreReason; events: number }
  /** The server did not answer at start; batches are spooled until it does. */
  | { name: 'MysqlUnavailableAtStart'; url: string }

export const MYSQL_CHANNEL = 'tlsight.mysql'
const telemetry = channel(MYSQL_CHANNEL)

/** Publishes on the sink's channel (`openMysqlSink` reports the start with it). */
export function emitMysqlTelemetry(m: MysqlSinkTelemetry): void {
  if (telemetry.hasSubscribers) telemetry.publish(m)
}

export type MysqlSinkSettings = Pick<
  MysqlSinkConfig,
  | 'batch_max_events'
  | 'flush_interval_ms'
  | 'max_pending_events'
  | 'retry_min_ms'
  | 'retry_max_ms'
  | 'applied_batches_retention_days'
>

export interface MysqlSinkStats {
  /** Events whose `write()` resolved: applied directly or spooled. */
  acknowledged: number
  /** Events committed directly. */
  applied: number
  spooled: number
  /** Events of spooled batches committed by the replay (duplicates included). */
  replayed: number
  /** Events of replayed batches the server had already applied (not counted again). */
  duplicate: number
  /** Events whose `write()` rejected (spool full or spool I/O). */
  failed: number
  /** Events moved to `<spool>/rejected/` because the server refused their batch. */
  rejected: number
  /** Events not counted, by reason (resolved at once, never stored). */
  ignored: Record<IgnoreReason, number>
  /** Accepted events not yet acknowledged. */
  pending: number
  spool_bytes: number
  /** False from a failed apply until the spool is replayed. */
  available: boolean
}

interface Waiter {
  resolve: () => void
  reject: (e: unknown) => void
}

interface Pending {
  agg: DailyAggregate
  waiters: Waiter[]
}

interface Batch {
  id: string
  type: SinkEventType
  rows: DailyRow[]
  events: number
  waiters: Waiter[]
}

export class MysqlSink {
  readonly #target: MysqlTarget
  readonly #config: MysqlSinkSettings
  readonly #spool: Spool
  readonly #pending = new Map<SinkEventType, Pending>()
  #pendingCount = 0
  #unacked = 0
  #timer: NodeJS.Timeout | null = null
  /** Deliveries run one at a time, in flush order. */
  #chain: Promise<void> = Promise.resolve()
  #down = false
  #schemaReady = false
  readonly #replay: SpoolReplay
  #closing = false
  #closed: Promise<void> | null = null
  #lastPrune = 0
  #pruning: Promise<unknown> = Promise.resolve()
  readonly #ignoredSinceFlush: Record<IgnoreReason, number> = {
    no_fingerprint: 0,
    invalid: 0,
    other_type: 0,
  }
  readonly #stats = {
    acknowledged: 0,
    applied: 0,
    spooled: 0,
    replayed: 0,
    duplicate: 0,
    failed: 0,
    rejected: 0,
  }
  readonly #ignored: Record<IgnoreReason, number> = { no_fingerprint: 0, invalid: 0, other_type: 0 }

  /**
   * The sink owns `target` and `spool` from here on (`close()` closes both). A non-empty spool
   * is replayed before anything new goes to the server.
   */
  constructor(options: { target: MysqlTarget; config: MysqlSinkSettings; spool: Spool }) {
    this.#target = options.target
    this.#config = options.config
    this.#spool = options.spool
    this.#replay = new SpoolReplay(
      this.#spool,
      { ...this.#config, max_attempts: MYSQL_MAX_BATCH_ATTEMPTS, target_name: 'MySQL server' },
      {
        apply: (batch) => this.#replayBatch(batch),
        refused: (batch, e) => this.#refused(batch, e),
        setAside: (batch, why) => {
          // A foreign or damaged file holds no rows this sink can count.
          const events = why === 'foreign' ? 0 : eventCount(decodeRows(batch.body) ?? [])
          this.#stats.rejected += events
          emitMysqlTelemetry({ name: 'MysqlBatchRejected', type: batch.type, events })
        },
        drained: () => {
          this.#down = false
        },
      },
    )
    if (!this.#spool.isEmpty) {
      this.#down = true
      this.#replay.kick()
    }
  }

  /**
   * Resolves once the event's batch is committed or fsynced to the spool, at once for an event
   * that does not count (no Cloudflare fields, values out of the columns' range, a `session`).
   * Rejects with E_STORE_BACKPRESSURE, E_WRITER_CLOSED, E_SPOOL_FULL or E_SPOOL_IO.
   */
  write(event: StoreEvent): Promise<void> {
    if (this.#closing)
      return Promise.reject(new AppError('E_WRITER_CLOSED', 'the MySQL sink is closed'))
    const c = classify(event)
    if (!c.ok) {
      this.#ignored[c.reason]++
      this.#ignoredSinceFlush[c.reason]++
      this.#armTimer()
      return Promise.resolve()
    }
    if (this.#unacked >= this.#config.max_pending_events)
      return Promise.reject(
        new AppError(
          'E_STORE_BACKPRESSURE',
          `${this.#unacked} events wait for MySQL (max_pending_events ${this.#config.max_pending_events})`,
        ),
      )
    return new Promise<void>((resolve, reject) => {
      let p = this.#pending.get(c.type)
      if (p === undefined) {
        p = { agg: new DailyAggregate(), waiters: [] }
        this.#pending.set(c.type, p)
      }
      p.agg.add(c.key, c.row)
      p.waiters.push({ resolve, reject })
      this.#pendingCount++
      this.#unacked++
      if (this.#pendingCount >= this.#config.batch_max_events) void this.flush()
      else this.#armTimer()
    })
  }

  /** Sends what is pending now; resolves when it is committed or spooled (never rejects). */
  flush(): Promise<void> {
    if (this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
    for (const [reason, n] of Object.entries(this.#ignoredSinceFlush)) {
      if (n === 0 || !isIgnoreReason(reason)) continue
      emitMysqlTelemetry({ name: 'MysqlEventsIgnored', reason, events: n })
      this.#ignoredSinceFlush[reason] = 0
    }
    const batches: Batch[] = []
    for (const [type, p] of this.#pending)
      batches.push({
        id: randomUUID(),
        type,
        rows: p.agg.rows(),
        events: p.agg.events,
        waiters: p.waiters,
      })
    this.#pending.clear()
    this.#pendingCount = 0
    const run = this.#chain.then(async () => {
      for (const b of batches) await this.#deliver(b)
    })
    this.#chain = run
    return run
  }

  /** Flushes everything pending, stops the replay loop, releases the spool and the server. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true
      try {
        // Stopped first: what the flush spools stays for the next start.
        const replayStopped = this.#replay.stop()
        await this.flush()
        await replayStopped
        await this.#pruning
        await this.#spool.close()
      } finally {
        await this.#target.close()
      }
    })()
    return this.#closed
  }

  get stats(): MysqlSinkStats {
    return {
      ...this.#stats,
      ignored: { ...this.#ignored },
      pending: this.#unacked,
      spool_bytes: this.#spool.bytes,
      available: !this.#down,
    }
  }

  #armTimer(): void {
    if (this.#timer === null)
      this.#timer = setTimeout(() => void this.flush(), this.#config.flush_interval_ms)
  }

  async #apply(id: string, rows: readonly DailyRow[], events: number) {
    if (!this.#schemaReady) {
      await this.#target.ensureSchema()
      this.#schemaReady = true
    }
    const result = await this.#target.apply({ id, rows, events })
    this.#maybePrune()
    return result
  }

  async #deliver(batch: Batch): Promise<void> {
    const { events } = batch
    try {
      if (!this.#down && this.#spool.isEmpty) {
        try {
          const r = await this.#apply(batch.id, batch.rows, events)
          this.#stats.applied += events
          this.#settle(batch, null)
          emitMysqlTelemetry({
            name: 'MysqlBatchApplied',
            type: batch.type,
            events,
            rows: batch.rows.length,
            replayed: false,
            duplicate: r === 'duplicate',
          })
          return
        } catch (e) {
          // Whatever failed (down, lock conflict, lost acknowledgement), the spool keeps the
          // batch and the replay sorts it out.
          this.#down = true
          emitMysqlTelemetry({
            name: 'MysqlApplyFailed',
            type: batch.type,
            error_type: isTransient(e) ? 'conflict' : isConfigError(e) ? 'denied' : 'unavailable',
          })
        }
      }
      const spooled: SpooledBatch = {
        id: batch.id,
        type: batch.type,
        rows: batch.rows.length,
        body: encodeRows(batch.rows),
      }
      await this.#spool.append(spooled)
      this.#stats.spooled += events
      this.#settle(batch, null)
      emitMysqlTelemetry({
        name: 'MysqlBatchSpooled',
        type: batch.type,
        events,
        spool_bytes: this.#spool.bytes,
      })
      this.#replay.kick()
    } catch (e) {
      this.#settle(batch, e)
      emitMysqlTelemetry({
        name: 'MysqlWriteFailed',
        events,
        code: e instanceof AppError ? e.code : 'E_SPOOL_IO',
      })
    }
  }

  #settle(batch: Batch, error: unknown): void {
    const n = batch.events
    this.#unacked -= n
    if (error === null) {
      this.#stats.acknowledged += n
      for (const w of batch.waiters) w.resolve()
    } else {
      this.#stats.failed += n
      for (const w of batch.waiters) w.reject(error)
    }
  }

  #maybePrune(): void {
    const now = Date.now()
    if (now - this.#lastPrune < MYSQL_PRUNE_INTERVAL_MS) return
    this.#lastPrune = now
    // Best effort: a failed prune is retried at the next interval.
    this.#pruning = this.#target
      .pruneAppliedBatches(this.#config.applied_batches_retention_days)
      .catch(() => undefined)
  }

  /** One spooled batch to the server; what to count once the spool let go of it. */
  async #replayBatch(batch: SpooledBatch): Promise<(() => void) | null> {
    const rows = decodeRows(batch.body)
    // Not rows this sink wrote (a foreign or damaged file): set aside, never replayed.
    if (rows === null || rows.length === 0) return null
    const events = eventCount(rows)
    const r = await this.#apply(batch.id, rows, events)
    return () => {
      this.#stats.replayed += events
      if (r === 'duplicate') this.#stats.duplicate += events
      emitMysqlTelemetry({
        name: 'MysqlBatchApplied',
        type: batch.type,
        events,
        rows: rows.length,
        replayed: true,
        duplicate: r === 'duplicate',
      })
    }
  }

  /**
   * Whether a failed replay was the server refusing the batch while it answers. Lock conflicts
   * and an incompatible schema, a refused login or privilege are not the batch's fault.
   */
  async #refused(batch: SpooledBatch, e: unknown): Promise<boolean> {
    const transient = isTransient(e)
    const denied = isConfigError(e)
    const schema = e instanceof AppError && e.code === 'E_MIGRATION_FAILED'
    const up = !transient && !denied && !schema && this.#schemaReady && (await this.#target.ping())
    emitMysqlTelemetry({
      name: 'MysqlApplyFailed',
      type: batch.type,
      error_type: transient ? 'conflict' : denied ? 'denied' : up ? 'refused' : 'unavailable',
    })
    return up
  }
}

function isIgnoreReason(x: string): x is IgnoreReason {
  return x === 'no_fingerprint' || x === 'invalid' || x === 'other_type'
}

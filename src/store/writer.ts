/**
 * @module store/writer
 * `EventWriter`: batches events per table and acknowledges each `write()` only once its batch
 * is in the store or durably in the spool. While the store is unavailable every batch goes to
 * the spool, and a replay loop inserts the spooled batches oldest first with backoff; new
 * batches keep going to the spool until it is empty, so the store receives them in order.
 *
 * Telemetry: typed messages on the `tlsight.store` diagnostics channel (no logger here).
 */
import { randomUUID } from 'node:crypto'
import { channel } from 'node:diagnostics_channel'
import { join } from 'node:path'
import { AppError } from '../errors.ts'
import type { StoreConfig } from './config.ts'
import type { StoreConnection } from './connection.ts'
import { eventLine, TABLES, type StoreEvent, type StoreEventType } from './schema.ts'
import { Spool, type SpooledBatch } from './spool.ts'
import { SpoolReplay } from './replay.ts'

/** A spooled batch the store refuses this many times while it answers pings is moved aside. */
export const MAX_BATCH_ATTEMPTS = 5
export const SPOOL_DIR = 'spool'

export type StoreTelemetry =
  | { name: 'StoreBatchInserted'; type: StoreEventType; events: number; replayed: boolean }
  | { name: 'StoreBatchSpooled'; type: StoreEventType; events: number; spool_bytes: number }
  | { name: 'StoreInsertFailed'; type: StoreEventType; error_type: 'unavailable' | 'refused' }
  | { name: 'StoreBatchRejected'; type: StoreEventType; events: number }
  | { name: 'StoreWriteFailed'; events: number; code: string }

export const STORE_CHANNEL = 'tlsight.store'
const telemetry = channel(STORE_CHANNEL)

function emit(m: StoreTelemetry): void {
  if (telemetry.hasSubscribers) telemetry.publish(m)
}

export type WriterConfig = Pick<
  StoreConfig,
  | 'db_logs'
  | 'sensor'
  | 'batch_max_events'
  | 'flush_interval_ms'
  | 'max_pending_events'
  | 'retry_min_ms'
  | 'retry_max_ms'
>

export interface WriterStats {
  /** Events whose `write()` resolved: inserted directly or spooled. */
  acknowledged: number
  inserted: number
  spooled: number
  replayed: number
  /** Events whose `write()` rejected (spool full or spool I/O). */
  failed: number
  /** Events moved to `spool/rejected/` because the store refused their batch. */
  rejected: number
  /** Accepted events not yet acknowledged. */
  pending: number
  spool_bytes: number
  /** False from an insert failure until the spool is replayed. */
  store_available: boolean
}

/** One `write`/`writeMany` call: settled once every batch holding its events is. */
interface Waiter {
  resolve: () => void
  reject: (e: unknown) => void
  /** Batches (pending or in delivery) that hold some of its events. */
  parts: number
  error: unknown
}

/** Chunk size of a pending batch's body; grows for a larger line. */
const BODY_CHUNK_BYTES = 1 << 20

/**
 * A batch's JSONEachRow body, encoded as events arrive: a flush then hands over bytes without
 * touching the rows again (encoding 10k rows at flush time stalled the event loop ~100 ms).
 */
class BodyBuilder {
  readonly #chunks: Buffer[] = []
  #cur: Buffer = Buffer.allocUnsafe(BODY_CHUNK_BYTES)
  #used = 0

  append(line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: room is made without measuring the line
    // (Buffer.byteLength scans it once more, a tenth of the ingest thread's time at 40k/s).
    const need = line.length * 3 + 1
    if (this.#used + need > this.#cur.length) {
      if (this.#used > 0) this.#chunks.push(this.#cur.subarray(0, this.#used))
      this.#cur = Buffer.allocUnsafe(Math.max(BODY_CHUNK_BYTES, need))
      this.#used = 0
    }
    this.#used += this.#cur.write(line, this.#used, 'utf8')
    this.#cur[this.#used++] = 0x0a
  }

  finish(): Buffer {
    return Buffer.concat([...this.#chunks, this.#cur.subarray(0, this.#used)])
  }
}

interface Pending {
  body: BodyBuilder
  rows: number
  waiters: Waiter[]
}

interface Batch extends SpooledBatch {
  waiters: Waiter[]
}

const NO_ERROR = Symbol('no error')

export class EventWriter {
  readonly #conn: StoreConnection
  readonly #config: WriterConfig
  readonly #spool: Spool
  readonly #pending = new Map<StoreEventType, Pending>()
  #pendingCount = 0
  #unacked = 0
  #timer: NodeJS.Timeout | null = null
  /** Deliveries run one at a time, in flush order. */
  #chain: Promise<void> = Promise.resolve()
  #storeDown = false
  readonly #replay: SpoolReplay
  #closing = false
  #closed: Promise<void> | null = null
  readonly #stats = {
    acknowledged: 0,
    inserted: 0,
    spooled: 0,
    replayed: 0,
    failed: 0,
    rejected: 0,
  }

  constructor(options: { connection: StoreConnection; config: WriterConfig; spool: Spool }) {
    this.#conn = options.connection
    this.#config = options.config
    this.#spool = options.spool
    this.#replay = new SpoolReplay(
      this.#spool,
      { ...this.#config, max_attempts: MAX_BATCH_ATTEMPTS, target_name: 'store' },
      {
        apply: async (batch) => {
          await this.#insert(batch)
          return () => {
            this.#stats.replayed += batch.rows
            emit({
              name: 'StoreBatchInserted',
              type: batch.type,
              events: batch.rows,
              replayed: true,
            })
          }
        },
        refused: async (batch) => {
          const up = await this.#conn.ping()
          emit({
            name: 'StoreInsertFailed',
            type: batch.type,
            error_type: up ? 'refused' : 'unavailable',
          })
          return up
        },
        setAside: (batch) => {
          this.#stats.rejected += batch.rows
          emit({ name: 'StoreBatchRejected', type: batch.type, events: batch.rows })
        },
        drained: () => {
          this.#storeDown = false
        },
      },
    )
    // A spool left by an earlier run (or outage) is replayed before anything new goes direct.
    if (!this.#spool.isEmpty) {
      this.#storeDown = true
      this.#replay.kick()
    }
  }

  /**
   * Resolves once the event's batch is inserted or fsynced to the spool. Rejects with
   * E_INVALID_ARGUMENT (bad event), E_STORE_BACKPRESSURE, E_WRITER_CLOSED, E_SPOOL_FULL or
   * E_SPOOL_IO; nothing accepted is dropped silently.
   */
  write(event: StoreEvent): Promise<void> {
    return this.writeMany([event])
  }

  /**
   * `write` for several events with one promise: all are checked before any is taken (one bad
   * event refuses the call), and it resolves once every batch holding them is stored or spooled.
   */
  writeMany(events: readonly StoreEvent[]): Promise<void> {
    if (this.#closing)
      return Promise.reject(new AppError('E_WRITER_CLOSED', 'the event writer is closed'))
    if (events.length === 0) return Promise.resolve()
    if (this.#unacked >= this.#config.max_pending_events)
      return Promise.reject(
        new AppError(
          'E_STORE_BACKPRESSURE',
          `${this.#unacked} events wait for the store (max_pending_events ${this.#config.max_pending_events})`,
        ),
      )
    // Encoded now, one event at a time, so a flush only hands over bytes (no long stall).
    const typed: { type: StoreEventType; line: string }[] = []
    try {
      for (const e of events) typed.push(eventLine(e, this.#config.sensor))
    } catch (e) {
      return Promise.reject(e)
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, parts: 0, error: NO_ERROR }
      for (const t of typed) {
        let p = this.#pending.get(t.type)
        if (p === undefined) {
          p = { body: new BodyBuilder(), rows: 0, waiters: [] }
          this.#pending.set(t.type, p)
        }
        p.body.append(t.line)
        p.rows++
        if (p.waiters[p.waiters.length - 1] !== w) {
          p.waiters.push(w)
          w.parts++
        }
      }
      this.#pendingCount += typed.length
      this.#unacked += typed.length
      if (this.#pendingCount >= this.#config.batch_max_events) void this.flush()
      else if (this.#timer === null)
        this.#timer = setTimeout(() => void this.flush(), this.#config.flush_interval_ms)
    })
  }

  /** Sends what is pending now; resolves when it is inserted or spooled (never rejects). */
  flush(): Promise<void> {
    if (this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
    const batches: Batch[] = []
    for (const [type, p] of this.#pending)
      batches.push({
        id: randomUUID(),
        type,
        rows: p.rows,
        body: p.body.finish(),
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

  /** Flushes everything pending, stops the replay loop, releases the spool. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true
      // Stopped first: what the flush spools stays for the next start.
      const replayStopped = this.#replay.stop()
      await this.flush()
      await replayStopped
      await this.#spool.close()
    })()
    return this.#closed
  }

  get stats(): WriterStats {
    return {
      ...this.#stats,
      pending: this.#unacked,
      spool_bytes: this.#spool.bytes,
      store_available: !this.#storeDown,
    }
  }

  async #deliver(batch: Batch): Promise<void> {
    const events = batch.rows
    try {
      if (!this.#storeDown && this.#spool.isEmpty) {
        try {
          await this.#insert(batch)
          this.#stats.inserted += events
          this.#settle(batch, null)
          emit({ name: 'StoreBatchInserted', type: batch.type, events, replayed: false })
          return
        } catch {
          this.#storeDown = true
          emit({ name: 'StoreInsertFailed', type: batch.type, error_type: 'unavailable' })
        }
      }
      await this.#spool.append({
        id: batch.id,
        type: batch.type,
        rows: batch.rows,
        body: batch.body,
      })
      this.#stats.spooled += events
      this.#settle(batch, null)
      emit({ name: 'StoreBatchSpooled', type: batch.type, events, spool_bytes: this.#spool.bytes })
      this.#replay.kick()
    } catch (e) {
      this.#settle(batch, e)
      emit({
        name: 'StoreWriteFailed',
        events,
        code: e instanceof AppError ? e.code : 'E_SPOOL_IO',
      })
    }
  }

  #settle(batch: Batch, error: unknown): void {
    const n = batch.rows
    this.#unacked -= n
    if (error === null) this.#stats.acknowledged += n
    else this.#stats.failed += n
    for (const w of batch.waiters) {
      if (error !== null && w.error === NO_ERROR) w.error = error
      if (--w.parts > 0) continue
      if (w.error === NO_ERROR) w.resolve()
      else w.reject(w.error)
    }
  }

  #insert(batch: SpooledBatch): Promise<void> {
    return this.#conn.insert(`${this.#config.db_logs}.${TABLES[batch.type].table}`, batch.body, {
      dedup_token: batch.id,
    })
  }
}

/** The writer with its spool under `<data_dir>/spool`; a spool left by an earlier run replays. */
export async function openEventWriter(
  connection: StoreConnection,
  config: WriterConfig &
    Pick<StoreConfig, 'data_dir' | 'spool_max_bytes' | 'spool_segment_max_bytes'>,
): Promise<EventWriter> {
  const spool = await Spool.open(join(config.data_dir, SPOOL_DIR), {
    max_bytes: config.spool_max_bytes,
    segment_max_bytes: config.spool_segment_max_bytes,
  })
  return new EventWriter({ connection, config, spool })
}

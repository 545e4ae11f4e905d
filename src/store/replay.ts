/**
 * @module store/replay
 * Empties a spool into the target it stands in for (the store for the event writer, the server
 * for the MySQL sink): oldest batch first, each acknowledged in the spool only once applied.
 * While the target fails, it waits (doubling from `retry_min_ms` to `retry_max_ms`) and tries
 * the same batch again. A batch that a target which answers keeps refusing is at fault, not the
 * target: after `max_attempts` refusals it is set aside (`<spool>/rejected/`) so the batches
 * behind it are not blocked.
 */
import type { Spool, SpooledBatch } from './spool.ts'

export interface ReplayTarget {
  /**
   * Applies one batch; throws when that fails. Returns what to count once the spool has let go
   * of it, or `null` for bytes that are not this target's (set aside at once).
   */
  apply(batch: SpooledBatch): Promise<(() => void) | null>
  /** After a failed `apply`: true when the target answers, so the batch itself is refused. */
  refused(batch: SpooledBatch, error: unknown): Promise<boolean>
  /** The batch is in `<spool>/rejected/`: refused `max_attempts` times, or not this target's. */
  setAside(batch: SpooledBatch, why: 'refused' | 'foreign'): void
  /** The spool is empty: new batches may go straight to the target again. */
  drained(): void
}

export interface ReplaySettings {
  retry_min_ms: number
  retry_max_ms: number
  /** Refusals by a target that answers before a batch is set aside. */
  max_attempts: number
  /** Names the target in the note kept with a batch set aside, e.g. `store`. */
  target_name: string
}

export class SpoolReplay {
  readonly #spool: Spool
  readonly #settings: ReplaySettings
  readonly #target: ReplayTarget
  #running: Promise<void> | null = null
  #wake: (() => void) | null = null
  #stopping = false

  constructor(spool: Spool, settings: ReplaySettings, target: ReplayTarget) {
    this.#spool = spool
    this.#settings = settings
    this.#target = target
  }

  /** Starts replaying unless it already runs (or is stopping). */
  kick(): void {
    if (this.#running !== null || this.#stopping) return
    this.#running = this.#loop().finally(() => {
      this.#running = null
    })
  }

  /** Ends the loop: a wait is cut short, an apply in flight finishes first. */
  async stop(): Promise<void> {
    this.#stopping = true
    this.#wake?.()
    await this.#running
  }

  async #loop(): Promise<void> {
    const { retry_min_ms, retry_max_ms, max_attempts, target_name } = this.#settings
    let delay = retry_min_ms
    let refusals = 0
    while (!this.#stopping) {
      let batch: SpooledBatch | undefined
      try {
        batch = await this.#spool.peek()
      } catch {
        // Unreadable spool directory: retry later rather than spin.
        await this.#sleep(delay)
        delay = Math.min(delay * 2, retry_max_ms)
        continue
      }
      if (batch === undefined) {
        if (this.#spool.isEmpty) this.#target.drained()
        return
      }
      try {
        const applied = await this.#target.apply(batch)
        if (applied === null) {
          const reason = `not a batch for the ${target_name}`
          if (await this.#setAside(batch, 'foreign', reason)) continue
        } else {
          await this.#spool.ack()
          applied()
          delay = retry_min_ms
          refusals = 0
          continue
        }
      } catch (e) {
        refusals = (await this.#target.refused(batch, e)) ? refusals + 1 : 0
        const reason = `refused ${refusals} times by a ${target_name} that answers`
        if (refusals >= max_attempts && (await this.#setAside(batch, 'refused', reason))) {
          refusals = 0
          continue
        }
      }
      await this.#sleep(delay)
      delay = Math.min(delay * 2, retry_max_ms)
    }
  }

  /** Moves the head batch aside; false when the spool cannot (tried again after a wait). */
  async #setAside(
    batch: SpooledBatch,
    why: 'refused' | 'foreign',
    reason: string,
  ): Promise<boolean> {
    try {
      await this.#spool.reject(reason)
    } catch {
      return false
    }
    this.#target.setAside(batch, why)
    return true
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms)
      function done(): void {
        clearTimeout(t)
        resolve()
      }
      this.#wake = () => {
        this.#wake = null
        done()
      }
    })
  }
}

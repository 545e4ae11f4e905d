/**
 * @module errors
 * Operational errors (the store is down, a config value is bad…): one class, matched by `code`,
 * never by message. Data errors travel as `ParseResult` values and anomalies instead.
 * Every code is documented in docs/errors.md.
 */

export const ERROR_CODES = [
  /** A configuration value (env or file) is unknown, malformed or out of range. */
  'E_CONFIG_INVALID',
  /** The store (embedded chDB or a ClickHouse server) could not be reached or refused a request. */
  'E_STORAGE_UNAVAILABLE',
  /** The on-disk spool reached its size bound while the store was unavailable. */
  'E_SPOOL_FULL',
  /** The spool directory could not be read or written. */
  'E_SPOOL_IO',
  /** A migration file is malformed, failed to apply, or an applied one was changed. */
  'E_MIGRATION_FAILED',
  /** More events are waiting for the store than `max_pending_events` allows. */
  'E_STORE_BACKPRESSURE',
  /** The event writer was closed before the event was accepted. */
  'E_WRITER_CLOSED',
  /** A value handed to the store does not fit its schema (unknown event type, bad argument). */
  'E_INVALID_ARGUMENT',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export class AppError extends Error {
  override name = 'AppError'
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** The `code` of an AppError, or undefined for anything else. */
export function errorCode(err: unknown): ErrorCode | undefined {
  return err instanceof AppError ? err.code : undefined
}

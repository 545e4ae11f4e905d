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
  /** A write API was called without the configured bearer token, or with a wrong one. */
  'E_UNAUTHORIZED',
  /** A write API was called while no API token is configured: write APIs are off. */
  'E_WRITE_DISABLED',
  /** The API has nothing at this path (unknown route, fingerprint not seen in the window). */
  'E_NOT_FOUND',
  /** A request body is larger than its limit, compressed or after decompression. */
  'E_PAYLOAD_TOO_LARGE',
  /** A request body's media type or content encoding is not one the route accepts. */
  'E_UNSUPPORTED_MEDIA_TYPE',
  /** An unexpected failure (a bug): the API answers without details and logs it. */
  'E_INTERNAL',
  /** The capture tool (tcpdump) is not installed or not executable at the configured path. */
  'E_CAPTURE_TOOL_MISSING',
  /** tcpdump may not open the interface (neither root nor CAP_NET_RAW). */
  'E_CAPTURE_PERMISSION',
  /** The capture interface does not exist or is not up. */
  'E_CAPTURE_INTERFACE',
  /** tcpdump rejected the BPF filter expression. */
  'E_CAPTURE_FILTER',
  /** tcpdump failed for another reason, or ended while the capture was running. */
  'E_CAPTURE_FAILED',
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

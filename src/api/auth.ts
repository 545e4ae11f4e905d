/**
 * @module api/auth
 * Bearer-token authentication of the write APIs (`TLSIGHT_API_TOKEN`). The token is compared in
 * constant time and never logged, echoed or passed on.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest, onRequestHookHandler } from 'fastify'
import { AppError } from '../errors.ts'

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest()
}

/**
 * True if `header` is `Bearer <token>`. Both sides are hashed first, so neither the comparison
 * nor a length check says anything about the configured token (RFC 6750 §2.1 syntax).
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false
  const m = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i.exec(header)
  const presented = m?.[1]
  // Hashed even when absent, so a malformed header costs the same as a wrong token.
  const ok = timingSafeEqual(digest(presented ?? ''), digest(token))
  return ok && presented !== undefined
}

/**
 * A hook refusing requests without the token: E_WRITE_DISABLED when none is configured (write
 * APIs are off), E_UNAUTHORIZED when it is missing or wrong. Runs before the body is read.
 */
export function requireToken(
  token: string | undefined,
  setting = 'TLSIGHT_API_TOKEN',
): onRequestHookHandler {
  return async function requireTokenHook(request: FastifyRequest): Promise<void> {
    if (token === undefined || token === '')
      throw new AppError(
        'E_WRITE_DISABLED',
        `this write API is disabled: no token is configured (${setting})`,
      )
    if (!bearerMatches(request.headers.authorization, token))
      throw new AppError('E_UNAUTHORIZED', 'a valid bearer token is required')
  }
}

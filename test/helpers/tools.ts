/**
 * Preconditions of system tests: a missing tool or privilege skips the test with a message that
 * names the Debian package, unless `TLSIGHT_REQUIRE_ALL=1` (set by CI), where it fails instead.
 */
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

export type Requirement = { ok: true } | { ok: false; skip: string }

/** True when `TLSIGHT_REQUIRE_ALL=1`: every system test must run, a skip is a failure. */
export function requireAll(): boolean {
  return process.env.TLSIGHT_REQUIRE_ALL === '1'
}

/** True if an executable `name` is on PATH. */
export function hasTool(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    try {
      accessSync(join(dir, name), constants.X_OK)
      return true
    } catch {
      // not in this directory
    }
  }
  return false
}

function unmet(message: string): Requirement {
  if (requireAll()) throw new Error(`${message} (TLSIGHT_REQUIRE_ALL=1 forbids skipping)`)
  return { ok: false, skip: message }
}

/** `{ ok: true }` if `name` is on PATH, else a skip naming `debianPackage` (a throw under CI). */
export function requireTool(name: string, debianPackage: string): Requirement {
  if (hasTool(name)) return { ok: true }
  return unmet(`${name} not found: apt-get install ${debianPackage}`)
}

/** `{ ok: true }` when running as root, else a skip that says what needs it. */
export function requireRoot(what: string): Requirement {
  if (process.getuid?.() === 0) return { ok: true }
  return unmet(`${what} needs root`)
}

/** The first unmet requirement, or `{ ok: true }`. */
export function allOf(...reqs: readonly Requirement[]): Requirement {
  return reqs.find((r) => !r.ok) ?? { ok: true }
}

/** @module events/time — timestamps as the events carry them. */

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/** Microseconds since the epoch → `2024-01-02T03:04:05.123456Z`. */
export function isoFromUs(us: number): string {
  const ms = Math.floor(us / 1000)
  const d = new Date(ms)
  const micro = us - Math.floor(us / 1_000_000) * 1_000_000
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}` +
    `.${pad(micro, 6)}Z`
  )
}

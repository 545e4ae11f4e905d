/** @module events/time — timestamps as the events carry them. */

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

let cachedSecond = NaN
let cachedPrefix = ''

/** Microseconds since the epoch → `2024-01-02T03:04:05.123456Z`. */
export function isoFromUs(us: number): string {
  const second = Math.floor(us / 1_000_000)
  const micro = us - second * 1_000_000
  // Events come in time order, so the date part repeats: format it once per second.
  if (second !== cachedSecond) {
    const d = new Date(second * 1000)
    cachedPrefix =
      `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
      `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.`
    cachedSecond = second
  }
  return cachedPrefix + pad(micro, 6) + 'Z'
}

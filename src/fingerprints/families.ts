/**
 * @module fingerprints/families
 * The fingerprint families a run computes (`--fingerprints`), and which of them are JA4+ (FoxIO
 * License 1.1, turned off together by `--no-ja4plus`).
 */

export const FAMILIES = [
  'ja3',
  'ja3s',
  'ja4',
  'ja4_stable',
  'ja4s',
  'ja4t',
  'ja4l',
  'ja4h',
  'ja4x',
  'certs',
  'tft',
  'tfh',
  'cf',
] as const
export type Family = (typeof FAMILIES)[number]

/** JA4+ methods (FoxIO License 1.1): JA4S, JA4T/JA4TS, JA4L, JA4H, JA4X. */
export const JA4PLUS_FAMILIES: ReadonlySet<Family> = new Set<Family>([
  'ja4s',
  'ja4t',
  'ja4l',
  'ja4h',
  'ja4x',
])

export type FamilySwitches = Readonly<Record<Family, boolean>>

/** Which families to compute: the selection (default all), minus JA4+ when it is turned off. */
export function familySwitches(
  selected: readonly Family[] = FAMILIES,
  ja4plus = true,
): FamilySwitches {
  const on = new Set(selected)
  const sw: Record<Family, boolean> = {
    ja3: false,
    ja3s: false,
    ja4: false,
    ja4_stable: false,
    ja4s: false,
    ja4t: false,
    ja4l: false,
    ja4h: false,
    ja4x: false,
    certs: false,
    tft: false,
    tfh: false,
    cf: false,
  }
  for (const f of FAMILIES) sw[f] = on.has(f) && (ja4plus || !JA4PLUS_FAMILIES.has(f))
  return sw
}

/** Parses `ja4,ja3,…`; returns the unknown names instead when there are any. */
export function parseFamilies(
  list: string,
): { ok: true; value: Family[] } | { ok: false; unknown: string[] } {
  const value: Family[] = []
  const unknown: string[] = []
  for (const name of list.split(',').map((s) => s.trim().toLowerCase())) {
    if (name === '') continue
    const f = FAMILIES.find((x) => x === name)
    if (f === undefined) unknown.push(name)
    else if (!value.includes(f)) value.push(f)
  }
  return unknown.length > 0 ? { ok: false, unknown } : { ok: true, value }
}

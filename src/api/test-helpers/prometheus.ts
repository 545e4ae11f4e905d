/**
 * A strict reader of the Prometheus text format 0.0.4, for tests: throws on anything a
 * Prometheus server would refuse (a sample before its TYPE, a bad name, an unterminated label,
 * an unparsable value, histogram buckets that are not cumulative or lack `+Inf`).
 */

export interface ParsedSample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface ParsedFamily {
  name: string
  type: string
  help: string | undefined
  samples: ParsedSample[]
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'))
}

function parseValue(s: string, line: string): number {
  if (s === '+Inf') return Infinity
  if (s === '-Inf') return -Infinity
  if (s === 'NaN') return NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value in: ${line}`)
  return Number(s)
}

function parseSample(line: string): ParsedSample {
  let i = 0
  while (i < line.length && /[a-zA-Z0-9_:]/.test(line.charAt(i))) i++
  const name = line.slice(0, i)
  if (!NAME_RE.test(name)) throw new Error(`bad metric name in: ${line}`)
  const labels: Record<string, string> = {}
  if (line[i] === '{') {
    i++
    while (line[i] !== '}') {
      const eq = line.indexOf('=', i)
      if (eq < 0) throw new Error(`unterminated labels in: ${line}`)
      const key = line.slice(i, eq)
      if (!LABEL_RE.test(key)) throw new Error(`bad label name ${key} in: ${line}`)
      if (line[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`)
      let j = eq + 2
      let value = ''
      for (;;) {
        const c = line[j]
        if (c === undefined) throw new Error(`unterminated label value in: ${line}`)
        if (c === '"') break
        if (c === '\\') {
          const n = line[j + 1]
          if (n === '\\') value += '\\'
          else if (n === '"') value += '"'
          else if (n === 'n') value += '\n'
          else throw new Error(`bad escape in: ${line}`)
          j += 2
        } else {
          value += c
          j++
        }
      }
      if (Object.hasOwn(labels, key)) throw new Error(`repeated label ${key} in: ${line}`)
      labels[key] = value
      i = j + 1
      if (line[i] === ',') i++
      else if (line[i] !== '}') throw new Error(`expected , or } in: ${line}`)
    }
    i++
  }
  const rest = line.slice(i).trim().split(/\s+/)
  const value = rest[0]
  if (line[i] !== ' ' || value === undefined || rest.length > 2)
    throw new Error(`expected value [timestamp] in: ${line}`)
  return { name, labels, value: parseValue(value, line) }
}

function familyOf(sample: string, families: Map<string, ParsedFamily>): ParsedFamily | undefined {
  const direct = families.get(sample)
  if (direct !== undefined) return direct
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue
    const f = families.get(sample.slice(0, -suffix.length))
    if (f !== undefined && (f.type === 'histogram' || f.type === 'summary')) return f
  }
  return undefined
}

function checkHistogram(f: ParsedFamily): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number }>()
  const keyOf = (labels: Record<string, string>) =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => k !== 'le')
        .sort(),
    )
  for (const s of f.samples) {
    const key = keyOf(s.labels)
    let e = series.get(key)
    if (e === undefined) series.set(key, (e = { buckets: [] }))
    if (s.name.endsWith('_bucket')) {
      const le = s.labels['le']
      if (le === undefined) throw new Error(`${f.name}: bucket without le`)
      e.buckets.push([parseValue(le, le), s.value])
    } else if (s.name.endsWith('_count')) e.count = s.value
  }
  for (const [key, e] of series) {
    const last = e.buckets[e.buckets.length - 1]
    if (last === undefined || last[0] !== Infinity) throw new Error(`${f.name}${key}: no +Inf`)
    e.buckets.reduce((prev, cur) => {
      if (!(cur[0] > prev[0])) throw new Error(`${f.name}: le not rising`)
      if (cur[1] < prev[1]) throw new Error(`${f.name}: not cumulative`)
      return cur
    })
    if (e.count !== last[1]) throw new Error(`${f.name}${key}: _count differs from +Inf bucket`)
  }
}

/** Families by name, in order of appearance. */
export function parsePrometheus(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a line feed')
  const families = new Map<string, ParsedFamily>()
  const helps = new Map<string, string>()
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
      if (m === null) continue
      const [, kind = '', name = '', rest = ''] = m
      if (!NAME_RE.test(name)) throw new Error(`bad name in: ${line}`)
      if (kind === 'HELP') {
        if (helps.has(name)) throw new Error(`second HELP for ${name}`)
        helps.set(name, unescapeHelp(rest))
        const f = families.get(name)
        if (f !== undefined) f.help = helps.get(name)
      } else {
        if (!TYPES.has(rest)) throw new Error(`bad type in: ${line}`)
        if (families.has(name)) throw new Error(`second TYPE for ${name}`)
        families.set(name, { name, type: rest, help: helps.get(name), samples: [] })
      }
      continue
    }
    const s = parseSample(line)
    const f = familyOf(s.name, families)
    if (f === undefined) throw new Error(`sample before its TYPE: ${line}`)
    f.samples.push(s)
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f)
  return families
}

/** The value of the one sample of `family` whose labels include `labels`. */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
  family = name,
): number | undefined {
  const f = families.get(family)
  const hits = (f?.samples ?? []).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match`)
  return hits[0]?.value
}

/**
 * @module bench/fingerprints-micro — ns per call of the Tempesta and Cloudflare fingerprints.
 *
 * `node --import tsx bench/fingerprints-micro.ts [--calls N] [--rounds R]` parses a few
 * realistic hellos once (Chrome with GREASE, OpenSSL 3 with and without ALPN, a Firefox-like
 * one), then times N calls (default 200k) of each function, cycling through them, and prints the
 * fastest of R rounds (default 5). The `repeated` rows are the steady state of a capture, where
 * the same clients send the same lists over and over; the `distinct` rows use 4096 hellos with
 * shuffled cipher and extension orders, so list caches miss (the cost of a new client).
 */
import { parseClientHello } from '../src/protocols/tls/client-hello.ts'
import {
  alpnExt,
  chromeHelloSpec,
  clientHelloBody,
  ecPointFormatsExt,
  ext,
  groupsExt,
  sigAlgsExt,
  sniExt,
  supportedVersionsExt,
  type ClientHelloSpec,
  type Ext,
} from '../src/protocols/tls/test-helpers/fixtures.ts'
import type { ClientHello } from '../src/protocols/tls/types.ts'
import { tft, tftStable } from '../src/fingerprints/tempesta.ts'
import { cfCiphersSha1, cfExtensionsSha1 } from '../src/fingerprints/cloudflare.ts'

const DEFAULT_CALLS = 200_000
// Each row is the fastest of this many timed rounds: on shared cores single rounds vary a lot.
const DEFAULT_ROUNDS = 5
const DISTINCT_HELLOS = 4096
const WARMUP_CALLS = 20_000

function parse(spec: ClientHelloSpec): ClientHello {
  const r = parseClientHello(clientHelloBody(spec))
  if (!r.ok) throw new Error('fixture did not parse')
  return r.value
}

/** Python ssl on OpenSSL 3.0, as in src/fingerprints/tempesta.test.ts. */
function openssl3Spec(alpn: boolean): ClientHelloSpec {
  const extensions: Ext[] = [
    ecPointFormatsExt([0, 1, 2]),
    groupsExt([0x001d, 0x0017, 0x001e, 0x0019, 0x0018, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104]),
    ext(0x0023),
    ...(alpn ? [alpnExt(['h2'])] : []),
    ext(0x0016),
    ext(0x0017),
    sigAlgsExt([0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x0804]),
    supportedVersionsExt([0x0304, 0x0303]),
    ext(0x002d, [1, 1]),
    ext(0x0033, [0, 0x24, 0, 0x1d, 0, 0x20, ...new Array<number>(32).fill(0x42)]),
    ext(0x0015, new Array<number>(100).fill(0)),
  ]
  return {
    sessionId: new Uint8Array(32).fill(7),
    ciphers: [
      0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc024, 0xc028,
      0xc023, 0xc027, 0x009f, 0x009e, 0x006b, 0x0067, 0x00ff,
    ],
    extensions,
  }
}

function firefoxSpec(): ClientHelloSpec {
  return {
    sessionId: new Uint8Array(32).fill(3),
    ciphers: [
      0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009,
      0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
    ],
    extensions: [
      sniExt('firefox.example.org'),
      ext(0x0017),
      ext(0xff01, [0]),
      groupsExt([0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101]),
      ecPointFormatsExt([0]),
      ext(0x0023),
      alpnExt(['h2', 'http/1.1']),
      ext(0x0005, [1, 0, 0, 0, 0]),
      ext(0x0022, [0, 8, 4, 3, 5, 3, 6, 3, 2, 3]),
      ext(0x0033, [0, 0x24, 0, 0x1d, 0, 0x20, ...new Array<number>(32).fill(0x24)]),
      supportedVersionsExt([0x0304, 0x0303]),
      sigAlgsExt([0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601]),
      ext(0x001c, [0x40, 0x01]),
      ext(0x0015, new Array<number>(150).fill(0)),
    ],
  }
}

/** Deterministic xorshift32, so runs compare. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s
  }
}

function shuffled<T>(xs: readonly T[], next: () => number): T[] {
  const out = xs.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = next() % (i + 1)
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  return out
}

function distinctHellos(n: number): ClientHello[] {
  const next = rng(0x5eed)
  const base = chromeHelloSpec()
  const out: ClientHello[] = []
  for (let i = 0; i < n; i++) {
    out.push(
      parse({
        ...base,
        ciphers: shuffled(base.ciphers, next),
        extensions: shuffled(base.extensions ?? [], next),
      }),
    )
  }
  return out
}

let sink = 0

function nsPerCall(
  hellos: readonly ClientHello[],
  fn: (h: ClientHello) => string,
  calls: number,
  rounds: number,
): number {
  for (let i = 0; i < WARMUP_CALLS; i++) sink += fn(hellos[i % hellos.length]!).length
  let best = Infinity
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) sink += fn(hellos[i % hellos.length]!).length
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / calls)
  }
  return best
}

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name)
  return at >= 0 ? Number(process.argv[at + 1]) : fallback
}

function main(): void {
  const calls = flag('--calls', DEFAULT_CALLS)
  const rounds = flag('--rounds', DEFAULT_ROUNDS)
  const repeated = [
    parse(chromeHelloSpec()),
    parse(openssl3Spec(false)),
    parse(openssl3Spec(true)),
    parse(firefoxSpec()),
  ]
  const distinct = distinctHellos(DISTINCT_HELLOS)
  const fns: [string, (h: ClientHello) => string][] = [
    ['tft', (h) => tft(h)],
    ['tftStable', (h) => tftStable(h)],
    ['cfCiphersSha1', cfCiphersSha1],
    ['cfExtensionsSha1', cfExtensionsSha1],
  ]
  console.log(`node ${process.version}, ns/call, best of ${rounds} rounds of ${calls} calls`)
  for (const [label, hellos] of [
    ['repeated (4 hellos)', repeated],
    [`distinct (${DISTINCT_HELLOS} hellos)`, distinct],
  ] as const) {
    const ns = new Map(fns.map(([name, fn]) => [name, nsPerCall(hellos, fn, calls, rounds)]))
    console.log(`\n${label}`)
    for (const [name, v] of ns) console.log(`  ${name.padEnd(28)} ${v.toFixed(0).padStart(7)}`)
    const pair = (a: string, b: string) => (ns.get(a) ?? 0) + (ns.get(b) ?? 0)
    console.log(
      `  ${'tft + tftStable'.padEnd(28)} ${pair('tft', 'tftStable').toFixed(0).padStart(7)}`,
    )
    console.log(
      `  ${'cfCiphers + cfExtensions'.padEnd(28)} ${pair('cfCiphersSha1', 'cfExtensionsSha1').toFixed(0).padStart(7)}`,
    )
  }
  if (sink === 0) console.log('(no output)')
}

main()

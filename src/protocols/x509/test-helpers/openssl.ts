/**
 * Test certificates made by the `openssl` CLI (an implementation independent of ours), and the
 * skip rule for tests that need it: skipped with a message naming the Debian package when openssl
 * is missing, a failure instead under `TLSIGHT_REQUIRE_ALL=1`.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** A skip message, or false when the tool is there (throws under TLSIGHT_REQUIRE_ALL=1). */
export function toolSkip(tool: 'openssl' | 'tshark', debianPackage: string): string | false {
  const r = spawnSync(tool, [tool === 'openssl' ? 'version' : '--version'], { stdio: 'ignore' })
  if (r.error === undefined && r.status === 0) return false
  const message = `${tool} not found: apt-get install ${debianPackage}`
  if (process.env.TLSIGHT_REQUIRE_ALL === '1') throw new Error(`${message} (TLSIGHT_REQUIRE_ALL=1)`)
  return message
}

/** Runs openssl; throws with its stderr on failure. */
export function openssl(args: readonly string[], cwd: string): string {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' })
  if (r.error !== undefined || r.status !== 0)
    throw new Error(`openssl ${args.join(' ')}: ${r.stderr || String(r.error)}`)
  return r.stdout
}

export interface TestCert {
  /** PEM file in the work directory. */
  path: string
  der: Uint8Array
}

/** The set of certificates every X.509 test compares against openssl. */
export type TestCertName =
  'self' | 'ca' | 'leaf' | 'future' | 'utf8' | 'escapes' | 'bmp' | 't61' | 'negative' | 'v1'

// Our own config file, so results do not depend on the system openssl.cnf.
const CONFIG = `
[req]
distinguished_name = dn
utf8 = yes
string_mask = utf8only
[dn]
[v3_ca]
subjectKeyIdentifier = hash
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[v3_self]
basicConstraints = CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`
const LEAF_EXT = `
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:leaf.example, DNS:*.leaf.example, IP:192.0.2.7, IP:2001:db8:0:0:1:0:0:7, email:ops@leaf.example, URI:https://leaf.example/id
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`
const maskConfig = (mask: string): string =>
  `[req]\ndistinguished_name = dn\nutf8 = yes\nstring_mask = MASK:${mask}\n[dn]\n`

/** Creates the test certificates in `dir` (a fresh temporary directory). */
export function makeTestCertificates(dir: string): Record<TestCertName, TestCert> {
  const run = (...args: string[]): string => openssl(args, dir)
  writeFileSync(join(dir, 'x509.cnf'), CONFIG)
  writeFileSync(join(dir, 'leaf.ext'), LEAF_EXT)
  writeFileSync(join(dir, 'bmp.cnf'), maskConfig('0x800'))
  writeFileSync(join(dir, 't61.cnf'), maskConfig('0x4'))
  run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ec.key')
  run('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa.key')
  const selfSigned = (name: string, subj: string, ...extra: string[]): void => {
    run('req', '-config', 'x509.cnf', '-x509', '-key', 'ec.key', '-out', `${name}.pem`,
      '-subj', subj, '-extensions', 'v3_self', ...extra) // prettier-ignore
  }
  selfSigned(
    'self',
    '/C=US/O=Example, Inc./CN=self.example',
    '-days',
    '30',
    '-set_serial',
    '0xff01',
  )
  // A date from 2050 on must be GeneralizedTime (RFC 5280 §4.1.2.5): 100 years from now.
  selfSigned('future', '/CN=future.example', '-days', '36500', '-set_serial', '2')
  selfSigned('utf8', '/C=FR/O=Café Zoë/CN=Zoë Ünïcødé 日本 ☃', '-days', '10', '-set_serial', '3')
  // openssl's -subj syntax needs `\+` and `\/` for a literal `+` and `/`.
  selfSigned('escapes', '/CN= lead#,x;y<z>"q"\\+p=e\\/ ', '-days', '10', '-set_serial', '4')
  selfSigned('negative', '/CN=negative.example', '-days', '10', '-set_serial', '-5')
  run('req', '-config', 'bmp.cnf', '-x509', '-key', 'ec.key', '-out', 'bmp.pem',
    '-subj', '/CN=Café ☃/O=Zoë', '-days', '10', '-set_serial', '5') // prettier-ignore
  run('req', '-config', 't61.cnf', '-x509', '-key', 'ec.key', '-out', 't61.pem',
    '-subj', '/CN=Café/O=Zoë', '-days', '10', '-set_serial', '6') // prettier-ignore
  // CA and a leaf it signs: a multi-valued RDN (OU+CN) and every SAN type we read.
  run('req', '-config', 'x509.cnf', '-x509', '-key', 'rsa.key', '-out', 'ca.pem',
    '-subj', '/C=DE/O=tlsight tests/CN=tlsight Test Root CA', '-extensions', 'v3_ca',
    '-days', '365', '-set_serial', '0x01') // prettier-ignore
  run('req', '-config', 'x509.cnf', '-new', '-key', 'ec.key', '-out', 'leaf.csr', '-multivalue-rdn',
    '-subj', '/C=DE/ST=Berlin/L=Berlin/O=tlsight tests/OU=Edge+CN=leaf.example') // prettier-ignore
  run('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'rsa.key', '-out', 'leaf.pem',
    '-set_serial', '0x7d675a804b32c1e689928cf86de639bc', '-days', '90', '-sha384',
    '-extfile', 'leaf.ext') // prettier-ignore
  // `x509 -req` without extensions writes a version 1 certificate.
  run('req', '-config', 'x509.cnf', '-new', '-key', 'ec.key', '-out', 'v1.csr', '-subj', '/CN=v1')
  run('x509', '-req', '-in', 'v1.csr', '-key', 'ec.key', '-out', 'v1.pem', '-days', '2',
    '-set_serial', '7') // prettier-ignore

  const load = (name: TestCertName): TestCert => {
    run('x509', '-in', `${name}.pem`, '-outform', 'DER', '-out', `${name}.der`)
    const der = new Uint8Array(readFileSync(join(dir, `${name}.der`)))
    return { path: join(dir, `${name}.pem`), der }
  }
  return {
    self: load('self'),
    ca: load('ca'),
    leaf: load('leaf'),
    future: load('future'),
    utf8: load('utf8'),
    escapes: load('escapes'),
    bmp: load('bmp'),
    t61: load('t61'),
    negative: load('negative'),
    v1: load('v1'),
  }
}

/** What `openssl x509` prints for a certificate, normalised to the parser's formats. */
export interface OpensslView {
  serial: string
  subject: string
  issuer: string
  not_before: string
  not_after: string
  /** `dns:…`, `ip:…`, `email:…`, `uri:…` in order; empty without the extension. */
  sans: string[]
  sha256: string
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** `Jan 31 12:00:00 2024 GMT` → `2024-01-31T12:00:00Z`. */
function opensslDate(s: string): string {
  const m = /^(\w{3}) +(\d+) (\d\d:\d\d:\d\d) (\d+) GMT$/.exec(s.trim())
  if (m === null) throw new Error(`unexpected openssl date ${s}`)
  const month = String(MONTHS.indexOf(m[1] ?? '') + 1).padStart(2, '0')
  return `${(m[4] ?? '').padStart(4, '0')}-${month}-${(m[2] ?? '').padStart(2, '0')}T${m[3]}Z`
}

/** `IP Address:2001:DB8:0:0:1:0:0:7` → RFC 5952 through the WHATWG URL parser. */
function opensslIp(s: string): string {
  if (!s.includes(':')) return s
  return new URL(`http://[${s}]/`).hostname.slice(1, -1)
}

/** Runs `openssl x509 -noout -serial -subject -issuer -dates -ext subjectAltName -fingerprint`. */
export function opensslView(cert: TestCert, dir: string): OpensslView {
  const out = openssl(
    ['x509', '-in', cert.path, '-noout', '-serial', '-subject', '-issuer', '-dates',
      '-ext', 'subjectAltName', '-fingerprint', '-sha256', '-nameopt', 'RFC2253,-esc_msb'],
    dir,
  ) // prettier-ignore
  const field = (prefix: string): string => {
    const line = out.split('\n').find((l) => l.startsWith(prefix))
    if (line === undefined) throw new Error(`no ${prefix} in openssl output:\n${out}`)
    return line.slice(prefix.length)
  }
  const lines = out.split('\n')
  const sanAt = lines.findIndex((l) => l.startsWith('X509v3 Subject Alternative Name'))
  const sans =
    sanAt < 0
      ? []
      : (lines[sanAt + 1] ?? '')
          .trim()
          .split(', ')
          .map((entry) => {
            const [kind = '', ...rest] = entry.split(':')
            const value = rest.join(':')
            if (kind === 'DNS') return `dns:${value}`
            if (kind === 'IP Address') return `ip:${opensslIp(value)}`
            if (kind === 'email') return `email:${value}`
            if (kind === 'URI') return `uri:${value}`
            return `other:${entry}`
          })
  const serial = field('serial=').toLowerCase()
  return {
    serial,
    subject: field('subject='),
    issuer: field('issuer='),
    not_before: opensslDate(field('notBefore=')),
    not_after: opensslDate(field('notAfter=')),
    sans,
    sha256: field('sha256 Fingerprint=').replaceAll(':', '').toLowerCase(),
  }
}

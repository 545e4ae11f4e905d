/**
 * @module capture/filter
 * The default BPF filter of `tlsight capture`: the kernel keeps only the packets the handshake
 * engine can use, so a busy link costs the sensor a small fraction of its packets.
 *
 * What passes (IPv4 and IPv6, TCP on the configured ports only):
 *
 * - connection: SYN, SYN-ACK, FIN, RST in either direction (JA4T/JA4TS, JA4L, roles, teardown).
 * - TLS client: client→server segments with payload to a TLS port, except those whose payload
 *   starts a TLS application-data record (`0x17`).
 * - TLS server: server→client segments from a TLS port whose payload starts a ChangeCipherSpec
 *   (`0x14`), alert (`0x15`) or handshake (`0x16`) record.
 * - JA4L (`ja4l`): client→server payload-less ACKs to a TLS or HTTP port.
 * - HTTP: client→server segments to an HTTP port whose payload starts with a method token
 *   (`GET `, `POST`, `HEAD`, `PUT `, `DELE`, `OPTI`, `PATC`, `CONN`, `TRAC`).
 * - QUIC (`quic`): UDP to or from port 443 whose first byte has the long-header and fixed bits
 *   (RFC 9000 §17.2): Initial, 0-RTT, Handshake, Retry.
 * - fragments: every IPv4 TCP/UDP fragment (the engine reassembles them; later fragments carry
 *   no ports).
 *
 * What is dropped, and so is not in the events:
 * - Server flights longer than one segment: certificate chains beyond the first segment (JA4X,
 *   `certs[]` of TLS <= 1.2 over real MTUs). `--bpf 'tcp port 443'` keeps them all.
 * - A client's continuation segment that happens to start with byte `0x17` (1 in 256 split
 *   ClientHellos; the event then lacks that hello).
 * - HTTP request heads longer than one segment (large cookies), and requests after a request
 *   body on a keep-alive connection (the body's segments are dropped, the engine sees a gap).
 * - Traffic on other ports, STARTTLS ports unless added to `tlsPorts`, VLAN-tagged or tunnelled
 *   frames (`vlan and (…)`, GRE, VXLAN need a custom `--bpf`), IPv6 packets with extension
 *   headers (classic BPF offsets assume the TCP/UDP header right after the 40-byte IPv6 header;
 *   libpcap's own `tcp[]` loads apply to IPv4 only, see pcap-filter(7)).
 *
 * What still passes that the engine does not need (the cost of a stateless filter):
 * - Client upload data: only the segment that starts each 16 KiB TLS record is dropped, the
 *   other ~10 segments of the record pass.
 * - JA4L: JA4L-C needs the client's first packet after the SYN-ACK (its ACK), which BPF cannot
 *   tell from later ACKs, so every pure ACK a client sends to a configured port passes: on a
 *   download about one packet per two server segments. Leave `ja4l` off (no `ja4l` in
 *   `--fingerprints`) where that matters; without those ACKs the engine must not compute JA4L-C,
 *   as it would time the ClientHello instead.
 */
import { AppError } from '../errors.ts'

/**
 * Implicit-TLS ports: HTTPS, SMTPS (465), LDAPS (636), DNS over TLS (853), FTPS (989/990),
 * TELNETS (992), IMAPS (993), IRCS (994, 6697), POP3S (995), SIPS (5061), XMPP over TLS (5223),
 * HTTPS alternate (8443). STARTTLS ports (25, 587, 143, 110, 389, 5222) are left out: their
 * handshake follows a cleartext dialogue that only costs capture bandwidth here.
 */
export const DEFAULT_TLS_PORTS: readonly number[] = [
  443, 465, 636, 853, 989, 990, 992, 993, 994, 995, 5061, 5223, 6697, 8443,
]
export const DEFAULT_HTTP_PORTS: readonly number[] = [80, 8080, 8000]
/** QUIC (HTTP/3) is followed on this UDP port. */
export const QUIC_PORT = 443
/** Linux rejects classic BPF programs longer than this (BPF_MAXINSNS). */
export const MAX_BPF_INSTRUCTIONS = 4_096

export interface CaptureFilterOptions {
  /** Default DEFAULT_TLS_PORTS. */
  tlsPorts?: readonly number[]
  /** Default DEFAULT_HTTP_PORTS. */
  httpPorts?: readonly number[]
  /** QUIC long-header packets on UDP 443 (default true). */
  quic?: boolean
  /** The client's payload-less ACKs, for JA4L-C (default true; see the module note). */
  ja4l?: boolean
}

// TLS record content types (RFC 8446 §5.1, RFC 5246 §6.2.1).
const TLS_CHANGE_CIPHER_SPEC = 0x14
const TLS_HANDSHAKE = 0x16
const TLS_APPLICATION_DATA = 0x17
/** RFC 9000 §17.2: Header Form (0x80) and Fixed Bit (0x40) set in a long header. */
const QUIC_LONG_HEADER_BITS = 0xc0
/** TCP flags byte (RFC 9293 §3.1): FIN 0x01, SYN 0x02, RST 0x04. */
const TCP_SYN_FIN_RST = 0x07

/** The first four payload bytes of an HTTP/1.x request line, per method (RFC 9110 §9). */
export const HTTP_METHOD_PREFIXES: readonly string[] = [
  'GET ',
  'POST',
  'HEAD',
  'PUT ',
  'DELE',
  'OPTI',
  'PATC',
  'CONN',
  'TRAC',
]

function hex(n: number): string {
  return '0x' + n.toString(16)
}

/** Four ASCII bytes as the big-endian 32-bit number a `[x:4]` load yields. */
function word(prefix: string): string {
  let n = 0
  for (let i = 0; i < 4; i++) n = n * 256 + prefix.charCodeAt(i)
  return hex(n)
}

function checkPorts(name: string, ports: readonly number[]): number[] {
  for (const p of ports) {
    if (!Number.isInteger(p) || p < 1 || p > 65_535) {
      throw new AppError('E_CONFIG_INVALID', `${name}: "${p}" is not a port number (1-65535)`)
    }
  }
  return [...new Set(ports)]
}

/** The TCP/IP fields a clause needs, as BPF expressions of one IP version. */
interface Layout {
  /** Restricts to this IP version (and TCP, for the TCP fields). */
  tcp: string
  dstPort: (p: number) => string
  srcPort: (p: number) => string
  flags: string
  /** Bytes of TCP payload. */
  payloadLen: string
  /** First payload byte, and the first four as one 32-bit word. */
  first: string
  first4: string
}

// pcap-filter(7): `tcp[]` is relative to the TCP header after the IPv4 header's own length, and
// is IPv4 only (it also fails on non-first fragments, which carry no TCP header).
const DATA_OFFSET_V4 = '((tcp[12] & 0xf0) >> 2)'
const V4: Layout = {
  tcp: 'ip and tcp',
  dstPort: (p) => `tcp dst port ${p}`,
  srcPort: (p) => `tcp src port ${p}`,
  flags: 'tcp[13]',
  payloadLen: `(ip[2:2] - ((ip[0] & 0x0f) << 2) - ${DATA_OFFSET_V4})`,
  first: `tcp[${DATA_OFFSET_V4}]`,
  first4: `tcp[${DATA_OFFSET_V4}:4]`,
}

// RFC 8200 §3: a 40-byte header; Next Header at 6, Payload Length at 4. NOTE: with no extension
// headers only, so the TCP header starts at 40 (ports 40/42, data offset 52, flags 53).
const DATA_OFFSET_V6 = '((ip6[52] & 0xf0) >> 2)'
const V6: Layout = {
  tcp: 'ip6 and ip6[6] = 6',
  dstPort: (p) => `ip6[42:2] = ${p}`,
  srcPort: (p) => `ip6[40:2] = ${p}`,
  flags: 'ip6[53]',
  payloadLen: `(ip6[4:2] - ${DATA_OFFSET_V6})`,
  first: `ip6[40 + ${DATA_OFFSET_V6}]`,
  first4: `ip6[40 + ${DATA_OFFSET_V6}:4]`,
}

function anyOf(parts: readonly string[]): string {
  return parts.length === 1 ? (parts[0] ?? '') : `(${parts.join(' or ')})`
}

function tcpClauses(
  l: Layout,
  tls: readonly number[],
  http: readonly number[],
  ja4l: boolean,
): string[] {
  const all = [...new Set([...tls, ...http])]
  if (all.length === 0) return []
  const dstAll = anyOf(all.map(l.dstPort))
  const eitherAll = anyOf([...all.map(l.dstPort), ...all.map(l.srcPort)])
  // Either direction: SYN, SYN-ACK, FIN, RST.
  const out = [`(${eitherAll} and ${l.flags} & ${hex(TCP_SYN_FIN_RST)} != 0)`]
  if (tls.length > 0) {
    // Client side: everything but segments starting an application-data record, so a hello
    // split over several segments keeps its continuation (whatever its first byte).
    out.push(
      `(${anyOf(tls.map(l.dstPort))} and ${l.payloadLen} != 0 and ` +
        `${l.first} != ${hex(TLS_APPLICATION_DATA)})`,
    )
    // Server side: segments that start a cleartext record: ServerHello flight, CCS, alert.
    out.push(
      `(${anyOf(tls.map(l.srcPort))} and ${l.payloadLen} != 0 and ` +
        `${l.first} >= ${hex(TLS_CHANGE_CIPHER_SPEC)} and ${l.first} <= ${hex(TLS_HANDSHAKE)})`,
    )
  }
  if (http.length > 0) {
    // A `[x:4]` load past the end of the packet rejects it, so short payloads fail here.
    const methods = anyOf(HTTP_METHOD_PREFIXES.map((m) => `${l.first4} = ${word(m)}`))
    out.push(`(${anyOf(http.map(l.dstPort))} and ${l.payloadLen} != 0 and ${methods})`)
  }
  if (ja4l) {
    out.push(`(${dstAll} and ${l.payloadLen} = 0 and ${l.flags} & ${hex(TCP_SYN_FIN_RST)} = 0)`)
  }
  return [`(${l.tcp} and ${anyOf(out)})`]
}

/**
 * The default capture filter (see the module note for what it keeps and drops).
 * @example
 * defaultCaptureFilter({ tlsPorts: [443, 4433], httpPorts: [80], quic: true, ja4l: true })
 */
export function defaultCaptureFilter(opts: CaptureFilterOptions = {}): string {
  const tls = checkPorts('tlsPorts', opts.tlsPorts ?? DEFAULT_TLS_PORTS)
  const http = checkPorts('httpPorts', opts.httpPorts ?? DEFAULT_HTTP_PORTS)
  const quic = opts.quic ?? true
  const ja4l = opts.ja4l ?? true
  const clauses = [...tcpClauses(V4, tls, http, ja4l), ...tcpClauses(V6, tls, http, ja4l)]
  if (quic) {
    const lh = hex(QUIC_LONG_HEADER_BITS)
    // `udp[8]` is the first payload byte after the 8-byte UDP header (RFC 768).
    clauses.push(`(ip and udp port ${QUIC_PORT} and udp[8] & ${lh} = ${lh})`)
    clauses.push(
      `(ip6 and ip6[6] = 17 and (ip6[40:2] = ${QUIC_PORT} or ip6[42:2] = ${QUIC_PORT}) ` +
        `and ip6[48] & ${lh} = ${lh})`,
    )
  }
  if (clauses.length === 0) {
    throw new AppError('E_CONFIG_INVALID', 'capture filter: no TLS or HTTP port and QUIC is off')
  }
  // RFC 791 §3.1: MF flag or a fragment offset; every fragment, as later ones have no ports.
  clauses.push('(ip and (ip[9] = 6 or ip[9] = 17) and ip[6:2] & 0x3fff != 0)')
  return clauses.join(' or ')
}

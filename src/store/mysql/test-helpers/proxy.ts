/**
 * A TCP proxy in front of the test server, to break the path the way networks do: `cut()` drops
 * every open connection, `down()` closes the port (connection refused) until `up()`, and
 * `loseNextCommitAck()` lets the next COMMIT reach the server but drops its answer and the
 * connection (the client cannot know whether the transaction committed).
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

// MySQL protocol: COM_QUERY (0x03) followed by the statement text.
const COM_QUERY_COMMIT = Buffer.from('\x03COMMIT', 'latin1')

export class TcpProxy {
  readonly #targetHost: string
  readonly #targetPort: number
  #server: Server | null = null
  readonly #pairs = new Set<{ client: Socket; upstream: Socket }>()
  #port = 0
  #loseCommitAck = false
  /** Commit answers dropped so far. */
  lostCommitAcks = 0

  private constructor(host: string, port: number) {
    this.#targetHost = host
    this.#targetPort = port
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const p = new TcpProxy(targetHost, targetPort)
    await p.up()
    return p
  }

  get port(): number {
    return this.#port
  }

  /** Listens again (on the same port once one was chosen). */
  async up(): Promise<void> {
    if (this.#server !== null) return
    const server = createServer((client) => this.#accept(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#port, '127.0.0.1', () => resolve())
    })
    const addr = server.address()
    if (addr === null || typeof addr === 'string') throw new Error('proxy: no TCP address')
    this.#port = addr.port
    this.#server = server
  }

  /** Closes the port and every connection: clients get connection refused until `up()`. */
  async down(): Promise<void> {
    const s = this.#server
    this.#server = null
    this.cut()
    if (s !== null) await new Promise<void>((r) => s.close(() => r()))
  }

  /** Drops every open connection (the port stays open). */
  cut(): void {
    for (const p of this.#pairs) {
      p.client.destroy()
      p.upstream.destroy()
    }
    this.#pairs.clear()
  }

  loseNextCommitAck(): void {
    this.#loseCommitAck = true
  }

  async close(): Promise<void> {
    await this.down()
  }

  #accept(client: Socket): void {
    const upstream = connect(this.#targetPort, this.#targetHost)
    const pair = { client, upstream }
    this.#pairs.add(pair)
    let commitSent = false
    const drop = () => {
      client.destroy()
      upstream.destroy()
      this.#pairs.delete(pair)
    }
    client.on('error', drop)
    upstream.on('error', drop)
    client.on('close', drop)
    upstream.on('close', drop)
    client.on('data', (chunk: Buffer) => {
      if (this.#loseCommitAck && chunk.includes(COM_QUERY_COMMIT)) {
        this.#loseCommitAck = false
        commitSent = true
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (commitSent) {
        // The server answered the COMMIT: it is durable there, and the client never learns it.
        this.lostCommitAcks++
        drop()
        return
      }
      client.write(chunk)
    })
  }
}

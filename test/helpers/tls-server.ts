/** Local TLS servers for system tests: a self-signed certificate, `openssl s_server`, `node:tls`. */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer, type TLSSocket } from 'node:tls'
import { freePort } from './ports.ts'
import { runOk } from './run.ts'

/** Host name in the test certificate and the SNI the clients send when they send one. */
export const TEST_HOST = 'tlsight.test'

export interface CertFiles {
  cert: string
  key: string
}

/** Writes a self-signed P-256 certificate for {@link TEST_HOST} and 127.0.0.1 into `dir`. */
export async function createSelfSignedCert(dir: string): Promise<CertFiles> {
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }
  // A P-256 key keeps the Certificate message, and so the captures, small.
  await runOk('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', files.key, '-out', files.cert, '-days', '3650',
    '-subj', `/CN=${TEST_HOST}`, '-addext', `subjectAltName=DNS:${TEST_HOST},IP:127.0.0.1`,
  ]) // prettier-ignore
  return files
}

export interface RunningServer {
  port: number
  close(): Promise<void>
}

export interface OpensslServerOptions extends CertFiles {
  /** Directory served by `-WWW`: `GET /name` answers with the file `dir/name`. */
  wwwDir: string
  /** Extra `s_server` arguments, e.g. `['-groups', 'P-256']`. */
  args?: readonly string[]
}

/** Starts `openssl s_server -WWW` on 127.0.0.1 and resolves once it accepts connections. */
export async function startOpensslServer(opts: OpensslServerOptions): Promise<RunningServer> {
  const port = await freePort()
  const args = [
    's_server', '-accept', `127.0.0.1:${port}`, '-cert', opts.cert, '-key', opts.key, '-WWW',
    ...(opts.args ?? []),
  ] // prettier-ignore
  const child = spawn('openssl', args, { cwd: opts.wwwDir, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = once(child, 'close')
  let out = ''
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s_server did not start:\n${out}`)), 10_000)
    const onData = (s: string): void => {
      out += s
      // s_server prints ACCEPT once its socket listens.
      if (out.includes('ACCEPT')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout.setEncoding('utf8').on('data', onData)
    child.stderr.setEncoding('utf8').on('data', onData)
    child.once('close', () => {
      clearTimeout(timer)
      reject(new Error(`s_server exited:\n${out}`))
    })
  })
  try {
    await ready
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
  return {
    port,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

export interface NodeServerOptions extends CertFiles {
  /** ALPN protocols the server selects from; none by default. */
  alpn?: string[]
}

/**
 * Starts a `node:tls` server on 127.0.0.1 that answers any HTTP/1.x request head with a tiny
 * `200` and closes, so `curl` completes; clients that send nothing are simply closed.
 */
export async function startNodeTlsServer(opts: NodeServerOptions): Promise<RunningServer> {
  const server = createServer({
    cert: readFileSync(opts.cert),
    key: readFileSync(opts.key),
    ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
  })
  const sockets = new Set<TLSSocket>()
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    let head = ''
    socket.setEncoding('latin1')
    socket.on('data', (s: string) => {
      head += s
      if (head.includes('\r\n\r\n')) {
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n')
      }
    })
    socket.on('end', () => socket.end())
  })
  // Failed handshakes are not this server's business; keep the process alive.
  server.on('tlsClientError', () => {})
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('no TCP address')
  return {
    port: addr.port,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

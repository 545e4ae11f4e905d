/**
 * @module sources/unix
 * A UNIX stream socket for local writers, Apache's piped logs above all
 * (`CustomLog "|/usr/bin/logger -u /run/tlsight/log.sock …"`). Framing and decoding are the TCP
 * source's. Who may write is decided by the socket file's mode and group, not by addresses.
 * NOTE: Node has no AF_UNIX datagram sockets; `logger -u` falls back to a stream connection by
 * itself when the datagram connect is refused.
 */
import { createConnection, createServer, type Socket } from 'node:net'
import { chmod, lstat, unlink } from 'node:fs/promises'
import { AppError } from '../errors.ts'
import { closeServer, serveStream, type StreamOptions } from './tcp.ts'
import type { RunningListener } from './udp.ts'
import type { SourceLogger } from './stats.ts'

export interface UnixSourceOptions extends StreamOptions {
  path: string
  /** Permission bits of the socket file (writers need write permission to connect). */
  mode: number
  maxConnections: number
  log: SourceLogger
}

function invalid(why: string, cause?: unknown): AppError {
  return new AppError('E_CONFIG_INVALID', `TLSIGHT_UNIX_SOCKET: ${why}`, { cause })
}

/** True if something answers on the socket file. */
function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path)
    c.once('connect', () => {
      c.destroy()
      resolve(true)
    })
    c.once('error', () => resolve(false))
  })
}

/** Removes a socket file left by a process that is gone; refuses to touch anything else. */
async function clearStale(path: string): Promise<void> {
  let st
  try {
    st = await lstat(path)
  } catch {
    return
  }
  if (!st.isSocket()) throw invalid(`${path} exists and is not a socket`)
  if (await listening(path)) throw invalid(`${path} is in use by another process`)
  await unlink(path)
}

/** Listens on the UNIX socket `path` (replacing a stale one). */
export async function startUnixSource(o: UnixSourceOptions): Promise<RunningListener<string>> {
  await clearStale(o.path)
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    serveStream(socket, 'unix', 'unix', o)
  })
  server.maxConnections = o.maxConnections
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(invalid(`cannot listen on ${o.path}`, err)))
    server.listen(o.path, () => resolve())
  })
  server.on('error', (err) => o.log.error({ error: err.message }, 'UNIX log listener error.'))
  try {
    await chmod(o.path, o.mode)
  } catch (err) {
    await closeServer(server, sockets)
    throw invalid(`cannot set the mode of ${o.path}`, err)
  }
  return {
    address: o.path,
    close: async () => {
      await closeServer(server, sockets)
      // net removes its socket file on close; a leftover one would only make the next start slower.
      await unlink(o.path).catch(() => undefined)
    },
  }
}

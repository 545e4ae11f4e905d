/** Free TCP ports on 127.0.0.1 for servers that cannot report an ephemeral port themselves. */
import { createServer } from 'node:net'

/** A port that was free a moment ago (the OS picks it; a race with other processes is possible). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      if (addr === null || typeof addr === 'string') {
        srv.close()
        reject(new Error('no TCP address'))
        return
      }
      srv.close(() => resolve(addr.port))
    })
  })
}

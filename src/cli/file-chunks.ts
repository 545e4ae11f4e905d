/**
 * @module cli/file-chunks
 * A file's bytes as a sequence of chunks read into two reused buffers: the next read runs while
 * the caller handles the current chunk, and no fresh memory is touched per chunk (a 1 MiB
 * Buffer per chunk, as a read stream allocates, costs page faults and cache misses that show
 * when two analyzer threads share a machine).
 */
import { open } from 'node:fs/promises'

/** Bytes per read. */
export const FILE_CHUNK_BYTES = 1 << 20

/**
 * Yields the file's content in order. Each chunk is valid only until the next one is asked
 * for (its buffer is then refilled): the consumer must be done with it, or have copied it.
 */
export async function* fileChunks(
  path: string,
  chunkBytes = FILE_CHUNK_BYTES,
): AsyncGenerator<Uint8Array, void, undefined> {
  const fh = await open(path, 'r')
  const bufs = [new Uint8Array(chunkBytes), new Uint8Array(chunkBytes)]
  let which = 0
  let pending = fh.read(bufs[0] ?? new Uint8Array(0), 0, chunkBytes, null)
  try {
    for (;;) {
      const { bytesRead, buffer } = await pending
      if (bytesRead === 0) return
      which ^= 1
      // Read ahead into the other buffer while the consumer works on this one.
      const next = bufs[which] ?? new Uint8Array(0)
      pending = fh.read(next, 0, chunkBytes, null)
      yield buffer.subarray(0, bytesRead)
    }
  } finally {
    // A consumer that stops early leaves a read in flight: let it end before closing.
    await pending.catch(() => undefined)
    await fh.close()
  }
}

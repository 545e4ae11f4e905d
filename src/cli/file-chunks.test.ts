import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileChunks } from './file-chunks.ts'

function withFile(bytes: Uint8Array, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-chunks-'))
  const path = join(dir, 'f.bin')
  writeFileSync(path, bytes)
  return fn(path).finally(() => rmSync(dir, { recursive: true, force: true }))
}

const data = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7 + 3) & 0xff)

test('fileChunks yields the whole file in order, through two reused buffers', () =>
  withFile(data, async (path) => {
    const copies: number[] = []
    const buffers = new Set<ArrayBufferLike>()
    for await (const c of fileChunks(path, 1024)) {
      assert.ok(c.length <= 1024)
      copies.push(...c)
      buffers.add(c.buffer)
    }
    assert.deepEqual(Uint8Array.from(copies), data)
    assert.equal(buffers.size, 2)
  }))

test('fileChunks: a chunk keeps its bytes until the next is asked for', () =>
  withFile(data, async (path) => {
    let at = 0
    for await (const c of fileChunks(path, 999)) {
      // The read-ahead fills the other buffer meanwhile.
      await new Promise((r) => setTimeout(r, 1))
      assert.deepEqual(c, data.subarray(at, at + c.length))
      at += c.length
    }
    assert.equal(at, data.length)
  }))

test('fileChunks: stopping early closes the file; an empty file yields nothing', async () => {
  await withFile(data, async (path) => {
    for await (const c of fileChunks(path, 100)) {
      assert.equal(c.length, 100)
      break
    }
  })
  await withFile(new Uint8Array(0), async (path) => {
    for await (const _ of fileChunks(path)) assert.fail('no chunk expected')
  })
})

test('fileChunks: a missing file rejects with the system error', async () => {
  await assert.rejects(async () => {
    for await (const _ of fileChunks('/nonexistent/tlsight/file.pcap')) void _
  }, /ENOENT/)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { LineWriter } from './output.ts'

function sink(highWaterMark = 16): { stream: Writable; text: () => string } {
  const parts: Buffer[] = []
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      parts.push(Buffer.from(chunk))
      setImmediate(cb)
    },
  })
  return { stream, text: () => Buffer.concat(parts).toString('utf8') }
}

test('lines and blocks come out in order, UTF-8 encoded, across buffer boundaries', async () => {
  const s = sink()
  const w = new LineWriter(s.stream)
  const want: string[] = []
  for (let i = 0; i < 5000; i++) {
    const line = `{"i":${i},"sni":"hôte-${'x'.repeat(i % 700)}","ü":"€"}`
    if (i % 3 === 0) w.text(line + '\n')
    else w.line(line)
    want.push(line)
    if (w.needsFlush) await w.flush()
  }
  await w.flush()
  assert.equal(s.text(), want.join('\n') + '\n')
})

test('a line longer than the buffer is written whole', async () => {
  const s = sink()
  const w = new LineWriter(s.stream)
  const big = 'é'.repeat(700_000)
  w.line('a')
  w.line(big)
  w.line('b')
  await w.flush()
  assert.equal(s.text(), `a\n${big}\nb\n`)
})

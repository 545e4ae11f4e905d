import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { SERVE_NODE_FLAGS } from './serve-flags.ts'

test('npm start runs serve with SERVE_NODE_FLAGS', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>
  }
  assert.equal(pkg.scripts.start, `node ${SERVE_NODE_FLAGS.join(' ')} bin/tlsight.js serve`)
})

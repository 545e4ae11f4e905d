import { test } from 'node:test'
import assert from 'node:assert/strict'
import { redactUrl, withoutLowCardinality } from './connection.ts'

test('withoutLowCardinality unwraps every LowCardinality, nested ones too', () => {
  assert.equal(withoutLowCardinality('LowCardinality(String)'), 'String')
  assert.equal(withoutLowCardinality('LowCardinality(Nullable(String))'), 'Nullable(String)')
  assert.equal(withoutLowCardinality('Array(LowCardinality(String))'), 'Array(String)')
  assert.equal(
    withoutLowCardinality(
      'Array(Tuple(role LowCardinality(String), subject Nullable(String), sans Array(LowCardinality(String))))',
    ),
    'Array(Tuple(role String, subject Nullable(String), sans Array(String)))',
  )
  assert.equal(withoutLowCardinality("DateTime64(6, 'UTC')"), "DateTime64(6, 'UTC')")
  // An unbalanced type (never produced by the engine) is left as it is, not cut.
  assert.equal(withoutLowCardinality('LowCardinality(String'), 'LowCardinality(String')
})

test('redactUrl drops credentials', () => {
  assert.equal(redactUrl('http://u:secret@ch:8123/'), 'http://ch:8123/')
  assert.equal(redactUrl('not a url'), '<invalid url>')
})

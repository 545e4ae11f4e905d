import { test } from 'node:test'
import assert from 'node:assert/strict'
import { openApiDocument, openApiPath } from './openapi.ts'
import { apiRoutes } from './server.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed JSON document, walked freely
type Json = Record<string, any>

const doc = JSON.parse(
  JSON.stringify(openApiDocument(apiRoutes(true), { version: '9.9.9' })),
) as Json

test('the document is OpenAPI 3.1.0 JSON with every route, once', () => {
  assert.equal(doc.openapi, '3.1.0')
  assert.equal(doc.info.version, '9.9.9')
  const ops = Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    Object.keys(item as Json).map((m) => `${m.toUpperCase()} ${path}`),
  )
  const expected = apiRoutes(true).map((r) => `${r.method} ${openApiPath(r.url)}`)
  assert.deepEqual(ops.sort(), [...expected].sort())
  assert.ok(ops.includes('GET /api/v1/fingerprints/{fp}/user-agents'))
  assert.ok(ops.includes('POST /api/v1/ingest'))
  assert.ok(!ops.some((o) => o.startsWith('HEAD')))
  const ids = ops.map((o) => {
    const [m, p] = o.split(' ')
    return doc.paths[p!][m!.toLowerCase()].operationId as string
  })
  assert.equal(new Set(ids).size, ids.length)
})

test('path and query parameters carry the route schemas', () => {
  const op = doc.paths['/api/v1/fingerprints/{fp}'].get
  const byName = Object.fromEntries((op.parameters as Json[]).map((p) => [p.name, p]))
  assert.equal(byName.fp.in, 'path')
  assert.equal(byName.fp.required, true)
  assert.equal(byName.window.in, 'query')
  assert.equal(byName.window.schema.pattern, '^[0-9]{1,8}[smhd]$')
  assert.ok(byName.family.schema.enum.includes('ja4h'))
  assert.equal(typeof byName.limit.description, 'string')
  assert.equal(byName.limit.schema.maximum, 1000)
  assert.ok(op.responses['404'])
  const top = doc.paths['/api/v1/fingerprints/top'].get
  assert.ok(top.parameters.every((p: Json) => p.in === 'query' && p.required === false))
})

test('shared schemas are components: Error, and the event schemas of src/events', () => {
  const schemas = doc.components.schemas as Json
  assert.deepEqual(Object.keys(schemas).sort(), ['Error', 'HttpEvent', 'SessionEvent', 'TlsEvent'])
  for (const s of Object.values(schemas)) {
    assert.equal(s.$id, undefined)
    assert.equal(s.$schema, undefined)
  }
  const events = doc.paths['/api/v1/events'].get.responses['200'].content['application/json']
  const items = events.schema.properties.events.items
  assert.deepEqual(
    items.oneOf.map((r: Json) => r.$ref),
    [
      '#/components/schemas/TlsEvent',
      '#/components/schemas/HttpEvent',
      '#/components/schemas/SessionEvent',
    ],
  )
  assert.equal(
    doc.paths['/api/v1/stats'].get.responses['503'].content['application/json'].schema.$ref,
    '#/components/schemas/Error',
  )
  // Every $ref resolves.
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? []
  for (const r of refs) {
    const name = r.slice('"$ref":"#/components/schemas/'.length, -1)
    assert.ok(schemas[name], r)
  }
})

test('ingest is documented with its security, body and error answers', () => {
  const op = doc.paths['/api/v1/ingest'].post
  assert.deepEqual(op.security, [{ bearerAuth: [] }])
  assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer')
  assert.ok(op.requestBody.content['application/x-ndjson'])
  for (const s of ['200', '400', '401', '403', '413', '415', '500', '503'])
    assert.ok(op.responses[s], s)
  assert.ok(op.responses['401'].headers['WWW-Authenticate'])
  const metrics = doc.paths['/metrics'].get.responses['200'].content
  assert.deepEqual(Object.keys(metrics), ['text/plain; version=0.0.4; charset=utf-8'])
})

test('without an ingest function there is no ingest route to document', () => {
  const d = openApiDocument(apiRoutes(false), { version: 'v1' }) as Json
  assert.equal(d.paths['/api/v1/ingest'], undefined)
})

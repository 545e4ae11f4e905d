/**
 * @module api/openapi
 * The OpenAPI 3.1 document of the API, generated from the same `RouteSpec`s the server
 * registers (OpenAPI 3.1 schemas are JSON Schema 2020-12, so the route schemas go in as they
 * are). Written here rather than with @fastify/swagger: that plugin targets 3.0 (its 3.1 output
 * is the 3.0 conversion relabelled), and ~100 lines keep the dependency list short.
 */
import { httpEventSchema } from '../events/http.ts'
import { sessionEventSchema } from '../events/session.ts'
import { tlsEventSchema } from '../events/tls.ts'
import { EVENT_ITEM_SCHEMA } from './routes/events.ts'
import { errorSchema, type JsonSchema, type ObjectSchema, type RouteSpec } from './schemas.ts'

export type OpenApiDocument = Readonly<Record<string, unknown>>

const REF = '#/components/schemas/'

const EVENT_SCHEMAS = {
  TlsEvent: tlsEventSchema,
  HttpEvent: httpEventSchema,
  SessionEvent: sessionEventSchema,
} as const

/** A schema as a component: its own `$schema` / `$id` would change how references resolve. */
function component(s: Readonly<Record<string, unknown>>): JsonSchema {
  const { $schema: _s, $id: _i, ...rest } = s
  return rest
}

/** A copy of `node` with the shared schemas replaced by references to their components. */
function rewrite(node: unknown): unknown {
  if (node === errorSchema) return { $ref: `${REF}Error` }
  if (node === EVENT_ITEM_SCHEMA)
    return {
      oneOf: Object.keys(EVENT_SCHEMAS).map((k) => ({ $ref: REF + k })),
      discriminator: {
        propertyName: 'type',
        mapping: {
          tls: `${REF}TlsEvent`,
          http: `${REF}HttpEvent`,
          session: `${REF}SessionEvent`,
        },
      },
    }
  if (Array.isArray(node)) return node.map(rewrite)
  if (typeof node === 'object' && node !== null)
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, rewrite(v)]))
  return node
}

/** `/api/v1/fingerprints/:fp` → `/api/v1/fingerprints/{fp}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}')
}

function parameters(where: 'path' | 'query', s: ObjectSchema | undefined): unknown[] {
  if (s === undefined) return []
  const required = new Set(s.required ?? [])
  return Object.entries(s.properties).map(([name, prop]) => {
    const { description, ...schema } = prop
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rewrite(schema),
    }
  })
}

const RESPONSE_HEADERS: Readonly<Record<number, Record<string, unknown>>> = {
  401: {
    'WWW-Authenticate': { schema: { type: 'string' }, description: 'Bearer realm="tlsight"' },
  },
  503: {
    'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait before retrying.' },
  },
}

function operation(spec: RouteSpec): Record<string, unknown> {
  const responses: Record<string, unknown> = {}
  for (const [status, r] of Object.entries(spec.responses)) {
    const headers = RESPONSE_HEADERS[Number(status)]
    responses[status] = {
      description: r.description,
      ...(headers === undefined ? {} : { headers }),
      content: { [r.contentType ?? 'application/json']: { schema: rewrite(r.schema) } },
    }
  }
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    tags: [...spec.tags],
    parameters: [...parameters('path', spec.params), ...parameters('query', spec.querystring)],
    ...(spec.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            description: spec.body.description,
            content: Object.fromEntries(
              spec.body.contentTypes.map((t) => [t, { schema: { type: 'string' } }]),
            ),
          },
        }),
    ...(spec.auth === true ? { security: [{ bearerAuth: [] }] } : {}),
    responses,
  }
}

/** The document for `specs`, in their order. */
export function openApiDocument(
  specs: readonly RouteSpec[],
  o: { version: string },
): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const spec of specs) {
    const path = openApiPath(spec.url)
    const item = (paths[path] ??= {})
    item[spec.method.toLowerCase()] = operation(spec)
  }
  const tags = [...new Set(specs.flatMap((s) => s.tags))].map((name) => ({ name }))
  return {
    openapi: '3.1.0',
    info: {
      title: 'tlsight API',
      version: o.version,
      summary: 'TLS fingerprint intelligence: top fingerprints, fingerprint details, events.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags,
    paths,
    components: {
      schemas: {
        Error: component(errorSchema),
        ...Object.fromEntries(Object.entries(EVENT_SCHEMAS).map(([k, s]) => [k, component(s)])),
      },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'The TLSIGHT_API_TOKEN of the server.',
        },
      },
    },
  }
}

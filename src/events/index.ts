/**
 * @module events
 * The one event schema every stage, store, API and stream uses (snake_case JSON).
 */
export * from './tls.ts'
export * from './http.ts'
export * from './tcp.ts'
export * from './session.ts'
export * from './capture.ts'
export * from './time.ts'
export * from './json.ts'
export * from './endpoint.ts'

/** @module bytes — bounds-checked reading, fixture building and hex helpers. */
export * from './reader.ts'
export * from './hex.ts'
export { ByteBuilder } from './builder.ts'

/**
 * @module fingerprints/ja4plus
 * JA4+ fingerprint methods, licensed under the FoxIO License 1.1 (see ./LICENSE, ./README.md).
 */
export { ja4s, type Ja4sResult } from './ja4s.ts'

/**
 * @module fingerprints
 * Pure fingerprint functions over normalized handshake records. JA3/JA3S (BSD-3-Clause) and JA4
 * (BSD-3-Clause) live here; JA4+ methods (JA4S, …) live in `ja4plus/` under the FoxIO License 1.1.
 * Rules: FINGERPRINTS.md in the design docs.
 */
export { md5Hex, hash12, EMPTY_HASH12 } from './hash.ts'
export { ja3, ja3s, type Ja3Result, type Ja3sResult } from './ja3.ts'
export {
  ja4,
  ja4Alpn,
  ja4Version,
  ja4VersionCode,
  type Ja4Result,
  type Ja4Transport,
} from './ja4.ts'
export { ja4s, type Ja4sResult } from './ja4plus/index.ts'

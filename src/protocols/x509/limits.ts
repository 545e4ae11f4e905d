/**
 * @module protocols/x509/limits
 * Hard limits of the DER / X.509 decoders, unit in each name. Crossing one yields an anomaly or
 * a failed parse, never unbounded work.
 */

/** Nesting levels the DER walker enters (a certificate needs about 8; GeneralNames a few more). */
export const MAX_DER_DEPTH_LEVELS = 32
/** Subsequent octets of a high-tag-number identifier (X.690 §8.1.2.4): tag numbers < 2^28. */
export const MAX_DER_TAG_NUMBER_BYTES = 4
/** Octets of a long-form length (X.690 §8.1.3.5); 4 octets already exceed any capture. */
export const MAX_DER_LENGTH_BYTES = 4
/** AttributeTypeAndValue entries kept per Name (issuer or subject); the rest are ignored. */
export const MAX_X509_NAME_ATTRIBUTES = 128
/** Extensions kept per certificate; the rest are ignored. */
export const MAX_X509_EXTENSIONS = 128
/** subjectAltName entries kept per certificate; the rest are ignored. */
export const MAX_X509_SAN_ENTRIES = 1_024
/** Bytes of an OBJECT IDENTIFIER content decoded to dotted form (longer ones are rejected). */
export const MAX_OID_BYTES = 128
/** Dotted OID strings cached by their hex form. */
export const MAX_OID_CACHE_ENTRIES = 1_024

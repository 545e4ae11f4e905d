import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DerReader } from './der.ts'
import { escapeRfc4514 } from './name.ts'
import { decodeString, latin1, type DecodedString } from './strings.ts'

function str(tag: number, content: ArrayLike<number>): DecodedString {
  const bytes = Uint8Array.from([tag, content.length, ...Array.from(content)])
  return decodeString(new DerReader(bytes).next())
}

// Expected values come from Node's own encoders (Buffer), not from the decoder under test.
const utf16be = (s: string): number[] => [...Buffer.from(s, 'utf16le').swap16()]
const utf32be = (s: string): number[] =>
  [...s].flatMap((ch) => {
    const cp = ch.codePointAt(0) ?? 0
    return [cp >>> 24, (cp >> 16) & 0xff, (cp >> 8) & 0xff, cp & 0xff]
  })

test('UTF8String, BMPString (UTF-16BE), UniversalString (UTF-32BE)', () => {
  const s = 'Zoë 日本 ☃ 𝄞'
  assert.deepEqual(str(12, Buffer.from(s, 'utf8')), { value: s, problem: undefined })
  assert.deepEqual(str(30, utf16be(s)), { value: s, problem: undefined })
  assert.deepEqual(str(28, utf32be(s)), { value: s, problem: undefined })
})

test('broken encodings are decoded as well as possible and reported', () => {
  assert.deepEqual(str(12, [0x61, 0xc3]), { value: 'a\ufffd', problem: 'bad_chars' })
  // BMPString: odd length; a lone high surrogate.
  assert.deepEqual(str(30, [0x00, 0x61, 0x00]), { value: 'a', problem: 'bad_chars' })
  assert.deepEqual(str(30, [0xd8, 0x34, 0x00, 0x61]), { value: '\ufffda', problem: 'bad_chars' })
  // UniversalString: beyond U+10FFFF; a length that is not a multiple of 4.
  assert.deepEqual(str(28, [0x00, 0x11, 0x00, 0x00]), { value: '\ufffd', problem: 'bad_chars' })
  assert.deepEqual(str(28, [0, 0, 0, 0x61, 0]), { value: 'a', problem: 'bad_chars' })
})

test('8-bit types: charset rules of X.680 §41.4', () => {
  assert.deepEqual(str(19, Buffer.from("Ab 0'()+,-./:=?")), {
    value: "Ab 0'()+,-./:=?",
    problem: undefined,
  })
  // `*` and `@` are not PrintableString characters, though CAs have used them.
  assert.equal(str(19, Buffer.from('*.example.com')).problem, 'bad_chars')
  assert.equal(str(22, Buffer.from('a@b.c')).problem, undefined)
  assert.deepEqual(str(22, [0x61, 0xe9]), { value: 'aé', problem: 'bad_chars' })
  assert.deepEqual(str(18, Buffer.from('12 34')), { value: '12 34', problem: undefined })
  assert.equal(str(18, Buffer.from('12a')).problem, 'bad_chars')
  assert.equal(str(26, [0x61, 0x0a]).problem, 'bad_chars')
  // TeletexString is read as ISO 8859-1.
  assert.deepEqual(str(20, [0x43, 0x61, 0x66, 0xe9]), { value: 'Café', problem: undefined })
})

test('other types become #hex of the whole TLV', () => {
  assert.deepEqual(str(4, [0x01, 0x02]), { value: '#04020102', problem: 'unknown_type' })
  // A constructed UTF8String (BER only).
  assert.deepEqual(decodeString(new DerReader(Uint8Array.of(0x2c, 0)).next()), {
    value: '#2c00',
    problem: 'unknown_type',
  })
})

test('latin1 handles values longer than one argument chunk', () => {
  const big = new Uint8Array(100_000).fill(0x41)
  assert.equal(latin1(big), 'A'.repeat(100_000))
})

test('RFC 4514 §2.4 escaping', () => {
  assert.equal(escapeRfc4514('a,b+c"d\\e<f>g;h'), 'a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h')
  assert.equal(escapeRfc4514('#x# '), '\\#x#\\ ')
  assert.equal(escapeRfc4514(' x'), '\\ x')
  assert.equal(escapeRfc4514('a\u0000b\nc\u007f'), 'a\\00b\\0Ac\\7F')
  assert.equal(escapeRfc4514('Zoë=日本'), 'Zoë=日本')
})

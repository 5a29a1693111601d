import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DeleteGroups } from '../../src/protocol/delete-groups.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** Hex with whitespace and `-- comments` allowed; strict, so a typo cannot silently truncate. */
const hex = (s: string) => {
  const h = s.replace(/--[^\n]*/g, '').replace(/\s+/g, '')
  if (!/^(?:[0-9a-f]{2})*$/i.test(h)) throw new Error(`bad hex: ${h}`)
  return Buffer.from(h, 'hex')
}
const encode = (groupsNames: string[], version: number) => {
  const w = new Writer(8)
  DeleteGroups.encode(w, { groupsNames }, version)
  return w.toBuffer().toString('hex')
}
const decode = (bytes: string, version: number) => {
  const r = new Reader(hex(bytes))
  const res = DeleteGroups.decode(r, version)
  r.expectEnd()
  return res
}

test('DeleteGroups matches the schema header', () => {
  assert.is(DeleteGroups.apiKey, 42)
  assert.is(DeleteGroups.minVersion, 0)
  assert.is(DeleteGroups.maxVersion, 2)
  assert.is(DeleteGroups.flexibleFrom, 2)
})

test('DeleteGroups request bytes', () => {
  assert.is(encode(['g', 'hi'], 0), hex('00000002 0001 67 0002 6869').toString('hex'))
  assert.is(encode(['g', 'hi'], 1), hex('00000002 0001 67 0002 6869').toString('hex'))
  assert.is(encode(['g', 'hi'], 2), hex('03 02 67 03 6869 00').toString('hex'))
})

test('DeleteGroups response decode', () => {
  assert.equal(decode('00000000 00000002 0001 67 0000 0002 6869 0045', 0), {
    throttleTimeMs: 0,
    results: [
      { groupId: 'g', errorCode: 0 },
      { groupId: 'hi', errorCode: 69 },
    ],
  })
  assert.equal(decode('0000000a 02 02 67 0044 00 00', 2), {
    throttleTimeMs: 10,
    results: [{ groupId: 'g', errorCode: 68 }],
  })
})

test.run()

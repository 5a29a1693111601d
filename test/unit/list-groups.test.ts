import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ListGroups, type ListGroupsRequest } from '../../src/protocol/list-groups.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** Hex with whitespace and `-- comments` allowed; strict, so a typo cannot silently truncate. */
const hex = (s: string) => {
  const h = s.replace(/--[^\n]*/g, '').replace(/\s+/g, '')
  if (!/^(?:[0-9a-f]{2})*$/i.test(h)) throw new Error(`bad hex: ${h}`)
  return Buffer.from(h, 'hex')
}
const encode = (req: ListGroupsRequest, version: number) => {
  const w = new Writer(8)
  ListGroups.encode(w, req, version)
  return w.toBuffer().toString('hex')
}
const decode = (bytes: string, version: number) => {
  const r = new Reader(hex(bytes))
  const res = ListGroups.decode(r, version)
  r.expectEnd()
  return res
}

test('ListGroups matches the schema header', () => {
  assert.is(ListGroups.apiKey, 16)
  assert.is(ListGroups.minVersion, 0)
  assert.is(ListGroups.maxVersion, 5)
  assert.is(ListGroups.flexibleFrom, 3)
})

const request = { statesFilter: ['Stable'], typesFilter: ['consumer'] }

test('ListGroups request bytes', () => {
  // v0-2: an empty body.
  assert.is(encode(request, 0), '')
  assert.is(encode(request, 2), '')
  // v3: flexible, only the tagged-field section.
  assert.is(encode(request, 3), '00')
  // v4: StatesFilter.
  assert.is(encode(request, 4), hex('02 07 537461626c65 00').toString('hex'))
  const v5 = hex(`
    02 07 537461626c65            -- StatesFilter ['Stable']
    02 09 636f6e73756d6572        -- TypesFilter ['consumer']
    00                            -- tagged fields
  `)
  assert.is(encode(request, 5), v5.toString('hex'))
  assert.is(encode({}, 5), hex('01 01 00').toString('hex'))
})

test('ListGroups v0 response decode', () => {
  assert.equal(decode('0000 00000002 0001 67 0008 636f6e73756d6572 0001 68 0000', 0), {
    throttleTimeMs: 0,
    errorCode: 0,
    groups: [
      { groupId: 'g', protocolType: 'consumer', groupState: '', groupType: '' },
      { groupId: 'h', protocolType: '', groupState: '', groupType: '' },
    ],
  })
  assert.equal(decode('00000007 000f 00000000', 1), { throttleTimeMs: 7, errorCode: 15, groups: [] })
})

test('ListGroups v3 to v5 response decode', () => {
  assert.equal(decode('00000000 0000 02 02 67 09 636f6e73756d6572 00 00', 3).groups, [
    { groupId: 'g', protocolType: 'consumer', groupState: '', groupType: '' },
  ])
  const res = decode(
    `00000000 0000
     02                           -- Groups: 1
       02 67                      --   GroupId 'g'
       09 636f6e73756d6572        --   ProtocolType 'consumer'
       07 537461626c65            --   GroupState 'Stable'
       09 636f6e73756d6572        --   GroupType 'consumer'
       00
     00`,
    5,
  )
  assert.equal(res, {
    throttleTimeMs: 0,
    errorCode: 0,
    groups: [{ groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' }],
  })
})

test.run()

import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// ListGroups (key 16). v1 adds ThrottleTimeMs to the response, v3 is the first flexible version,
// v4 adds StatesFilter / GroupState (KIP-518), v5 TypesFilter / GroupType (KIP-848).

export interface ListGroupsRequest {
  /** v4+; only groups in these states (e.g. 'Stable'); empty for all. Default []. */
  statesFilter?: string[]
  /** v5+; only groups of these types ('classic', 'consumer', ...); empty for all. Default []. */
  typesFilter?: string[]
}

export interface ListedGroup {
  groupId: string
  protocolType: string
  /** v4+; '' before. */
  groupState: string
  /** v5+; '' before. */
  groupType: string
}

export interface ListGroupsResponse {
  /** v1+; 0 before. */
  throttleTimeMs: number
  errorCode: number
  groups: ListedGroup[]
}

function writeStrings(w: Writer, values: string[], flexible: boolean): void {
  w.arrayLength(values.length, flexible)
  for (let i = 0; i < values.length; i++) w.string(values[i], flexible)
}

export const ListGroups: Api<ListGroupsRequest, ListGroupsResponse> = {
  apiKey: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 3,

  encode(w: Writer, request: ListGroupsRequest, version: number): void {
    if (version >= 4) writeStrings(w, request.statesFilter ?? [], true)
    if (version >= 5) writeStrings(w, request.typesFilter ?? [], true)
    if (version >= 3) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): ListGroupsResponse {
    const flexible = version >= 3
    const throttleTimeMs = version >= 1 ? r.int32() : 0
    const errorCode = r.int16()
    const n = r.arrayLength(flexible)
    const groups: ListedGroup[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const groupId = r.string(flexible)
      const protocolType = r.string(flexible)
      const groupState = version >= 4 ? r.string(flexible) : ''
      const groupType = version >= 5 ? r.string(flexible) : ''
      if (flexible) r.skipTaggedFields()
      groups[i] = { groupId, protocolType, groupState, groupType }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, errorCode, groups }
  },
}

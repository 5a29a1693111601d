import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// DeleteGroups (key 42). v1 only changes throttling behaviour, v2 is the first flexible version.

export interface DeleteGroupsRequest {
  /** The groups to delete (the schema's own spelling, GroupsNames). */
  groupsNames: string[]
}

export interface DeletableGroupResult {
  groupId: string
  errorCode: number
}

export interface DeleteGroupsResponse {
  throttleTimeMs: number
  results: DeletableGroupResult[]
}

export const DeleteGroups: Api<DeleteGroupsRequest, DeleteGroupsResponse> = {
  apiKey: 42,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,

  encode(w: Writer, request: DeleteGroupsRequest, version: number): void {
    const flexible = version >= 2
    const names = request.groupsNames
    w.arrayLength(names.length, flexible)
    for (let i = 0; i < names.length; i++) w.string(names[i], flexible)
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): DeleteGroupsResponse {
    const flexible = version >= 2
    const throttleTimeMs = r.int32()
    const n = r.arrayLength(flexible)
    const results: DeletableGroupResult[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const groupId = r.string(flexible)
      const errorCode = r.int16()
      if (flexible) r.skipTaggedFields()
      results[i] = { groupId, errorCode }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, results }
  },
}

import type { Reader } from './reader.js'

/** A broker endpoint as Produce (v10+) and Fetch (v16+) responses carry it in their tagged NodeEndpoints field. */
export interface NodeEndpoint {
  nodeId: number
  host: string
  port: number
  rack: string | null
}

/** The NodeEndpoints tagged field (a compact array of flexible structs), read from a reader bounded to the tag. */
export function readNodeEndpoints(r: Reader): NodeEndpoint[] {
  const n = r.arrayLength(true)
  const endpoints: NodeEndpoint[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const nodeId = r.int32()
    const host = r.string(true)
    const port = r.int32()
    const rack = r.nullableString(true)
    r.skipTaggedFields()
    endpoints[i] = { nodeId, host, port, rack }
  }
  return endpoints
}

import type { Api } from './api.js'
import { EncodeError } from './errors.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// DescribeCluster (key 60), v0-2, flexible in every version (KIP-700).
// v1 adds EndpointType (KIP-919: describe brokers or controllers); v2 adds IncludeFencedBrokers and
// each broker's IsFenced (KIP-1073).

export interface DescribeClusterRequest {
  includeClusterAuthorizedOperations: boolean
  /** v1+; 1 brokers (the default), 2 controllers. Any other value is an EncodeError for v0. */
  endpointType?: number
  /** v2+; default false. Setting it true for v0-1 is an EncodeError. */
  includeFencedBrokers?: boolean
}

export interface DescribeClusterBroker {
  brokerId: number
  host: string
  port: number
  rack: string | null
  /** v2+; false before. */
  isFenced: boolean
}

export interface DescribeClusterResponse {
  throttleTimeMs: number
  errorCode: number
  errorMessage: string | null
  /** v1+; 1 (brokers) before. */
  endpointType: number
  clusterId: string
  controllerId: number
  brokers: DescribeClusterBroker[]
  /** A bitfield of ACL operations; -2147483648 when not requested. */
  clusterAuthorizedOperations: number
}

export const DescribeCluster: Api<DescribeClusterRequest, DescribeClusterResponse> = {
  apiKey: 60,
  name: 'DescribeCluster',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 0,

  encode(w: Writer, request: DescribeClusterRequest, version: number): void {
    w.boolean(request.includeClusterAuthorizedOperations)
    const endpointType = request.endpointType ?? 1
    if (version >= 1) w.int8(endpointType)
    else if (endpointType !== 1) {
      throw new EncodeError(`DescribeCluster v${version} cannot carry endpointType ${endpointType} (v1+)`)
    }
    if (version >= 2) w.boolean(request.includeFencedBrokers ?? false)
    else if (request.includeFencedBrokers === true) {
      throw new EncodeError(`DescribeCluster v${version} cannot carry includeFencedBrokers (v2+)`)
    }
    w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): DescribeClusterResponse {
    const throttleTimeMs = r.int32()
    const errorCode = r.int16()
    const errorMessage = r.nullableString(true)
    const endpointType = version >= 1 ? r.int8() : 1
    const clusterId = r.string(true)
    const controllerId = r.int32()
    const n = r.arrayLength(true)
    const brokers: DescribeClusterBroker[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const brokerId = r.int32()
      const host = r.string(true)
      const port = r.int32()
      const rack = r.nullableString(true)
      const isFenced = version >= 2 ? r.boolean() : false
      r.skipTaggedFields()
      brokers[i] = { brokerId, host, port, rack, isFenced }
    }
    const clusterAuthorizedOperations = r.int32()
    r.skipTaggedFields()
    return {
      throttleTimeMs,
      errorCode,
      errorMessage,
      endpointType,
      clusterId,
      controllerId,
      brokers,
      clusterAuthorizedOperations,
    }
  },
}

import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// IncrementalAlterConfigs (key 44), v0-1, flexible from v1 (KIP-339).

export interface AlterableConfig {
  name: string
  /** 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT. */
  configOperation: number
  value: string | null
}

export interface AlterConfigsResource {
  /** Resource type: 2 topic, 4 broker, 8 broker logger, 16 client metrics, 32 group. */
  resourceType: number
  resourceName: string
  configs: AlterableConfig[]
}

export interface IncrementalAlterConfigsRequest {
  resources: AlterConfigsResource[]
  validateOnly: boolean
}

export interface AlterConfigsResourceResponse {
  errorCode: number
  errorMessage: string | null
  resourceType: number
  resourceName: string
}

export interface IncrementalAlterConfigsResponse {
  throttleTimeMs: number
  responses: AlterConfigsResourceResponse[]
}

export const IncrementalAlterConfigs: Api<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse> = {
  apiKey: 44,
  name: 'IncrementalAlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,

  encode(w: Writer, request: IncrementalAlterConfigsRequest, version: number): void {
    const flexible = version >= 1
    w.arrayLength(request.resources.length, flexible)
    for (const resource of request.resources) {
      w.int8(resource.resourceType)
      w.string(resource.resourceName, flexible)
      w.arrayLength(resource.configs.length, flexible)
      for (const config of resource.configs) {
        w.string(config.name, flexible)
        w.int8(config.configOperation)
        w.nullableString(config.value, flexible)
        if (flexible) w.emptyTaggedFields()
      }
      if (flexible) w.emptyTaggedFields()
    }
    w.boolean(request.validateOnly)
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): IncrementalAlterConfigsResponse {
    const flexible = version >= 1
    const throttleTimeMs = r.int32()
    const n = r.arrayLength(flexible)
    const responses: AlterConfigsResourceResponse[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const errorCode = r.int16()
      const errorMessage = r.nullableString(flexible)
      const resourceType = r.int8()
      const resourceName = r.string(flexible)
      if (flexible) r.skipTaggedFields()
      responses[i] = { errorCode, errorMessage, resourceType, resourceName }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, responses }
  },
}

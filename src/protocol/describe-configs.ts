import type { Api } from './api.js'
import { EncodeError } from './errors.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// DescribeConfigs (key 32), v1-4, flexible from v4. v0 was removed in Kafka 4.0.
// v1 adds IncludeSynonyms (request) and ConfigSource + synonyms (response), dropping IsDefault;
// v2 is v1; v3 adds IncludeDocumentation (request) and ConfigType + Documentation (response).

export interface DescribeConfigsResource {
  /** Resource type: 2 topic, 4 broker, 8 broker logger, 16 client metrics, 32 group. */
  resourceType: number
  resourceName: string
  /** The keys to describe, or null for all of them. */
  configurationKeys: string[] | null
}

export interface DescribeConfigsRequest {
  resources: DescribeConfigsResource[]
  /** v1+ (every version we speak); default false. */
  includeSynonyms?: boolean
  /** v3+; default false. Setting it true for v1-2 is an EncodeError (the broker could not honour it). */
  includeDocumentation?: boolean
}

export interface DescribeConfigsSynonym {
  name: string
  value: string | null
  source: number
}

export interface DescribeConfigsResourceResult {
  name: string
  value: string | null
  readOnly: boolean
  /** v1+ (every version we speak); default -1. */
  configSource: number
  isSensitive: boolean
  /** v1+ (every version we speak). */
  synonyms: DescribeConfigsSynonym[]
  /** v3+; 0 (unknown) before. */
  configType: number
  /** v3+; '' before. */
  documentation: string | null
}

export interface DescribeConfigsResult {
  errorCode: number
  errorMessage: string | null
  resourceType: number
  resourceName: string
  configs: DescribeConfigsResourceResult[]
}

export interface DescribeConfigsResponse {
  throttleTimeMs: number
  results: DescribeConfigsResult[]
}

export const DescribeConfigs: Api<DescribeConfigsRequest, DescribeConfigsResponse> = {
  apiKey: 32,
  name: 'DescribeConfigs',
  minVersion: 1,
  maxVersion: 4,
  flexibleFrom: 4,

  encode(w: Writer, request: DescribeConfigsRequest, version: number): void {
    const flexible = version >= 4
    w.arrayLength(request.resources.length, flexible)
    for (const resource of request.resources) {
      w.int8(resource.resourceType)
      w.string(resource.resourceName, flexible)
      const keys = resource.configurationKeys
      if (keys == null) w.nullableArrayLength(null, flexible)
      else {
        w.arrayLength(keys.length, flexible)
        for (const key of keys) w.string(key, flexible)
      }
      if (flexible) w.emptyTaggedFields()
    }
    w.boolean(request.includeSynonyms ?? false)
    if (version >= 3) w.boolean(request.includeDocumentation ?? false)
    else if (request.includeDocumentation === true) {
      throw new EncodeError(`DescribeConfigs v${version} cannot carry includeDocumentation (v3+)`)
    }
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): DescribeConfigsResponse {
    const flexible = version >= 4
    const throttleTimeMs = r.int32()
    const n = r.arrayLength(flexible)
    const results: DescribeConfigsResult[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const errorCode = r.int16()
      const errorMessage = r.nullableString(flexible)
      const resourceType = r.int8()
      const resourceName = r.string(flexible)
      const m = r.arrayLength(flexible)
      const configs: DescribeConfigsResourceResult[] = new Array(m)
      for (let j = 0; j < m; j++) {
        const name = r.string(flexible)
        const value = r.nullableString(flexible)
        const readOnly = r.boolean()
        const configSource = r.int8()
        const isSensitive = r.boolean()
        const s = r.arrayLength(flexible)
        const synonyms: DescribeConfigsSynonym[] = new Array(s)
        for (let k = 0; k < s; k++) {
          const synonymName = r.string(flexible)
          const synonymValue = r.nullableString(flexible)
          const source = r.int8()
          if (flexible) r.skipTaggedFields()
          synonyms[k] = { name: synonymName, value: synonymValue, source }
        }
        let configType = 0
        let documentation: string | null = ''
        if (version >= 3) {
          configType = r.int8()
          documentation = r.nullableString(flexible)
        }
        if (flexible) r.skipTaggedFields()
        configs[j] = { name, value, readOnly, configSource, isSensitive, synonyms, configType, documentation }
      }
      if (flexible) r.skipTaggedFields()
      results[i] = { errorCode, errorMessage, resourceType, resourceName, configs }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, results }
  },
}

import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

export interface ApiVersionsRequest {
  /** v3+ */
  clientSoftwareName?: string
  /** v3+ */
  clientSoftwareVersion?: string
}

export interface ApiVersionRange {
  apiKey: number
  minVersion: number
  maxVersion: number
}

export interface SupportedFeatureKey {
  name: string
  minVersion: number
  maxVersion: number
}

export interface FinalizedFeatureKey {
  name: string
  maxVersionLevel: number
  minVersionLevel: number
}

export interface ApiVersionsResponse {
  errorCode: number
  apiKeys: ApiVersionRange[]
  /** v1+ */
  throttleTimeMs: number
  /** v3+, tag 0 */
  supportedFeatures: SupportedFeatureKey[]
  /** v3+, tag 1 */
  finalizedFeaturesEpoch: bigint
  /** v3+, tag 2 */
  finalizedFeatures: FinalizedFeatureKey[]
  /** v3+, tag 3 */
  zkMigrationReady: boolean
}

const DEFAULT_SOFTWARE_NAME = 'kafka-wire'
const DEFAULT_SOFTWARE_VERSION = '0.1.0'

export const ApiVersions: Api<ApiVersionsRequest, ApiVersionsResponse> = {
  apiKey: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,

  encode(w: Writer, request: ApiVersionsRequest, version: number): void {
    if (version >= 3) {
      w.string(request.clientSoftwareName ?? DEFAULT_SOFTWARE_NAME, true)
      w.string(request.clientSoftwareVersion ?? DEFAULT_SOFTWARE_VERSION, true)
      w.emptyTaggedFields()
    }
  },

  decode(r: Reader, version: number): ApiVersionsResponse {
    const flexible = version >= 3
    const errorCode = r.int16()
    const n = r.arrayLength(flexible)
    const apiKeys: ApiVersionRange[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const apiKey = r.int16()
      const minVersion = r.int16()
      const maxVersion = r.int16()
      if (flexible) r.skipTaggedFields()
      apiKeys[i] = { apiKey, minVersion, maxVersion }
    }
    const throttleTimeMs = version >= 1 ? r.int32() : 0
    const response: ApiVersionsResponse = {
      errorCode,
      apiKeys,
      throttleTimeMs,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    }
    if (flexible) {
      r.taggedFields((tag, t) => {
        switch (tag) {
          case 0: {
            const count = t.arrayLength(true)
            for (let i = 0; i < count; i++) {
              const name = t.string(true)
              const minVersion = t.int16()
              const maxVersion = t.int16()
              t.skipTaggedFields()
              response.supportedFeatures.push({ name, minVersion, maxVersion })
            }
            return true
          }
          case 1:
            response.finalizedFeaturesEpoch = t.int64()
            return true
          case 2: {
            const count = t.arrayLength(true)
            for (let i = 0; i < count; i++) {
              const name = t.string(true)
              const maxVersionLevel = t.int16()
              const minVersionLevel = t.int16()
              t.skipTaggedFields()
              response.finalizedFeatures.push({ name, maxVersionLevel, minVersionLevel })
            }
            return true
          }
          case 3:
            response.zkMigrationReady = t.boolean()
            return true
          default:
            return false
        }
      })
    }
    return response
  },
}

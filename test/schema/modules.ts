// Every API codec module of src/protocol, found by shape: each exported object with a numeric apiKey,
// version range and flexibleFrom and encode/decode functions. New modules are picked up by every test
// that iterates codecs (conformance, golden wire bytes, fuzzing) without a list to keep in sync.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { AnyApi } from '../../src/protocol/api.js'

export const PROTOCOL_DIR = fileURLToPath(new URL('../../src/protocol/', import.meta.url))

export interface FoundApi {
  file: string
  exportName: string
  api: AnyApi
}

export function isApi(v: unknown): v is AnyApi {
  if (typeof v !== 'object' || v === null) return false
  const o = v as Record<string, unknown>
  return (
    typeof o.apiKey === 'number' &&
    typeof o.minVersion === 'number' &&
    typeof o.maxVersion === 'number' &&
    typeof o.flexibleFrom === 'number' &&
    typeof o.encode === 'function' &&
    typeof o.decode === 'function'
  )
}

export interface Discovery {
  /** Every exported codec, in file order (an object exported twice is listed once). */
  found: FoundApi[]
  /** The first codec found per API key, by key. */
  byKey: Map<number, AnyApi>
  /** Modules that failed to import. */
  importFailures: Array<{ file: string; error: unknown }>
}

export async function discoverApis(): Promise<Discovery> {
  const found: FoundApi[] = []
  const importFailures: Array<{ file: string; error: unknown }> = []
  for (const file of readdirSync(PROTOCOL_DIR).sort()) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue
    let mod: Record<string, unknown>
    try {
      mod = await import(pathToFileURL(join(PROTOCOL_DIR, file)).href)
    } catch (error) {
      importFailures.push({ file, error })
      continue
    }
    const seen = new Set<unknown>()
    for (const [exportName, value] of Object.entries(mod)) {
      if (!isApi(value) || seen.has(value)) continue
      seen.add(value)
      found.push({ file, exportName, api: value })
    }
  }
  const byKey = new Map<number, AnyApi>()
  for (const f of found) if (!byKey.has(f.api.apiKey)) byKey.set(f.api.apiKey, f.api)
  return { found, byKey, importFailures }
}

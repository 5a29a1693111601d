// What the Graphite reporter and the Prometheus exposition share: the registries they read, the percentiles a
// histogram or timer offers, and the error of a reporter that cannot do its job (a port already in use).
import { ConfigError } from '../../client/errors.js'
import type { HistogramValues, Metric, MetricsRegistry } from '../../client/metrics.js'
import { KafkaWireError } from '../../protocol/errors.js'

/** A registry, or several reported as one (a mirror maker's consumer and producer). */
export type Registries = MetricsRegistry | readonly MetricsRegistry[]

/** A reporter that could not start or serve: an address in use, a listener that failed. Never retriable. */
export class MetricsReporterError extends KafkaWireError {
  constructor(message: string, cause?: unknown) {
    super('ERR_METRICS_REPORTER', message, cause === undefined ? {} : { cause })
  }
}

/** The quantiles a histogram or timer snapshot holds, and the field that holds each. */
export const PERCENTILE_FIELDS: ReadonlyMap<number, keyof HistogramValues> = new Map<number, keyof HistogramValues>([
  [0.5, 'p50'],
  [0.75, 'p75'],
  [0.95, 'p95'],
  [0.99, 'p99'],
  [0.999, 'p999'],
])

/** Every percentile the registry computes: 0.5, 0.75, 0.95, 0.99, 0.999. */
export const ALL_PERCENTILES: readonly number[] = [...PERCENTILE_FIELDS.keys()]

/**
 * Checks a list of quantiles (0..1) against those the registry computes and returns them sorted without
 * duplicates; anything else is a ConfigError naming the allowed values.
 */
export function checkPercentiles(percentiles: readonly number[] | undefined, option: string): number[] {
  if (percentiles === undefined) return [...ALL_PERCENTILES]
  if (!Array.isArray(percentiles)) throw new ConfigError(`${option} must be an array of quantiles`)
  for (const q of percentiles) {
    if (!PERCENTILE_FIELDS.has(q)) {
      throw new ConfigError(`${option}: ${String(q)} is not one of ${ALL_PERCENTILES.join(', ')}`)
    }
  }
  return [...new Set(percentiles)].sort((a, b) => a - b)
}

/** Calls `fn` for every metric of every registry, in order. */
export function eachMetric(registries: Registries, fn: (metric: Metric) => void): void {
  if (Array.isArray(registries)) for (const r of registries as readonly MetricsRegistry[]) r.each(fn)
  else (registries as MetricsRegistry).each(fn)
}

/** Throws a ConfigError unless `registries` is a registry or a non-empty array of them. */
export function checkRegistries(registries: unknown, option: string): Registries {
  const list = Array.isArray(registries) ? registries : [registries]
  if (list.length === 0 || list.some((r) => r === null || typeof r !== 'object' || typeof r.each !== 'function')) {
    throw new ConfigError(`${option} must be a MetricsRegistry or a non-empty array of them`)
  }
  return registries as Registries
}

/** Throws a ConfigError unless `value` is an integer in [min, max]. */
export function checkInteger(value: unknown, option: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${option} must be an integer from ${min} to ${max}, got ${String(value)}`)
  }
  return value
}

/** Exponential backoff with full jitter between `baseMs` and `maxMs`. */
export interface BackoffOptions {
  baseMs?: number
  maxMs?: number
}

export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const base = options.baseMs ?? 100
  const max = options.maxMs ?? 10_000
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30))
  // Jitter between half and all of the ceiling keeps retries spread out without ever retrying at once.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

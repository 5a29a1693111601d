import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { backoffDelay, sleep } from '../../src/network/backoff.js'

const ceiling = (attempt: number, base: number, max: number) => Math.min(max, base * 2 ** attempt)

test('delays stay between half and all of the exponential ceiling, never above maxMs', () => {
  const options = { baseMs: 50, maxMs: 3000 }
  for (let attempt = 0; attempt < 40; attempt++) {
    const c = ceiling(Math.min(attempt, 30), 50, 3000)
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(attempt, options)
      assert.ok(Number.isInteger(d), `attempt ${attempt}: ${d} is not whole milliseconds`)
      assert.ok(d >= Math.floor(c / 2) && d <= c, `attempt ${attempt}: ${d} outside [${c / 2}, ${c}]`)
    }
  }
})

test('delays grow with the attempt until the cap, for any fixed draw of the random source', () => {
  for (const draw of [0, 0.25, 0.5, 0.999999]) {
    const delays = Array.from({ length: 12 }, (_, attempt) =>
      backoffDelay(attempt, { baseMs: 100, maxMs: 5000 }, () => draw),
    )
    for (let i = 1; i < delays.length; i++) {
      assert.ok(delays[i] >= delays[i - 1], `draw ${draw}: ${delays.join(', ')}`)
    }
    // Doubling below the cap: 100, 200, 400, 800, 1600, 3200, then capped at 5000.
    assert.ok(delays[1] > delays[0] && delays[5] > delays[4], `draw ${draw}: no growth in ${delays.join(', ')}`)
    assert.is(delays[11], delays[6], 'flat once capped')
  }
  assert.is(
    backoffDelay(0, { baseMs: 100, maxMs: 5000 }, () => 0),
    50,
  )
  assert.is(
    backoffDelay(0, { baseMs: 100, maxMs: 5000 }, () => 1),
    100,
  )
  assert.is(
    backoffDelay(3, { baseMs: 100, maxMs: 5000 }, () => 0),
    400,
  )
  assert.is(
    backoffDelay(10, { baseMs: 100, maxMs: 5000 }, () => 1),
    5000,
  )
})

test('defaults (100 ms base, 10 s cap) and huge attempt numbers stay finite', () => {
  assert.ok(backoffDelay(0) >= 50 && backoffDelay(0) <= 100)
  for (const attempt of [31, 64, 1000, Number.MAX_SAFE_INTEGER]) {
    const d = backoffDelay(attempt)
    assert.ok(Number.isFinite(d) && d >= 5000 && d <= 10_000, `attempt ${attempt}: ${d}`)
  }
})

test('jitter spreads retries: many draws for one attempt are not all the same', () => {
  const seen = new Set(Array.from({ length: 100 }, () => backoffDelay(4, { baseMs: 100, maxMs: 10_000 })))
  assert.ok(seen.size > 20, `${seen.size} distinct delays`)
})

test('sleep waits about the given time', async () => {
  const started = performance.now()
  await sleep(60)
  const took = performance.now() - started
  assert.ok(took >= 55 && took < 500, `slept ${took} ms`)
})

test('sleep rejects with the abort reason, at once when already aborted', async () => {
  const reason = new Error('stop')
  const aborted = AbortSignal.abort(reason)
  const started = performance.now()
  try {
    await sleep(10_000, aborted)
    assert.unreachable('resolved')
  } catch (err) {
    assert.is(err, reason)
  }
  const controller = new AbortController()
  const pending = sleep(10_000, controller.signal)
  setTimeout(() => controller.abort(reason), 20)
  try {
    await pending
    assert.unreachable('resolved')
  } catch (err) {
    assert.is(err, reason)
  }
  assert.ok(performance.now() - started < 1000)
})

test('sleep removes its abort listener when it resolves', async () => {
  const controller = new AbortController()
  let added = 0
  let removed = 0
  const signal = controller.signal
  const add = signal.addEventListener.bind(signal)
  const remove = signal.removeEventListener.bind(signal)
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    added++
    return add(...args)
  }) as typeof signal.addEventListener
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    removed++
    return remove(...args)
  }) as typeof signal.removeEventListener
  for (let i = 0; i < 5; i++) await sleep(1, signal)
  assert.is(added, 5)
  assert.is(removed, 5)
  controller.abort()
})

test.run()

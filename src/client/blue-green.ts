// Blue/green switching of a running consumer fleet, through a compacted control topic.
//
// The protocol (docs/blue-green.md tells it for operators):
//   - A switch request is one record per group that moves, all written in one produce call and sharing an id:
//     key = the group the instances are in now, value = JSON {v: 1, id, requestedAt, from, to: {groupId, topics?,
//     whitelist?, blacklist?}}. Swapping fleets A and B writes A -> B and B -> A.
//   - Consumers started with `blueGreen` follow the control topic from its end as of their start (they do not
//     replay old requests: a restarted instance starts in the group its configuration names). On a record whose
//     key is the group they are in, they drain (finish in-flight work), commit, leave the group, and join the
//     target group with the target's subscription, resuming from that group's committed offsets.
//   - An instance applies each request id once: after A -> B it ignores the B -> A record of the same request,
//     which is meant for the other fleet.
//   - The topic is compacted (the latest request per group is kept) with one partition, so every instance sees the
//     requests in the order they were written.
// No barrier is needed between the fleets: within each group, the group protocol itself hands partitions over
// (revoke, commit, then assign), so a partition never has two owners in one group.

import { randomUUID } from 'node:crypto'
import { connectionOptionsOf } from '../network/cluster.js'
import { type ErrorDetails, KafkaWireError } from '../protocol/errors.js'
import { Admin, type AdminConfig } from './admin.js'
import { Producer } from './producer.js'
import { topicNameProblem } from './topics.js'

export const DEFAULT_CONTROL_TOPIC = '__kafka_wire_control'

/** Where a fleet goes: the group and its subscription (topics, or one pattern). */
export interface SwitchTarget {
  groupId: string
  topics?: string[]
  whitelist?: string
  blacklist?: string
}

export interface SwitchRequest {
  id: string
  /** Milliseconds since the epoch. */
  requestedAt: number
  /** The group whose instances move. */
  from: string
  to: SwitchTarget
}

/** A control record that is not a switch request we understand. */
export class SwitchRequestError extends KafkaWireError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('ERR_SWITCH_REQUEST', message, { ...details, retriable: false })
  }
}

export function encodeSwitchRequest(request: SwitchRequest): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, ...request }))
}

/** Parses and checks a control record's value; throws SwitchRequestError on anything else. */
export function decodeSwitchRequest(value: Buffer | null): SwitchRequest {
  if (value === null) throw new SwitchRequestError('a control record without a value')
  let parsed: unknown
  try {
    parsed = JSON.parse(value.toString('utf8'))
  } catch (err) {
    throw new SwitchRequestError('a control record that is not JSON', { cause: err })
  }
  const r = parsed as Partial<SwitchRequest> & { v?: unknown }
  if (typeof r !== 'object' || r === null || r.v !== 1)
    throw new SwitchRequestError('a control record of an unknown version')
  if (typeof r.id !== 'string' || r.id === '') throw new SwitchRequestError('a switch request without an id')
  if (typeof r.from !== 'string' || r.from === '') throw new SwitchRequestError('a switch request without a group')
  const to = r.to as Partial<SwitchTarget> | undefined
  if (typeof to !== 'object' || to === null || typeof to.groupId !== 'string' || to.groupId === '')
    throw new SwitchRequestError('a switch request without a target group')
  if (to.topics !== undefined && (!Array.isArray(to.topics) || !to.topics.every((t) => typeof t === 'string')))
    throw new SwitchRequestError('a switch request whose topics are not a list of names')
  for (const p of ['whitelist', 'blacklist'] as const) {
    if (to[p] === undefined) continue
    if (typeof to[p] !== 'string') throw new SwitchRequestError(`a switch request whose ${p} is not a string`)
    try {
      new RegExp(to[p] as string)
    } catch (err) {
      throw new SwitchRequestError(`a switch request whose ${p} is not a regular expression`, { cause: err })
    }
  }
  return {
    id: r.id,
    requestedAt: typeof r.requestedAt === 'number' ? r.requestedAt : 0,
    from: r.from,
    to: { groupId: to.groupId, topics: to.topics, whitelist: to.whitelist, blacklist: to.blacklist },
  }
}

/** Create the control topic (compacted, one partition) unless it exists. */
export async function ensureControlTopic(admin: Admin, topic = DEFAULT_CONTROL_TOPIC): Promise<void> {
  await admin.connect()
  const replication = Math.min(3, Math.max(1, admin.cluster.brokers.size))
  await admin.createTopics(
    [
      {
        topic,
        partitions: 1,
        replicationFactor: replication,
        configs: { 'cleanup.policy': 'compact', 'min.insync.replicas': '1' },
      },
    ],
    { ignoreExisting: true },
  )
}

export interface RequestSwitchOptions extends AdminConfig {
  controlTopic?: string
  /** Each entry moves the instances of `from` to `to`. A swap of two fleets has two entries. */
  switches: Array<{ from: string; to: SwitchTarget }>
}

/**
 * Write a switch request to the control topic (created when missing) and return it. Every instance of each
 * `from` group that follows the control topic moves to its target.
 */
export async function requestSwitch(options: RequestSwitchOptions): Promise<SwitchRequest[]> {
  const { controlTopic = DEFAULT_CONTROL_TOPIC, switches, brokers } = options
  const connection = { ...connectionOptionsOf(options), brokers }
  const problem = topicNameProblem(controlTopic)
  if (problem) throw new SwitchRequestError(problem)
  if (switches.length === 0) throw new SwitchRequestError('a switch request needs at least one group to move')
  const froms = new Set<string>()
  for (const s of switches) {
    if (!s.from || !s.to?.groupId) throw new SwitchRequestError('each switch needs a from group and a target group')
    if (s.from === s.to.groupId) throw new SwitchRequestError(`group ${s.from} cannot switch to itself`)
    if (froms.has(s.from)) throw new SwitchRequestError(`group ${s.from} is moved twice in one request`)
    froms.add(s.from)
    if (s.to.whitelist !== undefined && s.to.blacklist !== undefined)
      throw new SwitchRequestError('a target takes a whitelist or a blacklist, not both')
    for (const t of s.to.topics ?? []) {
      const bad = topicNameProblem(t)
      if (bad) throw new SwitchRequestError(bad)
    }
  }
  const id = randomUUID()
  const requestedAt = Date.now()
  const requests = switches.map((s) => ({ id, requestedAt, from: s.from, to: s.to }))
  const admin = new Admin(connection)
  try {
    await ensureControlTopic(admin, controlTopic)
  } finally {
    admin.close()
  }
  const producer = new Producer({ ...connection, acks: 'all' })
  try {
    await producer.send(
      requests.map((r) => ({ topic: controlTopic, partition: 0, key: r.from, value: encodeSwitchRequest(r) })),
    )
  } finally {
    await producer.close()
  }
  return requests
}

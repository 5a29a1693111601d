// Partition assignors of the classic group protocol: the group leader runs one on the subscriptions it got in
// the JoinGroup response and hands each member its share in SyncGroup. All three are pure functions of their
// input: no clock, no randomness, no dependence on the order of `members` (members are sorted first).
//
// - `rangeAssignor` ('range', eager): Java's RangeAssignor, result for result, rack-aware (KIP-881) included.
// - `roundRobinAssignor` ('roundrobin', eager): Java's RoundRobinAssignor, result for result.
// - `cooperativeStickyAssignor` ('cooperative-sticky', cooperative; KIP-429, KIP-341, KIP-881): balanced, sticky,
//   and two-phase: a partition moving from A to B is only taken from A in this rebalance; B gets it in the next.
//   When all members have the same subscription it follows Java's constrained algorithm and gives Java's result
//   (see "Where we differ from Java" below); otherwise it computes an optimal assignment (below), where Java
//   runs a heuristic whose results we do not try to reproduce.
//
// Member order. Range and round robin order members as Java's MemberInfo does: members with a
// group.instance.id first, by instance id, then the others by member id (strings compared by UTF-16 code
// units, as Java's String.compareTo); we break a tie (two members with one instance id) by member id. The
// sticky assignor orders members by member id only, as Java's does.
//
// Topics. A topic is assigned when some member subscribes to it and `partitionsPerTopic` gives it at least one
// partition (its partitions are 0..n-1); subscribed topics missing from it are skipped, as Java skips topics
// without metadata. Topics nobody subscribes to are ignored.
//
// Cooperative-sticky, the general case (members with different subscriptions). The assignment minimises, in
// this order of priority: (1) imbalance, as the sum of the squares of the members' partition counts: an
// optimal "semi-matching", which also minimises the largest count and gives members with the same subscription
// counts at most one apart; (2) when rack-aware, the number of partitions on a member whose rack holds no
// replica; (3) the number of partitions taken from their owner. It starts from every member keeping what it
// owns and the free partitions going to the least loaded subscribers, balances along shortest chains of moves
// (breadth-first), then cancels negative cycles (queue-based Bellman-Ford) in the residual graph of "move one
// partition from member X to member Y" until none is left: the optimality condition of this min-cost flow.
// Java's general algorithm is a heuristic that iterates hash maps, checks balance by a weaker criterion, and
// in random differential runs against kafka-clients 4.1.1 sometimes gave members partitions of topics they do
// not subscribe to (after an empty subscription, or to a stale previous owner) or threw; we do not reproduce it.
//
// Ownership (KIP-341). A member's `ownedPartitions` count with its generation: `generationId` when it is >= 0
// (ConsumerProtocolSubscription v2+), else the int32 that `cooperativeStickyAssignor.subscriptionUserData` put
// in its user data (what v0/v1 members send), else -1. A partition claimed by several members belongs to the
// one with the highest generation; when two or more share the highest generation, it belongs to nobody (both
// will be told to give it up). Claims on topics not being assigned or on partitions past the topic's count are
// ignored.
//
// The cooperative rule. After computing the target assignment, a partition is withheld from member X (left out
// of X's assignment for this rebalance) when X does not own it and some other member claims it. The claimant
// sees the partition missing from its assignment, revokes it and rejoins; the next rebalance gives it to X.
// Two rebalances in a row with the same members reach the target and revoke nothing the second time.
//
// Where we differ from Java (cooperative-sticky, same subscriptions). The first two are where Java's result
// depends on the iteration order of a HashMap keyed by member id (member ids such as "m0".."m9", whose Java
// hash order is their sorted order, give Java's results, see test/unit/assignors.test.ts):
// - when more members own at least the larger quota than may keep it, Java lets the first ones in hash order
//   keep it; we take them in member id order;
// - with three or more claims on one partition, Java's winner depends on hash order (a same-generation pair
//   seen before a higher generation invalidates it); we always give it to the unique highest generation;
// - "all subscriptions equal" compares the subscribed topics that exist (Java compares the raw lists, so a
//   member also subscribed to a missing topic sends Java to its general case);
// - Java keeps owned partitions whose number is past the topic's partition count; we drop them;
// - a member that lost a partition to a newer generation: Java's general case hands the partition straight
//   back to that member when it lands there; we withhold it until the newer owner has revoked it.
//
// Rack awareness (KIP-881), with member racks (`rackId`) and replica racks (`partitionRacks`): range follows
// Java exactly; cooperative-sticky follows Java's constrained algorithm (owned partitions off-rack are given up,
// free partitions are dealt to same-rack members first) and in the general case minimises off-rack partitions
// after balance, before stickiness. Round robin ignores racks, as Java's does.

import type { ConsumerProtocolSubscription, ConsumerProtocolTopicPartition } from '../protocol/consumer-protocol.js'
import { KafkaWireError } from '../protocol/errors.js'

export interface TopicPartition {
  topic: string
  partition: number
}

/** What the leader knows of one member: its JoinGroup protocol metadata, decoded. */
export interface MemberSubscription {
  memberId: string
  /** group.instance.id of a static member. */
  groupInstanceId?: string | null
  topics: readonly string[]
  /** Partitions the member owns now (ConsumerProtocolSubscription v1+). Only the sticky assignor reads them. */
  ownedPartitions?: readonly TopicPartition[]
  /** The generation those partitions were assigned in (v2+); -1 or absent when unknown. */
  generationId?: number
  /** client.rack (v3+); null, absent or empty when unknown. */
  rackId?: string | null
  userData?: Buffer | null
}

export interface AssignorInput {
  members: readonly MemberSubscription[]
  /** Partition count per topic (from metadata). */
  partitionsPerTopic: ReadonlyMap<string, number>
  /**
   * Per topic, per partition: the racks of its replicas (broker.rack). With member racks, enables rack-aware
   * assignment (KIP-881) for range and cooperative-sticky, under Java's conditions: some member rack holds a
   * replica, and not every partition has replicas on the same set of racks.
   */
  partitionRacks?: ReadonlyMap<string, readonly (readonly string[] | null | undefined)[]>
}

/** Member id -> assigned partitions. Every member is a key (in member id order); lists are sorted. */
export type GroupAssignment = Map<string, TopicPartition[]>

export type RebalanceProtocol = 'eager' | 'cooperative'

export interface SubscriptionUserDataContext {
  topics: readonly string[]
  /** The generation of the member's current assignment, -1 before the first one. */
  generationId: number
}

export interface Assignor {
  /** The protocol name members advertise in JoinGroup (partition.assignment.strategy). */
  readonly name: string
  /** The rebalance protocol the assignor is built for. */
  readonly protocol: RebalanceProtocol
  /** Every protocol it can run under (a cooperative assignor also works under eager). */
  readonly supportedProtocols: readonly RebalanceProtocol[]
  /** The assignor's own version (Java's ConsumerPartitionAssignor.version()); 0 for the built-in ones. */
  readonly version: number
  assign(input: AssignorInput): GroupAssignment
  /** User data for this member's subscription; absent or null for none. */
  subscriptionUserData?(context: SubscriptionUserDataContext): Buffer | null
}

// ---------------------------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------------------------

/** String order of Java's String.compareTo (UTF-16 code units), which is also JavaScript's `<`. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Topic, then partition. */
export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  return compareStrings(a.topic, b.topic) || a.partition - b.partition
}

function inputError(message: string): KafkaWireError {
  return new KafkaWireError('ERR_ASSIGNOR_INPUT', message)
}

interface Member {
  /** Position in member id order. */
  readonly index: number
  readonly id: string
  readonly instanceId: string | null
  /** A non-empty rack, or null. */
  readonly rack: string | null
  /** Subscribed topics that are being assigned, sorted, without duplicates. */
  readonly topics: readonly string[]
  readonly topicSet: ReadonlySet<string>
  readonly subscription: MemberSubscription
}

interface Normalized {
  /** Sorted by member id. */
  readonly members: readonly Member[]
  /** Topics being assigned: subscribed by someone and with at least one partition. Sorted. */
  readonly topics: readonly string[]
  readonly counts: ReadonlyMap<string, number>
}

function normalize(input: AssignorInput): Normalized {
  const counts = new Map<string, number>()
  for (const [topic, count] of input.partitionsPerTopic) {
    if (!Number.isInteger(count) || count < 0) {
      throw inputError(`partitionsPerTopic: topic '${topic}' has ${count} partitions`)
    }
    counts.set(topic, count)
  }
  const subs = [...input.members].sort((a, b) => compareStrings(a.memberId, b.memberId))
  const subscribed = new Set<string>()
  const members: Member[] = subs.map((sub, index) => {
    if (typeof sub.memberId !== 'string') throw inputError('a member without a memberId')
    if (index > 0 && subs[index - 1].memberId === sub.memberId) throw inputError(`member '${sub.memberId}' twice`)
    const topicSet = new Set<string>()
    for (const t of sub.topics) if ((counts.get(t) ?? 0) > 0) topicSet.add(t)
    const topics = [...topicSet].sort(compareStrings)
    for (const t of topics) subscribed.add(t)
    return {
      index,
      id: sub.memberId,
      instanceId: typeof sub.groupInstanceId === 'string' ? sub.groupInstanceId : null,
      rack: typeof sub.rackId === 'string' && sub.rackId.length > 0 ? sub.rackId : null,
      topics,
      topicSet,
      subscription: sub,
    }
  })
  return { members, topics: [...subscribed].sort(compareStrings), counts }
}

/** Java's AbstractPartitionAssignor.MemberInfo order; ties (a duplicated instance id) broken by member id. */
function compareMemberInfo(a: Member, b: Member): number {
  if (a.instanceId !== null && b.instanceId !== null) {
    return compareStrings(a.instanceId, b.instanceId) || compareStrings(a.id, b.id)
  }
  if (a.instanceId !== null) return -1
  if (b.instanceId !== null) return 1
  return compareStrings(a.id, b.id)
}

function toAssignment(members: readonly Member[], lists: TopicPartition[][]): GroupAssignment {
  const out: GroupAssignment = new Map()
  for (const m of members) out.set(m.id, lists[m.index].sort(compareTopicPartitions))
  return out
}

function replicaRacks(input: AssignorInput, topic: string, partition: number): Set<string> {
  const racks = new Set<string>()
  const list = input.partitionRacks?.get(topic)?.[partition]
  if (list) for (const r of list) if (typeof r === 'string') racks.add(r)
  return racks
}

/**
 * Java's rule for using rack-aware assignment: some member rack holds a replica, and the partitions do not all
 * have replicas on the same set of racks (when they do, racks cannot make any difference).
 */
function useRackAware(
  memberRacks: ReadonlySet<string>,
  allPartitionRacks: ReadonlySet<string>,
  racksPerPartition: readonly ReadonlySet<string>[],
): boolean {
  if (memberRacks.size === 0) return false
  let disjoint = true
  for (const r of memberRacks) {
    if (allPartitionRacks.has(r)) {
      disjoint = false
      break
    }
  }
  if (disjoint) return false
  return !racksPerPartition.every(
    (s) => s.size === allPartitionRacks.size && [...s].every((r) => allPartitionRacks.has(r)),
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Range
// ---------------------------------------------------------------------------------------------------------------

/** One topic of a range assignment: its consumers in MemberInfo order and the quota bookkeeping. */
class RangeTopic {
  readonly topic: string
  readonly consumers: readonly Member[]
  /** Consumer ids, for grouping topics with the same consumers. */
  readonly consumersKey: string
  readonly partitionCount: number
  /** Replica racks per partition; only computed when one of the consumers has a rack. */
  readonly racks: readonly Set<string>[] | null
  readonly needsRackAware: boolean
  /** 1 for partitions already assigned. */
  private readonly taken: Uint8Array
  private unassignedCount: number
  private readonly assignedCount = new Map<Member, number>()
  private readonly quota: number
  private extra: number

  constructor(topic: string, partitionCount: number, consumers: readonly Member[], input: AssignorInput) {
    this.topic = topic
    this.consumers = consumers
    this.consumersKey = consumers.map((c) => c.id).join('\u0000')
    this.partitionCount = partitionCount
    this.taken = new Uint8Array(partitionCount)
    this.unassignedCount = partitionCount
    for (const c of consumers) this.assignedCount.set(c, 0)
    this.quota = consumers.length === 0 ? 0 : Math.floor(partitionCount / consumers.length)
    this.extra = consumers.length === 0 ? 0 : partitionCount % consumers.length
    const memberRacks = new Set<string>()
    for (const c of consumers) if (c.rack !== null) memberRacks.add(c.rack)
    if (memberRacks.size > 0) {
      const racks: Set<string>[] = []
      const all = new Set<string>()
      for (let p = 0; p < partitionCount; p++) {
        const s = replicaRacks(input, topic, p)
        racks.push(s)
        for (const r of s) all.add(r)
      }
      this.racks = racks
      this.needsRackAware = useRackAware(memberRacks, all, racks)
    } else {
      this.racks = null
      this.needsRackAware = false
    }
  }

  /** The number of partitions the topic's racks are known for: the co-partitioning key of Java. */
  get rackKey(): number {
    return this.racks === null ? 0 : this.racks.length
  }

  racksMatch(consumer: Member, partition: number): boolean {
    return consumer.rack === null || this.racks?.[partition].has(consumer.rack) === true
  }

  maxAssignable(consumer: Member): number {
    const max = this.quota + (this.extra > 0 ? 1 : 0) - (this.assignedCount.get(consumer) ?? 0)
    return Math.max(0, max)
  }

  assign(consumer: Member, partitions: readonly number[], lists: TopicPartition[][]): void {
    const list = lists[consumer.index]
    for (const p of partitions) list.push({ topic: this.topic, partition: p })
    const n = (this.assignedCount.get(consumer) ?? 0) + partitions.length
    this.assignedCount.set(consumer, n)
    if (n > this.quota) this.extra--
    for (const p of partitions) this.taken[p] = 1
    this.unassignedCount -= partitions.length
  }

  /** Each consumer in turn takes the lowest unassigned partitions it may take, up to its quota. */
  assignRanges(lists: TopicPartition[][], matchRacks: boolean): void {
    for (const consumer of this.consumers) {
      if (this.unassignedCount === 0) break
      const limit = this.maxAssignable(consumer)
      const picked: number[] = []
      for (let p = 0; p < this.partitionCount && picked.length < limit; p++) {
        if (this.taken[p] === 0 && (!matchRacks || this.racksMatch(consumer, p))) picked.push(p)
      }
      if (picked.length > 0) this.assign(consumer, picked, lists)
    }
  }
}

/**
 * Rack matching before the plain ranges (KIP-881): topics with the same consumers and partition count are
 * co-partitioned, and partition p of all of them goes to the first consumer whose rack has a replica of each;
 * a topic alone takes rack-matching partitions range by range.
 */
function rangeRackMatching(states: readonly RangeTopic[], lists: TopicPartition[][]): void {
  const groups = new Map<string, RangeTopic[]>()
  for (const s of states) {
    const key = `${s.consumersKey}\u0001${s.rackKey}`
    const g = groups.get(key)
    if (g) g.push(s)
    else groups.set(key, [s])
  }
  for (const group of groups.values()) {
    if (group.length > 1) {
      const remaining = [...group[0].consumers]
      const n = group[0].rackKey
      for (let p = 0; p < n && remaining.length > 0; p++) {
        const at = remaining.findIndex((c) => group.every((t) => t.racksMatch(c, p) && t.maxAssignable(c) > 0))
        if (at < 0) continue
        const consumer = remaining[at]
        for (const t of group) t.assign(consumer, [p], lists)
        if (group.every((t) => t.maxAssignable(consumer) === 0)) remaining.splice(at, 1)
      }
    } else if (group[0].needsRackAware) {
      group[0].assignRanges(lists, true)
    }
  }
}

function assignRange(input: AssignorInput): GroupAssignment {
  const n = normalize(input)
  const lists: TopicPartition[][] = n.members.map(() => [])
  const ordered = [...n.members].sort(compareMemberInfo)
  const states = n.topics.map(
    (t) =>
      new RangeTopic(
        t,
        n.counts.get(t)!,
        ordered.filter((m) => m.topicSet.has(t)),
        input,
      ),
  )
  if (states.some((s) => s.needsRackAware)) rangeRackMatching(states, lists)
  for (const s of states) s.assignRanges(lists, false)
  return toAssignment(n.members, lists)
}

// ---------------------------------------------------------------------------------------------------------------
// Round robin
// ---------------------------------------------------------------------------------------------------------------

function assignRoundRobin(input: AssignorInput): GroupAssignment {
  const n = normalize(input)
  const lists: TopicPartition[][] = n.members.map(() => [])
  const ordered = [...n.members].sort(compareMemberInfo)
  let next = 0
  for (const topic of n.topics) {
    const count = n.counts.get(topic)!
    for (let p = 0; p < count; p++) {
      // Some member subscribes to every topic in n.topics, so this ends.
      while (!ordered[next % ordered.length].topicSet.has(topic)) next++
      lists[ordered[next % ordered.length].index].push({ topic, partition: p })
      next++
    }
  }
  return toAssignment(n.members, lists)
}

// ---------------------------------------------------------------------------------------------------------------
// Cooperative sticky
// ---------------------------------------------------------------------------------------------------------------

/** The generation a member's owned partitions belong to (see the header), -1 when unknown. */
export function subscriptionGeneration(sub: Pick<MemberSubscription, 'generationId' | 'userData'>): number {
  if (typeof sub.generationId === 'number' && sub.generationId >= 0) return sub.generationId
  const ud = sub.userData
  if (ud && ud.length >= 4) return ud.readInt32BE(0)
  return -1
}

/** The user data Java's CooperativeStickyAssignor sends: the generation as an int32, for v0/v1 leaders. */
export function encodeCooperativeStickyUserData(generationId: number): Buffer {
  const b = Buffer.allocUnsafe(4)
  b.writeInt32BE(generationId, 0)
  return b
}

/** All partitions being assigned, numbered topic by topic (topics sorted), partition by partition. */
class PartitionSpace {
  readonly topics: readonly string[]
  readonly size: number
  /** Topic index of each partition. */
  readonly topicOf: Int32Array
  readonly partitionOf: Int32Array
  /** First global index of each topic. */
  readonly offsets: Int32Array
  private readonly topicIndex = new Map<string, number>()

  constructor(n: Normalized) {
    this.topics = n.topics
    this.offsets = new Int32Array(n.topics.length + 1)
    n.topics.forEach((t, i) => {
      this.topicIndex.set(t, i)
      this.offsets[i + 1] = this.offsets[i] + n.counts.get(t)!
    })
    this.size = this.offsets[n.topics.length]
    this.topicOf = new Int32Array(this.size)
    this.partitionOf = new Int32Array(this.size)
    for (let t = 0; t < n.topics.length; t++) {
      for (let g = this.offsets[t]; g < this.offsets[t + 1]; g++) {
        this.topicOf[g] = t
        this.partitionOf[g] = g - this.offsets[t]
      }
    }
  }

  /** Global index of a topic-partition, -1 when it is not being assigned. */
  index(topic: string, partition: number): number {
    const t = this.topicIndex.get(topic)
    if (t === undefined || !Number.isInteger(partition) || partition < 0) return -1
    const g = this.offsets[t] + partition
    return g < this.offsets[t + 1] ? g : -1
  }

  topicIndexOf(topic: string): number {
    return this.topicIndex.get(topic) ?? -1
  }

  tp(g: number): TopicPartition {
    return { topic: this.topics[this.topicOf[g]], partition: this.partitionOf[g] }
  }
}

/** Resolved ownership (KIP-341). */
interface Ownership {
  /** The owner (member index) of each partition, -1 for none or disputed. */
  readonly owner: Int32Array
  /** How many members claim each partition. */
  readonly claims: Int32Array
}

function resolveOwnership(members: readonly Member[], space: PartitionSpace): Ownership {
  const owner = new Int32Array(space.size).fill(-1)
  const claims = new Int32Array(space.size)
  const bestGeneration = new Float64Array(space.size).fill(Number.NEGATIVE_INFINITY)
  for (const m of members) {
    const generation = subscriptionGeneration(m.subscription)
    const seen = new Set<number>()
    for (const tp of m.subscription.ownedPartitions ?? []) {
      const g = space.index(tp.topic, tp.partition)
      if (g < 0 || seen.has(g)) continue
      seen.add(g)
      claims[g]++
      if (generation > bestGeneration[g]) {
        bestGeneration[g] = generation
        owner[g] = m.index
      } else if (generation === bestGeneration[g]) {
        owner[g] = -1 // disputed: two claims of the highest generation
      }
    }
  }
  return { owner, claims }
}

/** Rack information of a sticky assignment; `active` when Java's conditions for rack-aware assignment hold. */
class StickyRacks {
  readonly active: boolean
  private readonly memberRack: readonly (string | null)[]
  private readonly partitionRacks: readonly Set<string>[]
  /** Per partition: how many members sit in a rack holding a replica. */
  readonly membersInRacks: Int32Array

  constructor(members: readonly Member[], space: PartitionSpace, input: AssignorInput) {
    this.memberRack = members.map((m) => m.rack)
    const membersByRack = new Map<string, number>()
    for (const m of members) if (m.rack !== null) membersByRack.set(m.rack, (membersByRack.get(m.rack) ?? 0) + 1)
    this.membersInRacks = new Int32Array(space.size)
    if (membersByRack.size === 0) {
      this.active = false
      this.partitionRacks = []
      return
    }
    const racks: Set<string>[] = []
    const all = new Set<string>()
    for (let g = 0; g < space.size; g++) {
      const s = replicaRacks(input, space.topics[space.topicOf[g]], space.partitionOf[g])
      racks.push(s)
      for (const r of s) all.add(r)
    }
    this.active = useRackAware(new Set(membersByRack.keys()), all, racks)
    this.partitionRacks = racks
    if (this.active) {
      for (let g = 0; g < space.size; g++) {
        let n = 0
        for (const r of racks[g]) n += membersByRack.get(r) ?? 0
        this.membersInRacks[g] = n
      }
    }
  }

  /** The member has a rack and no replica of the partition is in it (always false when not rack-aware). */
  mismatch(member: number, g: number): boolean {
    if (!this.active) return false
    const rack = this.memberRack[member]
    return rack !== null && !this.partitionRacks[g].has(rack)
  }

  /** Index in `list` of the first member (from `first`, wrapping) in a rack with a replica of g, else -1. */
  nextRackMember(g: number, list: readonly number[], first: number): number {
    const racks = this.partitionRacks[g]
    if (racks.size === 0) return -1
    for (let i = 0; i < list.length; i++) {
      const at = (first + i) % list.length
      const rack = this.memberRack[list[at]]
      if (rack !== null && racks.has(rack)) return at
    }
    return -1
  }
}

interface StickyState {
  readonly members: readonly Member[]
  readonly space: PartitionSpace
  readonly ownership: Ownership
  readonly racks: StickyRacks
}

function assignmentError(message: string): KafkaWireError {
  return new KafkaWireError('ERR_ASSIGNOR_STATE', `cooperative-sticky: ${message}`)
}

/**
 * All members subscribe to the same topics: Java's constrained algorithm. Each member keeps its owned partitions
 * up to its quota (the lowest partition numbers first, then topic), at most `total % members` members keeping
 * the larger quota; the rest is dealt round robin to members under quota (with rack matching first when
 * rack-aware), then to members at the lower quota while larger quotas remain.
 */
function constrainedAssignment(s: StickyState): Int32Array {
  const { members, space, ownership, racks } = s
  const total = space.size
  const count = members.length
  const minQuota = Math.floor(total / count)
  const maxQuota = Math.ceil(total / count)
  const expectedOverMin = total % count
  let overMin = 0
  const holder = new Int32Array(total).fill(-1)
  const sizes = new Int32Array(count)
  const underMin: number[] = []
  let exactlyMin: number[] = []

  const owned: number[][] = members.map(() => [])
  for (let g = 0; g < total; g++) {
    const o = ownership.owner[g]
    if (o >= 0 && !racks.mismatch(o, g)) owned[o].push(g)
  }
  const give = (g: number, m: number): number => {
    holder[g] = m
    return ++sizes[m]
  }
  for (const m of members) {
    const mine = owned[m.index].sort(
      (a, b) => space.partitionOf[a] - space.partitionOf[b] || space.topicOf[a] - space.topicOf[b],
    )
    if (mine.length < minQuota) {
      for (const g of mine) give(g, m.index)
      underMin.push(m.index)
    } else if (mine.length >= maxQuota && overMin < expectedOverMin) {
      for (let i = 0; i < maxQuota; i++) give(mine[i], m.index)
      if (++overMin === expectedOverMin) exactlyMin = []
    } else {
      for (let i = 0; i < minQuota; i++) give(mine[i], m.index)
      if (overMin < expectedOverMin) exactlyMin.push(m.index)
    }
  }

  let unassigned: number[] = []
  for (let g = 0; g < total; g++) if (holder[g] < 0) unassigned.push(g)
  // Member indexes are in member id order: these sorts are Java's sorts by member id.
  underMin.sort((a, b) => a - b)
  exactlyMin.sort((a, b) => a - b)

  if (racks.active) {
    // Partitions with the fewest members in their racks first (a stable sort, as Java's).
    unassigned.sort((a, b) => racks.membersInRacks[a] - racks.membersInRacks[b] || a - b)
    const rest: number[] = []
    let nextUnder = 0
    for (const g of unassigned) {
      let chosen = -1
      let at = racks.nextRackMember(g, underMin, nextUnder)
      if (at >= 0) {
        chosen = underMin[at]
        const n = sizes[chosen] + 1
        if (n >= minQuota) {
          underMin.splice(at, 1)
          if (n < maxQuota && overMin < expectedOverMin) exactlyMin.push(chosen)
        } else {
          at++
        }
        nextUnder = underMin.length === 0 ? 0 : at % underMin.length
      } else if (exactlyMin.length > 0) {
        const first = racks.nextRackMember(g, exactlyMin, 0)
        if (first >= 0) {
          chosen = exactlyMin[first]
          if (sizes[chosen] + 1 === maxQuota) {
            exactlyMin.splice(first, 1)
            if (++overMin === expectedOverMin) exactlyMin = []
          }
        }
      }
      if (chosen >= 0) give(g, chosen)
      else rest.push(g)
    }
    unassigned = rest
  }

  let cursor = 0
  for (const g of unassigned) {
    let m: number
    let fromUnder = true
    if (cursor < underMin.length) {
      m = underMin[cursor++]
    } else if (underMin.length === 0 && exactlyMin.length === 0) {
      throw assignmentError('no member left under quota for the remaining partitions')
    } else if (underMin.length === 0) {
      m = exactlyMin.shift()!
      fromUnder = false
    } else {
      cursor = 0
      m = underMin[cursor++]
    }
    const n = give(g, m)
    if (n === minQuota && fromUnder) {
      underMin.splice(--cursor, 1)
      exactlyMin.push(m)
    } else if (n === maxQuota) {
      overMin++
    }
  }
  if (underMin.length > 0) {
    if (overMin !== expectedOverMin) throw assignmentError('members left under the lower quota')
    for (const m of underMin) if (sizes[m] !== minQuota) throw assignmentError(`member ${members[m].id} under quota`)
  }
  return holder
}

/** One residual edge of the general optimisation: move partition `g` from member `from` to member `to`. */
interface MoveEdge {
  from: number
  to: number
  /** Balance part of the cost (only on edges through the balance node). */
  balance: number
  /** Rack and movement part of the cost. */
  cost: number
  g: number
}

/**
 * Members subscribe to different topics: the optimal assignment described in the header, as a min-cost flow.
 * Starting from every member keeping what it owns and free partitions going to the least loaded subscriber:
 * first balance, by moving partitions along shortest paths from the most loaded members to members with at
 * least two fewer (an optimal semi-matching has no such path); then rack alignment and stickiness, by
 * cancelling negative cycles of the residual graph, whose balance part is then never negative.
 */
function generalAssignment(s: StickyState): Int32Array {
  const { members, space, ownership, racks } = s
  const count = members.length
  const total = space.size
  const topicCount = space.topics.length
  const subscribers: number[][] = space.topics.map(() => [])
  for (const m of members) for (const t of m.topics) subscribers[space.topicIndexOf(t)].push(m.index)

  // Rack mismatches weigh more than any sum of movements along a simple cycle (at most count + 1 edges).
  const rackWeight = count + 2
  const cost = (g: number, m: number): number => {
    const o = ownership.owner[g]
    return (racks.mismatch(m, g) ? rackWeight : 0) + (o >= 0 && o !== m ? 1 : 0)
  }

  const holder = new Int32Array(total).fill(-1)
  const load = new Int32Array(count)
  /** Partitions held per member and topic: held[m * topicCount + t]. */
  const held: Set<number>[] = Array.from({ length: count * topicCount }, () => new Set<number>())
  const place = (g: number, m: number): void => {
    const from = holder[g]
    if (from >= 0) {
      held[from * topicCount + space.topicOf[g]].delete(g)
      load[from]--
    }
    holder[g] = m
    held[m * topicCount + space.topicOf[g]].add(g)
    load[m]++
  }
  /** The partition of topic t held by x that is cheapest to move to y (lowest index on ties). */
  const cheapest = (x: number, y: number, t: number): { g: number; delta: number } => {
    let best = -1
    let bestDelta = 0
    for (const g of held[x * topicCount + t]) {
      const delta = cost(g, y) - cost(g, x)
      if (best < 0 || delta < bestDelta || (delta === bestDelta && g < best)) {
        best = g
        bestDelta = delta
      }
    }
    return { g: best, delta: bestDelta }
  }

  for (let g = 0; g < total; g++) {
    const o = ownership.owner[g]
    if (o >= 0 && members[o].topicSet.has(space.topics[space.topicOf[g]])) place(g, o)
  }
  // Free partitions to the least loaded subscriber, topics with the fewest subscribers first.
  const topicOrder = space.topics.map((_, t) => t)
  topicOrder.sort((a, b) => subscribers[a].length - subscribers[b].length || a - b)
  for (const t of topicOrder) {
    for (let g = space.offsets[t]; g < space.offsets[t + 1]; g++) {
      if (holder[g] >= 0) continue
      let best = -1
      let bestCost = 0
      for (const m of subscribers[t]) {
        const c = cost(g, m)
        if (best < 0 || load[m] < load[best] || (load[m] === load[best] && c < bestCost)) {
          best = m
          bestCost = c
        }
      }
      place(g, best)
    }
  }

  // Balance: breadth-first search from the members at the highest load level that still has a member at least
  // two below it, along "x holds a partition of a topic y subscribes to"; move one partition per hop.
  const parent = new Int32Array(count)
  const parentTopic = new Int32Array(count)
  const queue = new Int32Array(count)
  for (;;) {
    let moved = false
    const levels = [...new Set(load)].sort((a, b) => b - a)
    const lowest = levels[levels.length - 1]
    for (const level of levels) {
      if (level < lowest + 2) break
      parent.fill(-2)
      let head = 0
      let tail = 0
      for (let m = 0; m < count; m++) {
        if (load[m] === level) {
          parent[m] = -1
          queue[tail++] = m
        }
      }
      let found = -1
      while (head < tail && found < 0) {
        const x = queue[head++]
        for (let t = 0; t < topicCount && found < 0; t++) {
          if (held[x * topicCount + t].size === 0) continue
          for (const y of subscribers[t]) {
            if (parent[y] !== -2) continue
            parent[y] = x
            parentTopic[y] = t
            if (load[y] <= level - 2) {
              found = y
              break
            }
            queue[tail++] = y
          }
        }
      }
      if (found >= 0) {
        for (let y = found; parent[y] >= 0; y = parent[y]) place(cheapest(parent[y], y, parentTopic[y]).g, y)
        moved = true
        break
      }
    }
    if (!moved) break
  }

  // Rack alignment and stickiness at optimal balance: cancel negative cycles.
  const node = count // the balance node
  const vertices = count + 1
  const bestG = new Int32Array(count)
  const bestDelta = new Float64Array(count)
  const out: MoveEdge[][] = Array.from({ length: vertices }, () => [])
  const search = new CycleSearch(vertices)
  for (;;) {
    for (const list of out) list.length = 0
    for (let x = 0; x < count; x++) {
      bestG.fill(-1)
      for (let t = 0; t < topicCount; t++) {
        for (const g of held[x * topicCount + t]) {
          const base = cost(g, x)
          for (const y of subscribers[t]) {
            if (y === x) continue
            const delta = cost(g, y) - base
            if (bestG[y] < 0 || delta < bestDelta[y] || (delta === bestDelta[y] && g < bestG[y])) {
              bestG[y] = g
              bestDelta[y] = delta
            }
          }
        }
      }
      for (let y = 0; y < count; y++) {
        if (bestG[y] >= 0) out[x].push({ from: x, to: y, balance: 0, cost: bestDelta[y], g: bestG[y] })
      }
      // Taking a partition from x, giving one to x: the change of the sum of squares.
      if (load[x] > 0) out[node].push({ from: node, to: x, balance: 1 - 2 * load[x], cost: 0, g: -1 })
      out[x].push({ from: x, to: node, balance: 2 * load[x] + 1, cost: 0, g: -1 })
    }
    const cycle = search.find(out)
    if (cycle === null) break
    for (const e of cycle) if (e.g >= 0) place(e.g, e.to)
  }
  return holder
}

/**
 * Negative cycle search: queue-based Bellman-Ford (SPFA) from a virtual source at distance 0 to every vertex,
 * costs compared lexicographically (balance, then cost). The predecessor graph is searched for a cycle after
 * every `vertices` relaxations: a cycle there is negative, and one appears when a negative cycle exists.
 */
class CycleSearch {
  private readonly vertices: number
  private readonly distBalance: Float64Array
  private readonly distCost: Float64Array
  private readonly pred: Int32Array
  private readonly predEdge: (MoveEdge | null)[]
  private readonly inQueue: Uint8Array
  private readonly state: Uint8Array

  constructor(vertices: number) {
    this.vertices = vertices
    this.distBalance = new Float64Array(vertices)
    this.distCost = new Float64Array(vertices)
    this.pred = new Int32Array(vertices)
    this.predEdge = new Array(vertices).fill(null)
    this.inQueue = new Uint8Array(vertices)
    this.state = new Uint8Array(vertices)
  }

  /** The edges of a negative cycle in path order, or null when there is none. */
  find(out: readonly (readonly MoveEdge[])[]): MoveEdge[] | null {
    const { vertices, distBalance, distCost, pred, predEdge, inQueue } = this
    distBalance.fill(0)
    distCost.fill(0)
    pred.fill(-1)
    predEdge.fill(null)
    const queue: number[] = []
    for (let v = 0; v < vertices; v++) queue.push(v)
    inQueue.fill(1)
    let edgeCount = 0
    for (const list of out) edgeCount += list.length
    // Bellman-Ford's bound: with a negative cycle, the predecessor graph shows one well before this.
    const limit = vertices * (edgeCount + 1)
    let relaxations = 0
    for (let head = 0; head < queue.length; head++) {
      const u = queue[head]
      inQueue[u] = 0
      for (const e of out[u]) {
        const b = distBalance[u] + e.balance
        const c = distCost[u] + e.cost
        if (b < distBalance[e.to] || (b === distBalance[e.to] && c < distCost[e.to])) {
          distBalance[e.to] = b
          distCost[e.to] = c
          pred[e.to] = u
          predEdge[e.to] = e
          if (inQueue[e.to] === 0) {
            inQueue[e.to] = 1
            queue.push(e.to)
          }
          if (++relaxations % vertices === 0) {
            const cycle = this.predecessorCycle()
            if (cycle !== null) return cycle
            if (relaxations > limit) throw assignmentError('the negative cycle search does not converge')
          }
        }
      }
      if (head > 4096 && head * 2 > queue.length) {
        queue.splice(0, head + 1)
        head = -1
      }
    }
    return this.predecessorCycle()
  }

  /** A negative cycle of the predecessor graph, edges in path order, or null. */
  private predecessorCycle(): MoveEdge[] | null {
    const { vertices, pred, predEdge, state } = this
    // 0 = unvisited, 1 = on the current walk, 2 = done
    state.fill(0)
    for (let start = 0; start < vertices; start++) {
      let v = start
      while (v >= 0 && state[v] === 0) {
        state[v] = 1
        v = pred[v]
      }
      if (v >= 0 && state[v] === 1) {
        const cycle: MoveEdge[] = []
        let balance = 0
        let cost = 0
        let u = v
        do {
          const e = predEdge[u]!
          cycle.push(e)
          balance += e.balance
          cost += e.cost
          u = pred[u]
        } while (u !== v)
        if (balance < 0 || (balance === 0 && cost < 0)) return cycle.reverse()
      }
      v = start
      while (v >= 0 && state[v] === 1) {
        state[v] = 2
        v = pred[v]
      }
    }
    return null
  }
}

/** The result of a cooperative-sticky assignment, with the target it works towards. */
export interface CooperativeStickyPlan {
  /** What to send now: the target minus the partitions some other member must revoke first. */
  assignment: GroupAssignment
  /** The balanced, sticky assignment the group reaches once the revocations are done. */
  target: GroupAssignment
  /** Partitions in `target` but not in `assignment`, per member (only members with some). */
  pending: GroupAssignment
}

/** The cooperative-sticky assignment of `input`, with its target and what is held back this round. */
export function planCooperativeSticky(input: AssignorInput): CooperativeStickyPlan {
  const n = normalize(input)
  const assignmentLists: TopicPartition[][] = n.members.map(() => [])
  const targetLists: TopicPartition[][] = n.members.map(() => [])
  const pending: GroupAssignment = new Map()
  if (n.members.length > 0 && n.topics.length > 0) {
    const space = new PartitionSpace(n)
    const state: StickyState = {
      members: n.members,
      space,
      ownership: resolveOwnership(n.members, space),
      racks: new StickyRacks(n.members, space, input),
    }
    const first = n.members[0].topics
    const allEqual = n.members.every(
      (m) => m.topics.length === first.length && m.topics.every((t, i) => t === first[i]),
    )
    const holder = allEqual ? constrainedAssignment(state) : generalAssignment(state)
    const { owner, claims } = state.ownership
    for (let g = 0; g < space.size; g++) {
      const m = holder[g]
      const tp = space.tp(g)
      targetLists[m].push(tp)
      if (owner[g] === m || claims[g] === 0) {
        assignmentLists[m].push({ topic: tp.topic, partition: tp.partition })
      } else {
        const id = n.members[m].id
        const list = pending.get(id)
        if (list) list.push({ topic: tp.topic, partition: tp.partition })
        else pending.set(id, [{ topic: tp.topic, partition: tp.partition }])
      }
    }
  }
  return {
    assignment: toAssignment(n.members, assignmentLists),
    target: toAssignment(n.members, targetLists),
    pending,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The assignors
// ---------------------------------------------------------------------------------------------------------------

export const rangeAssignor: Assignor = Object.freeze({
  name: 'range',
  protocol: 'eager',
  supportedProtocols: Object.freeze(['eager']) as readonly RebalanceProtocol[],
  version: 0,
  assign: assignRange,
})

export const roundRobinAssignor: Assignor = Object.freeze({
  name: 'roundrobin',
  protocol: 'eager',
  supportedProtocols: Object.freeze(['eager']) as readonly RebalanceProtocol[],
  version: 0,
  assign: assignRoundRobin,
})

export const cooperativeStickyAssignor: Assignor = Object.freeze({
  name: 'cooperative-sticky',
  protocol: 'cooperative',
  supportedProtocols: Object.freeze(['cooperative', 'eager']) as readonly RebalanceProtocol[],
  version: 0,
  assign: (input: AssignorInput): GroupAssignment => planCooperativeSticky(input).assignment,
  subscriptionUserData: (context: SubscriptionUserDataContext): Buffer =>
    encodeCooperativeStickyUserData(context.generationId),
})

export const BUILT_IN_ASSIGNORS: readonly Assignor[] = Object.freeze([
  rangeAssignor,
  roundRobinAssignor,
  cooperativeStickyAssignor,
])

/** A built-in assignor by its protocol name ('range', 'roundrobin', 'cooperative-sticky'). */
export function assignorByName(name: string): Assignor | undefined {
  return BUILT_IN_ASSIGNORS.find((a) => a.name === name)
}

// ---------------------------------------------------------------------------------------------------------------
// For the consumer
// ---------------------------------------------------------------------------------------------------------------

/**
 * What changes for a member going from `previous` to `next`: partitions to revoke (owned, no longer assigned)
 * and partitions added (assigned, not owned). Both sorted, without duplicates. Under the cooperative protocol a
 * member revokes `revoked` and rejoins when it is not empty; under eager it revoked everything before joining.
 */
export function decideRevocations(
  previous: readonly TopicPartition[],
  next: readonly TopicPartition[],
): { revoked: TopicPartition[]; added: TopicPartition[] } {
  const key = (tp: TopicPartition): string => `${tp.partition}\u0000${tp.topic}`
  const before = new Map(previous.map((tp) => [key(tp), tp]))
  const after = new Map(next.map((tp) => [key(tp), tp]))
  const revoked: TopicPartition[] = []
  const added: TopicPartition[] = []
  for (const [k, tp] of before) if (!after.has(k)) revoked.push({ topic: tp.topic, partition: tp.partition })
  for (const [k, tp] of after) if (!before.has(k)) added.push({ topic: tp.topic, partition: tp.partition })
  return { revoked: revoked.sort(compareTopicPartitions), added: added.sort(compareTopicPartitions) }
}

/** A decoded JoinGroup member metadata (ConsumerProtocolSubscription) as an assignor input. */
export function memberSubscriptionFromProtocol(
  memberId: string,
  groupInstanceId: string | null,
  subscription: ConsumerProtocolSubscription,
): MemberSubscription {
  const ownedPartitions: TopicPartition[] = []
  for (const tp of subscription.ownedPartitions) {
    for (const partition of tp.partitions) ownedPartitions.push({ topic: tp.topic, partition })
  }
  return {
    memberId,
    groupInstanceId,
    topics: subscription.topics,
    ownedPartitions,
    generationId: subscription.generationId,
    rackId: subscription.rackId,
    userData: subscription.userData,
  }
}

/** Partitions grouped by topic (topics and partitions sorted), as ConsumerProtocolAssignment carries them. */
export function groupByTopic(partitions: readonly TopicPartition[]): ConsumerProtocolTopicPartition[] {
  const byTopic = new Map<string, Set<number>>()
  for (const tp of partitions) {
    const s = byTopic.get(tp.topic)
    if (s) s.add(tp.partition)
    else byTopic.set(tp.topic, new Set([tp.partition]))
  }
  return [...byTopic.keys()]
    .sort(compareStrings)
    .map((topic) => ({ topic, partitions: [...byTopic.get(topic)!].sort((a, b) => a - b) }))
}

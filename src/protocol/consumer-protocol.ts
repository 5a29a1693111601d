// The "consumer" embedded protocol of the classic group protocol: the metadata a member sends in JoinGroup
// (ConsumerProtocolSubscription) and the assignment the leader hands out in SyncGroup
// (ConsumerProtocolAssignment). Both are versioned by a leading int16 and never flexible
// (../shared/kafka-protocol/messages/ConsumerProtocol{Subscription,Assignment}.json, versions 0-3).
//
// Forward compatibility, as the Java client does it: a newer version may only append fields, so a reader
// decodes a version above ours with our highest version and ignores the bytes that follow. Versions below 0
// are rejected.
import { DecodeError, EncodeError } from './errors.js'
import { Reader } from './reader.js'
import { Writer } from './writer.js'

export const CONSUMER_PROTOCOL_TYPE = 'consumer'
export const SUBSCRIPTION_MAX_VERSION = 3
export const ASSIGNMENT_MAX_VERSION = 3

export interface ConsumerProtocolTopicPartition {
  topic: string
  partitions: number[]
}

export interface ConsumerProtocolSubscription {
  topics: string[]
  userData: Buffer | null
  /** v1+ */
  ownedPartitions: ConsumerProtocolTopicPartition[]
  /** v2+, -1 when unknown */
  generationId: number
  /** v3+ */
  rackId: string | null
}

export interface ConsumerProtocolAssignment {
  assignedPartitions: ConsumerProtocolTopicPartition[]
  userData: Buffer | null
}

/** What encoders accept: fields of later versions are optional. */
export interface ConsumerProtocolSubscriptionInput {
  topics: readonly string[]
  userData?: Uint8Array | null
  /** v1+ */
  ownedPartitions?: readonly { topic: string; partitions: readonly number[] }[]
  /** v2+, default -1 */
  generationId?: number
  /** v3+, default null */
  rackId?: string | null
}

export interface ConsumerProtocolAssignmentInput {
  assignedPartitions: readonly { topic: string; partitions: readonly number[] }[]
  userData?: Uint8Array | null
}

function checkVersion(version: number, max: number, what: string): void {
  if (!Number.isInteger(version) || version < 0 || version > max) {
    throw new EncodeError(`${what} version ${version} is outside 0-${max}`)
  }
}

function writeTopicPartitions(w: Writer, list: readonly { topic: string; partitions: readonly number[] }[]): void {
  w.arrayLength(list.length, false)
  for (const tp of list) {
    w.string(tp.topic, false)
    w.arrayLength(tp.partitions.length, false)
    for (const p of tp.partitions) w.int32(p)
  }
}

function readTopicPartitions(r: Reader): ConsumerProtocolTopicPartition[] {
  const n = r.arrayLength(false)
  const list: ConsumerProtocolTopicPartition[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const topic = r.string(false)
    const count = r.arrayLength(false)
    const partitions: number[] = new Array(count)
    for (let j = 0; j < count; j++) partitions[j] = r.int32()
    list[i] = { topic, partitions }
  }
  return list
}

/** Write a version-prefixed subscription into `w` (the JoinGroup protocol metadata). */
export function writeConsumerProtocolSubscription(
  w: Writer,
  sub: ConsumerProtocolSubscriptionInput,
  version = SUBSCRIPTION_MAX_VERSION,
): void {
  checkVersion(version, SUBSCRIPTION_MAX_VERSION, 'ConsumerProtocolSubscription')
  w.int16(version)
  w.arrayLength(sub.topics.length, false)
  for (const t of sub.topics) w.string(t, false)
  w.nullableBytes(sub.userData ?? null, false)
  if (version >= 1) writeTopicPartitions(w, sub.ownedPartitions ?? [])
  if (version >= 2) w.int32(sub.generationId ?? -1)
  if (version >= 3) w.nullableString(sub.rackId ?? null, false)
}

/** A version-prefixed subscription as an owned Buffer. */
export function encodeConsumerProtocolSubscription(
  sub: ConsumerProtocolSubscriptionInput,
  version = SUBSCRIPTION_MAX_VERSION,
): Buffer {
  const w = new Writer(64)
  writeConsumerProtocolSubscription(w, sub, version)
  return w.toBuffer()
}

/**
 * Decode a version-prefixed subscription. A version above 3 is read as version 3 and its extra bytes ignored.
 * The returned `version` is the one on the wire. Byte fields are views into `buf`.
 */
export function decodeConsumerProtocolSubscription(buf: Buffer): ConsumerProtocolSubscription & { version: number } {
  const r = new Reader(buf)
  const version = r.int16()
  if (version < 0) throw new DecodeError(`ConsumerProtocolSubscription version ${version}`, { at: 0 })
  const v = Math.min(version, SUBSCRIPTION_MAX_VERSION)
  const n = r.arrayLength(false)
  const topics: string[] = new Array(n)
  for (let i = 0; i < n; i++) topics[i] = r.string(false)
  const userData = r.nullableBytes(false)
  const ownedPartitions = v >= 1 ? readTopicPartitions(r) : []
  const generationId = v >= 2 ? r.int32() : -1
  const rackId = v >= 3 ? r.nullableString(false) : null
  return { version, topics, userData, ownedPartitions, generationId, rackId }
}

/** Write a version-prefixed assignment into `w` (a SyncGroup assignment). */
export function writeConsumerProtocolAssignment(
  w: Writer,
  assignment: ConsumerProtocolAssignmentInput,
  version = ASSIGNMENT_MAX_VERSION,
): void {
  checkVersion(version, ASSIGNMENT_MAX_VERSION, 'ConsumerProtocolAssignment')
  w.int16(version)
  writeTopicPartitions(w, assignment.assignedPartitions)
  w.nullableBytes(assignment.userData ?? null, false)
}

/** A version-prefixed assignment as an owned Buffer. */
export function encodeConsumerProtocolAssignment(
  assignment: ConsumerProtocolAssignmentInput,
  version = ASSIGNMENT_MAX_VERSION,
): Buffer {
  const w = new Writer(64)
  writeConsumerProtocolAssignment(w, assignment, version)
  return w.toBuffer()
}

/**
 * Decode a version-prefixed assignment (all versions 0-3 share one layout; later versions are read as 3, extra
 * bytes ignored). An empty buffer is an empty assignment: brokers hand one to members the leader left out.
 */
export function decodeConsumerProtocolAssignment(buf: Buffer): ConsumerProtocolAssignment & { version: number } {
  if (buf.length === 0) return { version: 0, assignedPartitions: [], userData: null }
  const r = new Reader(buf)
  const version = r.int16()
  if (version < 0) throw new DecodeError(`ConsumerProtocolAssignment version ${version}`, { at: 0 })
  const assignedPartitions = readTopicPartitions(r)
  const userData = r.nullableBytes(false)
  return { version, assignedPartitions, userData }
}

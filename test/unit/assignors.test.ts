import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  type AssignorInput,
  assignorByName,
  BUILT_IN_ASSIGNORS,
  cooperativeStickyAssignor,
  decideRevocations,
  encodeCooperativeStickyUserData,
  type GroupAssignment,
  groupByTopic,
  type MemberSubscription,
  memberSubscriptionFromProtocol,
  planCooperativeSticky,
  rangeAssignor,
  roundRobinAssignor,
  subscriptionGeneration,
  type TopicPartition,
} from '../../src/client/assignors.js'
import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
} from '../../src/protocol/consumer-protocol.js'
import { KafkaWireError } from '../../src/protocol/errors.js'

// ---------------------------------------------------------------------------------------------------------------
// Golden cases: the assignments of Kafka's own assignors (kafka-clients 4.1.1), printed by a throwaway Java program
// that parsed CASES below and called `assignPartitions(partitionsPerTopic, subscriptions)` of RangeAssignor,
// RoundRobinAssignor and CooperativeStickyAssignor, with partitionsPerTopic as AbstractPartitionAssignor.assign(
// Cluster, ...) builds it (subscribed topics with partitions; PartitionInfo replicas on Nodes with the given racks,
// Node.noNode() where none) and subscriptions in the listed order. 'name/target' lines are the same cooperative
// case run through an AbstractStickyAssignor subclass reading generations like CooperativeStickyAssignor, without
// its adjustment: the target assignment before partitions are held back for revocation.
//
// Case language: `topic NAME COUNT [RACKS]` with RACKS the replica racks of each partition, ';'-separated, each a
// ','-list or '-'; `member ID [instance=I] [rack=R] [gen=G] [userdata=G] topics=T,.. [owned=T:P,..]` where
// userdata is Java's CooperativeStickyAssignor user data (the generation as an int32).
//
// Cooperative-sticky member ids are m0..m9: Java's HashMap iterates them in sorted order, which is where our order
// (member id) and Java's (hash) agree; see the header of src/client/assignors.ts.
// ---------------------------------------------------------------------------------------------------------------

const CASES = `
case range-basic range
topic t0 7
topic t1 3
member c0 topics=t0,t1
member c1 topics=t0,t1
member c2 topics=t0,t1
end
case range-mixed-subscriptions range
topic t0 5
topic t1 4
topic t2 2
topic t3 3
member m1 topics=t0,t1
member m2 topics=t1
member m3 topics=t0,t2
end
case range-static-members range
topic t0 8
topic t1 5
member z-1 instance=i-b topics=t0,t1
member a-2 instance=i-c topics=t0
member m-3 topics=t0,t1
member b-4 topics=t0,t1
member y-5 instance=i-a topics=t0,t1
end
case range-more-members-than-partitions range
topic t0 2
topic t1 3
member c0 topics=t0,t1
member c1 topics=t0,t1
member c2 topics=t0,t1
member c3 topics=t0,t1
member c4 topics=t1
end
case range-unknown-topic range
topic t0 3
topic empty 0
member c0 topics=t0,missing,empty
member c1 topics=missing
member c2 topics=t0,t0
end
case range-racks range
topic t0 6 a,b;b,c;c,a;a;b;c
member c0 rack=a topics=t0
member c1 rack=b topics=t0
member c2 rack=c topics=t0
end
case range-racks-uneven range
topic t0 7 a;a;a;b;b;c;c
member c0 rack=c topics=t0
member c1 rack=a topics=t0
member c2 rack=a topics=t0
member c3 rack=b topics=t0
end
case range-racks-copartitioned range
topic t0 4 a;b;a;b
topic t1 4 b;a;a;b
topic t2 5 a;b;c;a;b
member c0 rack=a topics=t0,t1,t2
member c1 rack=b topics=t0,t1,t2
member c2 topics=t0,t1,t2
end
case range-racks-same-everywhere range
topic t0 5 a,b;a,b;a,b;a,b;a,b
member c0 rack=b topics=t0
member c1 rack=a topics=t0
end
case range-racks-mixed-subscriptions range
topic t0 3 a;b;c
topic t1 3 a;b;c
topic t2 4 c;c;b;a
member c0 rack=c topics=t0,t2
member c1 rack=a topics=t0,t1,t2
member c2 rack=b topics=t1
member c3 rack=x topics=t2
end
case range-racks-static range
topic t0 5 a;b;a;b;c
topic t1 5 b;b;a;a;c
member x rack=a instance=s2 topics=t0,t1
member y rack=b topics=t0,t1
member z rack=c instance=s1 topics=t0,t1
end
case rr-basic roundrobin
topic t0 3
topic t1 4
member c0 topics=t0,t1
member c1 topics=t0,t1
member c2 topics=t0,t1
end
case rr-mixed-subscriptions roundrobin
topic t0 1
topic t1 2
topic t2 3
member c0 topics=t0
member c1 topics=t0,t1
member c2 topics=t0,t1,t2
end
case rr-static-members roundrobin
topic a 5
topic b 3
topic c 2
member m-9 instance=s2 topics=a,b
member m-1 topics=a,c
member m-5 instance=s1 topics=b
member m-3 topics=a,b,c
end
case cs-fresh cooperative-sticky
topic t0 7
topic t1 5
member m0 topics=t0,t1
member m1 topics=t0,t1
member m2 topics=t0,t1
end
case cs-join-round1 cooperative-sticky
topic t0 7
topic t1 5
member m0 gen=1 topics=t0,t1 owned=t0:0,t0:3,t0:6,t1:2
member m1 gen=1 topics=t0,t1 owned=t0:1,t0:4,t1:0,t1:3
member m2 gen=1 topics=t0,t1 owned=t0:2,t0:5,t1:1,t1:4
member m3 topics=t0,t1
end
case cs-join-round2 cooperative-sticky
topic t0 7
topic t1 5
member m0 gen=2 topics=t0,t1 owned=t0:0,t0:3,t1:2
member m1 gen=2 topics=t0,t1 owned=t0:1,t0:4,t1:0
member m2 gen=2 topics=t0,t1 owned=t0:2,t0:5,t1:1
member m3 gen=2 topics=t0,t1
end
case cs-leave cooperative-sticky
topic t0 7
topic t1 5
member m0 gen=4 topics=t0,t1 owned=t0:0,t0:3,t1:2
member m2 gen=4 topics=t0,t1 owned=t0:2,t0:5,t1:1
member m3 gen=4 topics=t0,t1 owned=t0:6,t1:3,t1:4
end
case cs-over-quota cooperative-sticky
topic t0 10
member m0 gen=7 topics=t0 owned=t0:0,t0:1,t0:2,t0:3,t0:4
member m1 gen=7 topics=t0 owned=t0:5,t0:6,t0:7,t0:8,t0:9
member m2 topics=t0
member m3 topics=t0
end
case cs-more-members-than-partitions cooperative-sticky
topic t0 3
member m0 gen=2 topics=t0 owned=t0:0,t0:1
member m1 gen=2 topics=t0 owned=t0:2
member m2 topics=t0
member m3 topics=t0
member m4 topics=t0
end
case cs-generations cooperative-sticky
topic t0 6
member m0 gen=3 topics=t0 owned=t0:0,t0:1
member m1 gen=5 topics=t0 owned=t0:1,t0:2
member m2 gen=5 topics=t0 owned=t0:2,t0:3
member m3 gen=5 topics=t0 owned=t0:4,t0:5
end
case cs-userdata-generations cooperative-sticky
topic t0 6
member m0 userdata=3 topics=t0 owned=t0:0,t0:1,t0:2
member m1 userdata=4 topics=t0 owned=t0:2,t0:3,t0:4
member m2 topics=t0 owned=t0:5
end
case cs-stale-claims cooperative-sticky
topic t0 4
topic gone 2
member m0 gen=9 topics=t0 owned=t0:0,t0:1,t0:2,gone:0,t0:7
member m1 gen=9 topics=t0 owned=t0:3
member m2 topics=t0
end
case cs-racks-fresh cooperative-sticky
topic t0 6 a;b;c;a;b;c
topic t1 3 a,b;b,c;c,a
member m0 rack=a topics=t0,t1
member m1 rack=b topics=t0,t1
member m2 rack=c topics=t0,t1
member m3 rack=a topics=t0,t1
end
case cs-racks-owned cooperative-sticky
topic t0 6 a;b;c;a;b;c
topic t1 3 a,b;b,c;c,a
member m0 rack=a gen=2 topics=t0,t1 owned=t0:0,t0:1,t0:2,t1:0
member m1 rack=b gen=2 topics=t0,t1 owned=t0:3,t0:4,t1:1
member m2 rack=c gen=2 topics=t0,t1 owned=t0:5,t1:2
member m3 rack=c topics=t0,t1
end
case cs-join-two cooperative-sticky
topic t0 20
topic t1 7
member m0 gen=3 topics=t0,t1 owned=t0:0,t0:7,t0:14,t1:1
member m1 gen=3 topics=t0,t1 owned=t0:1,t0:8,t0:15,t1:2
member m2 gen=3 topics=t0,t1 owned=t0:2,t0:9,t0:16,t1:3
member m3 gen=3 topics=t0,t1 owned=t0:3,t0:10,t0:17,t1:4
member m4 gen=3 topics=t0,t1 owned=t0:4,t0:11,t0:18,t1:5
member m5 gen=3 topics=t0,t1 owned=t0:5,t0:12,t0:19,t1:6
member m6 gen=3 topics=t0,t1 owned=t0:6,t0:13,t1:0
member m7 topics=t0,t1
member m8 topics=t0,t1
end
case cs-general-fresh cooperative-sticky
topic t0 4
topic t1 6
topic t2 3
member m0 topics=t0
member m1 topics=t0,t1
member m2 topics=t1,t2
member m3 topics=t0,t1,t2
end
case cs-general-join cooperative-sticky
topic t0 4
topic t1 6
topic t2 3
member m0 gen=3 topics=t0 owned=t0:0,t0:1
member m1 gen=3 topics=t0,t1 owned=t0:2,t0:3,t1:0,t1:1
member m2 gen=3 topics=t1,t2 owned=t1:2,t1:3,t1:4,t1:5,t2:0,t2:1,t2:2
member m3 topics=t1,t2
end
case cs-general-unsubscribe cooperative-sticky
topic t0 4
topic t1 4
member m0 gen=6 topics=t0 owned=t0:0,t0:1,t1:0,t1:1
member m1 gen=6 topics=t0,t1 owned=t0:2,t0:3,t1:2,t1:3
member m2 gen=6 topics=t1
end
`

const JAVA = `
range-basic c0=t0:0,t0:1,t0:2,t1:0 c1=t0:3,t0:4,t1:1 c2=t0:5,t0:6,t1:2
range-mixed-subscriptions m1=t0:0,t0:1,t0:2,t1:0,t1:1 m2=t1:2,t1:3 m3=t0:3,t0:4,t2:0,t2:1
range-static-members a-2=t0:4,t0:5 b-4=t0:6,t1:3 m-3=t0:7,t1:4 y-5=t0:0,t0:1,t1:0,t1:1 z-1=t0:2,t0:3,t1:2
range-more-members-than-partitions c0=t0:0,t1:0 c1=t0:1,t1:1 c2=t1:2 c3= c4=
range-unknown-topic c0=t0:0,t0:1 c1= c2=t0:2
range-racks c0=t0:0,t0:2 c1=t0:1,t0:4 c2=t0:3,t0:5
range-racks-uneven c0=t0:5,t0:6 c1=t0:0,t0:1 c2=t0:2 c3=t0:3,t0:4
range-racks-copartitioned c0=t0:2,t1:2,t2:0,t2:3 c1=t0:3,t1:3,t2:1,t2:4 c2=t0:0,t0:1,t1:0,t1:1,t2:2
range-racks-same-everywhere c0=t0:0,t0:1,t0:2 c1=t0:3,t0:4
range-racks-mixed-subscriptions c0=t0:1,t0:2,t2:0,t2:1 c1=t0:0,t1:0,t1:2,t2:3 c2=t1:1 c3=t2:2
range-racks-static x=t0:2,t0:3,t1:2,t1:3 y=t0:1,t1:1 z=t0:0,t0:4,t1:0,t1:4
rr-basic c0=t0:0,t1:0,t1:3 c1=t0:1,t1:1 c2=t0:2,t1:2
rr-mixed-subscriptions c0=t0:0 c1=t1:0 c2=t1:1,t2:0,t2:1,t2:2
rr-static-members m-1=a:1,a:4,c:0 m-3=a:2,b:0,c:1 m-5=b:1 m-9=a:0,a:3,b:2
cs-fresh m0=t0:0,t0:3,t0:6,t1:2 m1=t0:1,t0:4,t1:0,t1:3 m2=t0:2,t0:5,t1:1,t1:4
cs-fresh/target m0=t0:0,t0:3,t0:6,t1:2 m1=t0:1,t0:4,t1:0,t1:3 m2=t0:2,t0:5,t1:1,t1:4
cs-join-round1 m0=t0:0,t0:3,t1:2 m1=t0:1,t1:0,t1:3 m2=t0:2,t1:1,t1:4 m3=
cs-join-round1/target m0=t0:0,t0:3,t1:2 m1=t0:1,t1:0,t1:3 m2=t0:2,t1:1,t1:4 m3=t0:4,t0:5,t0:6
cs-join-round2 m0=t0:0,t0:3,t1:2 m1=t0:1,t0:4,t1:0 m2=t0:2,t0:5,t1:1 m3=t0:6,t1:3,t1:4
cs-join-round2/target m0=t0:0,t0:3,t1:2 m1=t0:1,t0:4,t1:0 m2=t0:2,t0:5,t1:1 m3=t0:6,t1:3,t1:4
cs-leave m0=t0:0,t0:1,t0:3,t1:2 m2=t0:2,t0:4,t0:5,t1:1 m3=t0:6,t1:0,t1:3,t1:4
cs-leave/target m0=t0:0,t0:1,t0:3,t1:2 m2=t0:2,t0:4,t0:5,t1:1 m3=t0:6,t1:0,t1:3,t1:4
cs-over-quota m0=t0:0,t0:1,t0:2 m1=t0:5,t0:6,t0:7 m2= m3=
cs-over-quota/target m0=t0:0,t0:1,t0:2 m1=t0:5,t0:6,t0:7 m2=t0:3,t0:8 m3=t0:4,t0:9
cs-more-members-than-partitions m0=t0:0 m1=t0:2 m2= m3= m4=
cs-more-members-than-partitions/target m0=t0:0 m1=t0:2 m2=t0:1 m3= m4=
cs-generations m0=t0:0 m1=t0:1 m2=t0:3 m3=t0:4,t0:5
cs-generations/target m0=t0:0,t0:2 m1=t0:1 m2=t0:3 m3=t0:4,t0:5
cs-userdata-generations m0=t0:0,t0:1 m1=t0:2,t0:3 m2=t0:5
cs-userdata-generations/target m0=t0:0,t0:1 m1=t0:2,t0:3 m2=t0:4,t0:5
cs-stale-claims m0=t0:0,t0:1 m1=t0:3 m2=
cs-stale-claims/target m0=t0:0,t0:1 m1=t0:3 m2=t0:2
cs-racks-fresh m0=t0:3,t1:2 m1=t0:1,t0:4,t1:1 m2=t0:2,t0:5 m3=t0:0,t1:0
cs-racks-fresh/target m0=t0:3,t1:2 m1=t0:1,t0:4,t1:1 m2=t0:2,t0:5 m3=t0:0,t1:0
cs-racks-owned m0=t0:0,t1:0 m1=t0:4,t1:1 m2=t0:5,t1:2 m3=
cs-racks-owned/target m0=t0:0,t1:0 m1=t0:1,t0:4,t1:1 m2=t0:5,t1:2 m3=t0:2,t0:3
cs-join-two m0=t0:0,t0:7,t1:1 m1=t0:1,t0:8,t1:2 m2=t0:2,t0:9,t1:3 m3=t0:3,t0:10,t1:4 m4=t0:4,t0:11,t1:5 m5=t0:5,t0:12,t1:6 m6=t0:6,t0:13,t1:0 m7= m8=
cs-join-two/target m0=t0:0,t0:7,t1:1 m1=t0:1,t0:8,t1:2 m2=t0:2,t0:9,t1:3 m3=t0:3,t0:10,t1:4 m4=t0:4,t0:11,t1:5 m5=t0:5,t0:12,t1:6 m6=t0:6,t0:13,t1:0 m7=t0:14,t0:16,t0:18 m8=t0:15,t0:17,t0:19
cs-general-fresh m0=t0:0,t0:1,t0:2 m1=t0:3,t1:1,t1:4 m2=t1:2,t1:5,t2:0,t2:2 m3=t1:0,t1:3,t2:1
cs-general-fresh/target m0=t0:0,t0:1,t0:2 m1=t0:3,t1:1,t1:4 m2=t1:2,t1:5,t2:0,t2:2 m3=t1:0,t1:3,t2:1
cs-general-join m0=t0:0,t0:1 m1=t0:3,t1:0,t1:1 m2=t1:2,t1:3,t1:4,t1:5 m3=
cs-general-join/target m0=t0:0,t0:1,t0:2 m1=t0:3,t1:0,t1:1 m2=t1:2,t1:3,t1:4,t1:5 m3=t2:0,t2:1,t2:2
cs-general-unsubscribe m0=t0:0,t0:1 m1=t0:3,t1:2,t1:3 m2=
cs-general-unsubscribe/target m0=t0:0,t0:1,t0:2 m1=t0:3,t1:2,t1:3 m2=t1:0,t1:1
`

interface Case {
  name: string
  assignor: string
  input: AssignorInput & { members: MemberSubscription[] }
}

const tpOf = (s: string): TopicPartition => ({
  topic: s.slice(0, s.lastIndexOf(':')),
  partition: Number(s.slice(s.lastIndexOf(':') + 1)),
})

function parseCases(text: string): Case[] {
  const cases: Case[] = []
  let cur: Case | null = null
  for (const line of text.split('\n')) {
    const w = line.trim().split(/\s+/)
    if (w[0] === 'case') {
      cur = {
        name: w[1],
        assignor: w[2],
        input: { members: [], partitionsPerTopic: new Map(), partitionRacks: new Map() },
      }
    } else if (w[0] === 'topic' && cur) {
      ;(cur.input.partitionsPerTopic as Map<string, number>).set(w[1], Number(w[2]))
      if (w[3]) {
        const racks = w[3].split(';').map((s) => (s === '-' ? [] : s.split(',')))
        ;(cur.input.partitionRacks as Map<string, string[][]>).set(w[1], racks)
      }
    } else if (w[0] === 'member' && cur) {
      const m: MemberSubscription = { memberId: w[1], topics: [], ownedPartitions: [] }
      for (const kv of w.slice(2)) {
        const k = kv.slice(0, kv.indexOf('='))
        const v = kv.slice(kv.indexOf('=') + 1)
        if (k === 'instance') m.groupInstanceId = v
        else if (k === 'rack') m.rackId = v
        else if (k === 'gen') m.generationId = Number(v)
        else if (k === 'userdata') m.userData = encodeCooperativeStickyUserData(Number(v))
        else if (k === 'topics') m.topics = v ? v.split(',') : []
        else if (k === 'owned') m.ownedPartitions = v ? v.split(',').map(tpOf) : []
        else throw new Error(`bad case line: ${line}`)
      }
      cur.input.members.push(m)
    } else if (w[0] === 'end' && cur) {
      cases.push(cur)
      cur = null
    }
  }
  return cases
}

const key = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`

/** 'id=t:p,t:p id=' in the map's order, as the Java program prints (member ids sorted). */
function format(a: GroupAssignment): string {
  return [...a].map(([id, list]) => `${id}=${list.map(key).join(',')}`).join(' ')
}

function parseAssignment(text: string): GroupAssignment {
  const out: GroupAssignment = new Map()
  for (const kv of text.split(' ')) {
    const [id, list] = kv.split('=')
    out.set(id, list ? list.split(',').map(tpOf) : [])
  }
  return out
}

const GOLDEN = parseCases(CASES)
const JAVA_RESULTS = new Map(
  JAVA.trim()
    .split('\n')
    .map((line) => [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)] as const),
)

// ---------------------------------------------------------------------------------------------------------------
// Independent checkers
// ---------------------------------------------------------------------------------------------------------------

/** Topics a member can be given: subscribed and with partitions. */
function effectiveTopics(input: AssignorInput, m: MemberSubscription): Set<string> {
  return new Set(m.topics.filter((t) => (input.partitionsPerTopic.get(t) ?? 0) > 0))
}

/** Every partition that must be assigned: those of topics somebody subscribes to. */
function allPartitions(input: AssignorInput): string[] {
  const topics = new Set<string>()
  for (const m of input.members) for (const t of effectiveTopics(input, m)) topics.add(t)
  const out: string[] = []
  for (const t of [...topics].sort()) for (let p = 0; p < input.partitionsPerTopic.get(t)!; p++) out.push(`${t}:${p}`)
  return out
}

/** Members are exactly the input's; partitions exist, are subscribed, sorted, and nobody shares one. */
function checkValid(input: AssignorInput, a: GroupAssignment, what: string): Map<string, string> {
  assert.equal([...a.keys()].sort(), input.members.map((m) => m.memberId).sort(), `${what}: members`)
  const holder = new Map<string, string>()
  for (const m of input.members) {
    const topics = effectiveTopics(input, m)
    const list = a.get(m.memberId)!
    for (let i = 0; i < list.length; i++) {
      const tp = list[i]
      assert.ok(topics.has(tp.topic), `${what}: ${m.memberId} got ${key(tp)} of a topic it did not subscribe to`)
      assert.ok(tp.partition >= 0 && tp.partition < input.partitionsPerTopic.get(tp.topic)!, `${what}: ${key(tp)}`)
      assert.not.ok(holder.has(key(tp)), `${what}: ${key(tp)} given to ${holder.get(key(tp))} and ${m.memberId}`)
      holder.set(key(tp), m.memberId)
      if (i > 0) {
        const prev = list[i - 1]
        assert.ok(prev.topic < tp.topic || (prev.topic === tp.topic && prev.partition < tp.partition), `${what}: order`)
      }
    }
  }
  return holder
}

function checkComplete(input: AssignorInput, a: GroupAssignment, what: string): void {
  const holder = checkValid(input, a, what)
  for (const p of allPartitions(input)) assert.ok(holder.has(p), `${what}: ${p} not assigned`)
}

/**
 * Optimal balance (an optimal semi-matching): no chain of moves "X gives a partition of topic t to Y, who
 * subscribes to t" leads from a member with count c to one with count <= c - 2. Implies that members with the
 * same subscription are at most one apart, which is checked too.
 */
function checkBalanced(input: AssignorInput, a: GroupAssignment, what: string): void {
  const subs = new Map(input.members.map((m) => [m.memberId, effectiveTopics(input, m)]))
  const load = (id: string): number => a.get(id)!.length
  for (const x of input.members) {
    const seen = new Set([x.memberId])
    const queue = [x.memberId]
    while (queue.length > 0) {
      const u = queue.shift()!
      const topics = new Set(a.get(u)!.map((tp) => tp.topic))
      for (const y of input.members) {
        if (seen.has(y.memberId) || ![...topics].some((t) => subs.get(y.memberId)!.has(t))) continue
        assert.ok(
          load(y.memberId) >= load(x.memberId) - 1,
          `${what}: ${x.memberId} (${load(x.memberId)}) could pass a partition on to ${y.memberId} (${load(y.memberId)})`,
        )
        seen.add(y.memberId)
        queue.push(y.memberId)
      }
    }
  }
  const bySubscription = new Map<string, number[]>()
  for (const m of input.members) {
    const k = [...subs.get(m.memberId)!].sort().join(',')
    bySubscription.set(k, [...(bySubscription.get(k) ?? []), load(m.memberId)])
  }
  for (const [k, loads] of bySubscription) {
    assert.ok(Math.max(...loads) - Math.min(...loads) <= 1, `${what}: members subscribed to [${k}] have ${loads}`)
  }
}

function generationOf(m: MemberSubscription): number {
  if (typeof m.generationId === 'number' && m.generationId >= 0) return m.generationId
  return m.userData && m.userData.length >= 4 ? m.userData.readInt32BE(0) : -1
}

/** Valid claims per partition: member ids with their generation. */
function claimsOf(input: AssignorInput): Map<string, { id: string; generation: number }[]> {
  const all = new Set(allPartitions(input))
  const claims = new Map<string, { id: string; generation: number }[]>()
  for (const m of input.members) {
    for (const tp of new Set((m.ownedPartitions ?? []).map(key))) {
      if (!all.has(tp)) continue
      claims.set(tp, [...(claims.get(tp) ?? []), { id: m.memberId, generation: generationOf(m) }])
    }
  }
  return claims
}

/** KIP-341: the unique claimant of the highest generation, or nobody. */
function ownersOf(input: AssignorInput): Map<string, string> {
  const owners = new Map<string, string>()
  for (const [tp, list] of claimsOf(input)) {
    const top = Math.max(...list.map((c) => c.generation))
    const best = list.filter((c) => c.generation === top)
    if (best.length === 1) owners.set(tp, best[0].id)
  }
  return owners
}

/** A partition goes to a member that does not own it only when no member claims it. */
function checkCooperative(input: AssignorInput, a: GroupAssignment, what: string): void {
  const claims = claimsOf(input)
  const owners = ownersOf(input)
  for (const [id, list] of a) {
    for (const tp of list) {
      if (owners.get(key(tp)) === id) continue
      const others = (claims.get(key(tp)) ?? []).map((c) => c.id)
      assert.equal(others, [], `${what}: ${key(tp)} given to ${id} while claimed by ${others}`)
    }
  }
}

/** Partitions with an owner that the target gives to someone else. */
function movesOf(input: AssignorInput, target: GroupAssignment): number {
  const owners = ownersOf(input)
  let moves = 0
  for (const [id, list] of target) for (const tp of list) if (owners.has(key(tp)) && owners.get(key(tp)) !== id) moves++
  return moves
}

function sumOfSquares(a: GroupAssignment): number {
  let s = 0
  for (const list of a.values()) s += list.length * list.length
  return s
}

/**
 * The fewest moves a balanced assignment needs when all members subscribe to the same topics: each member keeps
 * its (valid) owned partitions up to the lower quota, plus one more for as many members owning more as may have
 * the larger quota.
 */
function fewestMovesSameSubscription(input: AssignorInput): number {
  const owners = ownersOf(input)
  const total = allPartitions(input).length
  const count = input.members.length
  const minQuota = Math.floor(total / count)
  let kept = 0
  let overMin = 0
  for (const m of input.members) {
    const owned = [...owners.values()].filter((id) => id === m.memberId).length
    kept += Math.min(owned, minQuota)
    if (owned > minQuota) overMin++
  }
  kept += Math.min(overMin, total % count)
  return owners.size - kept
}

function shuffled<T>(list: readonly T[], rnd: () => number): T[] {
  const out = [...list]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/** Mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let s = seed | 0
  return () => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The same input with members, their topics and owned partitions, and the topic map in another order. */
function permuted(input: AssignorInput, rnd: () => number): AssignorInput {
  return {
    members: shuffled(input.members, rnd).map((m) => ({
      ...m,
      topics: shuffled(m.topics, rnd),
      ownedPartitions: shuffled(m.ownedPartitions ?? [], rnd),
    })),
    partitionsPerTopic: new Map(shuffled([...input.partitionsPerTopic], rnd)),
    partitionRacks: input.partitionRacks && new Map(shuffled([...input.partitionRacks], rnd)),
  }
}

function sameSubscriptions(input: AssignorInput): boolean {
  return new Set(input.members.map((m) => [...effectiveTopics(input, m)].sort().join(','))).size <= 1
}

// ---------------------------------------------------------------------------------------------------------------
// Golden cases
// ---------------------------------------------------------------------------------------------------------------

test('golden: the Java output covers every case', () => {
  assert.is(GOLDEN.length, 29)
  for (const c of GOLDEN) {
    assert.ok(JAVA_RESULTS.has(c.name), c.name)
    if (c.assignor === 'cooperative-sticky') assert.ok(JAVA_RESULTS.has(`${c.name}/target`), c.name)
  }
})

test('golden: range and round robin give exactly what Java gives', () => {
  let n = 0
  for (const c of GOLDEN.filter((c) => c.assignor !== 'cooperative-sticky')) {
    const a = assignorByName(c.assignor)!.assign(c.input)
    assert.is(format(a), JAVA_RESULTS.get(c.name), c.name)
    checkComplete(c.input, a, c.name)
    n++
  }
  assert.is(n, 14)
})

test('golden: cooperative-sticky with one subscription gives what Java gives, assignment and target', () => {
  let n = 0
  for (const c of GOLDEN.filter((c) => c.assignor === 'cooperative-sticky' && sameSubscriptions(c.input))) {
    const plan = planCooperativeSticky(c.input)
    assert.is(format(cooperativeStickyAssignor.assign(c.input)), JAVA_RESULTS.get(c.name), c.name)
    assert.is(format(plan.assignment), JAVA_RESULTS.get(c.name), c.name)
    assert.is(format(plan.target), JAVA_RESULTS.get(`${c.name}/target`), `${c.name}/target`)
    n++
  }
  assert.is(n, 12)
})

test('golden: cooperative-sticky with different subscriptions is at least as good as Java', () => {
  // Java's general case is a heuristic; ours is optimal. Same balance, no more moves, and revocations that match.
  let n = 0
  for (const c of GOLDEN.filter((c) => c.assignor === 'cooperative-sticky' && !sameSubscriptions(c.input))) {
    const plan = planCooperativeSticky(c.input)
    const javaTarget = parseAssignment(JAVA_RESULTS.get(`${c.name}/target`)!)
    checkComplete(c.input, javaTarget, `${c.name} (Java)`)
    checkComplete(c.input, plan.target, c.name)
    checkBalanced(c.input, plan.target, c.name)
    checkCooperative(c.input, plan.assignment, c.name)
    assert.ok(sumOfSquares(plan.target) <= sumOfSquares(javaTarget), c.name)
    assert.ok(movesOf(c.input, plan.target) <= movesOf(c.input, javaTarget), c.name)
    n++
  }
  assert.is(n, 3)
  // The first two happen to be Java's result too.
  const fresh = GOLDEN.find((c) => c.name === 'cs-general-fresh')!
  assert.is(format(cooperativeStickyAssignor.assign(fresh.input)), JAVA_RESULTS.get('cs-general-fresh'))
  const unsubscribe = GOLDEN.find((c) => c.name === 'cs-general-unsubscribe')!
  assert.is(format(cooperativeStickyAssignor.assign(unsubscribe.input)), JAVA_RESULTS.get('cs-general-unsubscribe'))
})

test('golden: every assignor gives the same result whatever the order of its input', () => {
  const rnd = prng(42)
  for (const c of GOLDEN) {
    const assignor = assignorByName(c.assignor)!
    const expected = format(assignor.assign(c.input))
    for (let i = 0; i < 5; i++) assert.is(format(assignor.assign(permuted(c.input, rnd))), expected, c.name)
  }
})

// ---------------------------------------------------------------------------------------------------------------
// Range and round robin
// ---------------------------------------------------------------------------------------------------------------

function randomInput(rnd: () => number, options: { racks?: boolean; maxMembers?: number } = {}): AssignorInput {
  const topicCount = 1 + Math.floor(rnd() * 4)
  const partitionsPerTopic = new Map<string, number>()
  const partitionRacks = new Map<string, string[][]>()
  for (let t = 0; t < topicCount; t++) {
    const count = Math.floor(rnd() * 12)
    partitionsPerTopic.set(`t${t}`, count)
    if (options.racks) {
      partitionRacks.set(
        `t${t}`,
        Array.from({ length: count }, () => ['a', 'b', 'c'].filter(() => rnd() < 0.5)),
      )
    }
  }
  const memberCount = 1 + Math.floor(rnd() * (options.maxMembers ?? 7))
  const members: MemberSubscription[] = []
  for (let i = 0; i < memberCount; i++) {
    const m: MemberSubscription = {
      memberId: `consumer-${Math.floor(rnd() * 1000)}-${i}`,
      topics: [...partitionsPerTopic.keys(), 'unknown'].filter(() => rnd() < 0.6),
    }
    if (rnd() < 0.3) m.groupInstanceId = `instance-${Math.floor(rnd() * 100)}`
    if (options.racks && rnd() < 0.7) m.rackId = ['a', 'b', 'c', 'x'][Math.floor(rnd() * 4)]
    members.push(m)
  }
  return { members, partitionsPerTopic, partitionRacks }
}

test('range: every partition exactly once, per topic floor or ceil of its share, members in MemberInfo order', () => {
  const rnd = prng(7)
  for (let i = 0; i < 300; i++) {
    const input = randomInput(rnd, { racks: i % 2 === 1 })
    const a = rangeAssignor.assign(input)
    checkComplete(input, a, `range #${i}`)
    for (const [topic, count] of input.partitionsPerTopic) {
      const consumers = input.members.filter((m) => effectiveTopics(input, m).has(topic))
      if (consumers.length === 0) continue
      const shares = consumers.map((m) => a.get(m.memberId)!.filter((tp) => tp.topic === topic).length)
      const low = Math.floor(count / consumers.length)
      assert.ok(
        shares.every((s) => s === low || s === low + 1),
        `range #${i} ${topic}: ${shares}`,
      )
    }
  }
})

test('range: without racks, each member gets one contiguous range per topic, earlier members the lower ones', () => {
  const rnd = prng(8)
  for (let i = 0; i < 200; i++) {
    const input = randomInput(rnd)
    const a = rangeAssignor.assign(input)
    const order = [...input.members].sort((x, y) => {
      const xi = x.groupInstanceId ?? null
      const yi = y.groupInstanceId ?? null
      if (xi !== null && yi !== null) return xi < yi ? -1 : xi > yi ? 1 : x.memberId < y.memberId ? -1 : 1
      if (xi !== null) return -1
      if (yi !== null) return 1
      return x.memberId < y.memberId ? -1 : 1
    })
    for (const topic of input.partitionsPerTopic.keys()) {
      let next = 0
      for (const m of order) {
        const mine = a
          .get(m.memberId)!
          .filter((tp) => tp.topic === topic)
          .map((tp) => tp.partition)
        for (const p of mine) assert.is(p, next++, `range #${i} ${topic} ${m.memberId}`)
      }
    }
  }
})

test('range (KIP-881): racks cut mismatches within the same quotas, and change nothing when replicas are everywhere', () => {
  const mismatches = (input: AssignorInput, a: GroupAssignment): number => {
    let n = 0
    for (const m of input.members) {
      for (const tp of a.get(m.memberId)!) {
        if (m.rackId && !input.partitionRacks?.get(tp.topic)?.[tp.partition]?.includes(m.rackId)) n++
      }
    }
    return n
  }
  for (const name of ['range-racks', 'range-racks-uneven', 'range-racks-copartitioned', 'range-racks-static']) {
    const c = GOLDEN.find((c) => c.name === name)!
    const aware = rangeAssignor.assign(c.input)
    const plain = rangeAssignor.assign({ ...c.input, partitionRacks: undefined })
    assert.ok(mismatches(c.input, aware) < mismatches(c.input, plain), name)
    // The same per-topic shares (which members get one more may change).
    for (const topic of c.input.partitionsPerTopic.keys()) {
      const shares = (a: GroupAssignment): number[] =>
        [...a.values()].map((l) => l.filter((tp) => tp.topic === topic).length).sort((x, y) => x - y)
      assert.equal(shares(aware), shares(plain), `${name} ${topic}`)
    }
  }
  const same = GOLDEN.find((c) => c.name === 'range-racks-same-everywhere')!
  const withoutRacks = { ...same.input, partitionRacks: undefined }
  assert.is(format(rangeAssignor.assign(same.input)), format(rangeAssignor.assign(withoutRacks)))
})

test('round robin: every partition exactly once, dealt in turn to the subscribed members', () => {
  const rnd = prng(9)
  for (let i = 0; i < 300; i++) {
    const input = randomInput(rnd, { racks: i % 3 === 0 })
    const a = roundRobinAssignor.assign(input)
    checkComplete(input, a, `roundrobin #${i}`)
    if (sameSubscriptions(input)) {
      const loads = [...a.values()].map((l) => l.length)
      assert.ok(Math.max(...loads) - Math.min(...loads) <= 1, `roundrobin #${i}: ${loads}`)
    }
  }
})

test('range and round robin: no members, no topics, unknown topics', () => {
  for (const assignor of [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor]) {
    assert.equal(assignor.assign({ members: [], partitionsPerTopic: new Map([['t', 3]]) }), new Map())
    const a = assignor.assign({
      members: [
        { memberId: 'b', topics: ['nope'] },
        { memberId: 'a', topics: [] },
      ],
      partitionsPerTopic: new Map([['t', 3]]),
    })
    assert.equal(
      [...a],
      [
        ['a', []],
        ['b', []],
      ],
    )
  }
})

// ---------------------------------------------------------------------------------------------------------------
// Cooperative sticky
// ---------------------------------------------------------------------------------------------------------------

interface SimMember {
  memberId: string
  topics: string[]
  rackId?: string
  owned: TopicPartition[]
  generation: number
}

function inputOf(members: readonly SimMember[], partitionsPerTopic: Map<string, number>): AssignorInput {
  return {
    members: members.map((m) => ({
      memberId: m.memberId,
      topics: m.topics,
      ownedPartitions: m.owned,
      generationId: m.generation,
      rackId: m.rackId,
    })),
    partitionsPerTopic,
  }
}

test('cooperative-sticky: 3 members -> 4, the fewest partitions move, revoked in round 1 and assigned in round 2', () => {
  const ppt = new Map([
    ['orders', 12],
    ['payments', 6],
  ])
  let members: SimMember[] = ['m-a', 'm-b', 'm-c'].map((memberId) => ({
    memberId,
    topics: ['orders', 'payments'],
    owned: [],
    generation: -1,
  }))
  const first = cooperativeStickyAssignor.assign(inputOf(members, ppt))
  checkComplete(inputOf(members, ppt), first, 'initial')
  assert.equal(
    [...first.values()].map((l) => l.length),
    [6, 6, 6],
  )
  members = members.map((m) => ({ ...m, owned: first.get(m.memberId)!, generation: 1 }))
  members.push({ memberId: 'm-d', topics: ['orders', 'payments'], owned: [], generation: -1 })

  // Round 1: 18 partitions over 4 members, quotas 5, 5, 4 and 4. The old members own 6 each: two keep 5 and one
  // keeps 4, so 1 + 1 + 2 = 4 partitions move, the fewest possible.
  const input1 = inputOf(members, ppt)
  const plan1 = planCooperativeSticky(input1)
  checkComplete(input1, plan1.target, 'round 1 target')
  checkBalanced(input1, plan1.target, 'round 1 target')
  assert.is(movesOf(input1, plan1.target), 4)
  assert.is(fewestMovesSameSubscription(input1), 4)
  checkCooperative(input1, plan1.assignment, 'round 1')
  assert.equal(plan1.assignment.get('m-d'), [], 'the new member gets nothing yet')
  assert.equal([...plan1.pending.keys()], ['m-d'])
  assert.is(plan1.pending.get('m-d')!.length, 4)
  let revoked = 0
  for (const m of members) {
    const change = decideRevocations(m.owned, plan1.assignment.get(m.memberId)!)
    assert.equal(change.added, [], `${m.memberId} gains nothing in round 1`)
    revoked += change.revoked.length
    for (const tp of change.revoked) assert.ok(plan1.pending.get('m-d')!.some((p) => key(p) === key(tp)))
  }
  assert.is(revoked, 4)
  assert.equal(
    [...plan1.assignment.values()].map((l) => l.length),
    [5, 5, 4, 0],
  )

  // Round 2: members rejoin with what they kept; the revoked partitions go to the new member, nothing else moves.
  members = members.map((m) => ({ ...m, owned: plan1.assignment.get(m.memberId)!, generation: 2 }))
  const input2 = inputOf(members, ppt)
  const plan2 = planCooperativeSticky(input2)
  assert.equal(plan2.pending, new Map())
  assert.equal(format(plan2.assignment), format(plan1.target))
  for (const m of members) {
    const change = decideRevocations(m.owned, plan2.assignment.get(m.memberId)!)
    assert.equal(change.revoked, [], `${m.memberId} revokes nothing in round 2`)
    assert.is(change.added.length, m.memberId === 'm-d' ? 4 : 0)
  }
})

test('cooperative-sticky: a member leaves, only its partitions move and nothing is revoked', () => {
  const ppt = new Map([['t', 13]])
  const ids = ['m0', 'm1', 'm2', 'm3']
  const start = cooperativeStickyAssignor.assign({
    members: ids.map((memberId) => ({ memberId, topics: ['t'] })),
    partitionsPerTopic: ppt,
  })
  const members: SimMember[] = ids
    .filter((id) => id !== 'm1')
    .map((memberId) => ({ memberId, topics: ['t'], owned: start.get(memberId)!, generation: 1 }))
  const input = inputOf(members, ppt)
  const plan = planCooperativeSticky(input)
  checkComplete(input, plan.assignment, 'leave')
  checkBalanced(input, plan.assignment, 'leave')
  assert.equal(plan.pending, new Map())
  for (const m of members) {
    const change = decideRevocations(m.owned, plan.assignment.get(m.memberId)!)
    assert.equal(change.revoked, [])
    for (const tp of change.added) assert.ok(start.get('m1')!.some((p) => key(p) === key(tp)))
  }
})

test('cooperative-sticky: different subscriptions, balanced per subscription and never an unsubscribed topic', () => {
  const ppt = new Map([
    ['a', 8],
    ['b', 4],
    ['c', 3],
  ])
  const members: SimMember[] = [
    { memberId: 'x1', topics: ['a'], owned: [], generation: -1 },
    { memberId: 'x2', topics: ['a'], owned: [], generation: -1 },
    { memberId: 'y1', topics: ['a', 'b'], owned: [], generation: -1 },
    { memberId: 'z1', topics: ['b', 'c'], owned: [], generation: -1 },
    { memberId: 'z2', topics: ['b', 'c'], owned: [], generation: -1 },
  ]
  const input = inputOf(members, ppt)
  const a = cooperativeStickyAssignor.assign(input)
  checkComplete(input, a, 'fresh')
  checkBalanced(input, a, 'fresh')
  // 15 partitions over 5 members, 3 each is reachable: it is the result.
  assert.equal(
    [...a.values()].map((l) => l.length),
    [3, 3, 3, 3, 3],
  )
})

test('cooperative-sticky (KIP-341): newer generations win, same-generation claims leave the partition unowned', () => {
  const ppt = new Map([['t', 4]])
  const input: AssignorInput = {
    members: [
      { memberId: 'old', topics: ['t'], ownedPartitions: [tpOf('t:0'), tpOf('t:1')], generationId: 3 },
      { memberId: 'new', topics: ['t'], ownedPartitions: [tpOf('t:1')], generationId: 4 },
      { memberId: 'twin1', topics: ['t'], ownedPartitions: [tpOf('t:2')], generationId: 4 },
      { memberId: 'twin2', topics: ['t'], ownedPartitions: [tpOf('t:2'), tpOf('t:3')], generationId: 4 },
    ],
    partitionsPerTopic: ppt,
  }
  const plan = planCooperativeSticky(input)
  checkComplete(input, plan.target, 'target')
  checkCooperative(input, plan.assignment, 'assignment')
  assert.equal(plan.target.get('old'), [tpOf('t:0')])
  assert.equal(plan.target.get('new'), [tpOf('t:1')])
  assert.equal(plan.target.get('twin2'), [tpOf('t:3')])
  // t:2 is disputed: whoever gets it waits until both twins have given it up.
  assert.equal(plan.target.get('twin1'), [tpOf('t:2')])
  assert.equal(plan.assignment.get('twin1'), [])
  assert.equal(plan.pending.get('twin1'), [tpOf('t:2')])

  // Three claims: the unique highest generation wins, whatever the order (Java's answer depends on its order).
  const three: AssignorInput = {
    members: [
      { memberId: 'p', topics: ['t'], ownedPartitions: [tpOf('t:0')], generationId: 5 },
      { memberId: 'q', topics: ['t'], ownedPartitions: [tpOf('t:0')], generationId: 5 },
      { memberId: 'r', topics: ['t'], ownedPartitions: [tpOf('t:0')], generationId: 6 },
    ],
    partitionsPerTopic: new Map([['t', 3]]),
  }
  assert.equal(planCooperativeSticky(three).assignment.get('r'), [tpOf('t:0')])
})

test('cooperative-sticky: generations from v0/v1 user data, and the user data it sends', () => {
  assert.is(subscriptionGeneration({ generationId: 7, userData: encodeCooperativeStickyUserData(3) }), 7)
  assert.is(subscriptionGeneration({ generationId: -1, userData: encodeCooperativeStickyUserData(3) }), 3)
  assert.is(subscriptionGeneration({ userData: encodeCooperativeStickyUserData(-1) }), -1)
  assert.is(subscriptionGeneration({ userData: Buffer.from([1, 2]) }), -1)
  assert.is(subscriptionGeneration({}), -1)
  assert.equal(
    cooperativeStickyAssignor.subscriptionUserData!({ topics: ['t'], generationId: 258 }),
    Buffer.from([0, 0, 1, 2]),
  )
  assert.equal(
    cooperativeStickyAssignor.subscriptionUserData!({ topics: [], generationId: -1 }),
    Buffer.from([255, 255, 255, 255]),
  )
})

/**
 * Rack mismatch of a partition on a member, under Java's rule for rack-aware assignment (some member rack holds a
 * replica, and not every partition has replicas on the same racks); always 0 when not rack-aware.
 */
function rackMismatch(input: AssignorInput): (p: string, member: MemberSubscription) => number {
  const partitions = allPartitions(input)
  const memberRacks = new Set(input.members.map((m) => m.rackId).filter((r): r is string => !!r))
  const racksOf = (p: string): readonly string[] => input.partitionRacks?.get(tpOf(p).topic)?.[tpOf(p).partition] ?? []
  const union = new Set(partitions.flatMap(racksOf))
  const rackAware =
    memberRacks.size > 0 &&
    [...memberRacks].some((r) => union.has(r)) &&
    !partitions.every((p) => new Set(racksOf(p)).size === union.size && racksOf(p).every((r) => union.has(r)))
  return (p, member) => (rackAware && member.rackId && !racksOf(p).includes(member.rackId) ? 1 : 0)
}

const lexLess = (a: readonly number[], b: readonly number[]): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i]
  return false
}

/** (sum of squares, rack mismatches, moves) of an assignment. */
function scoreOf(input: AssignorInput, a: GroupAssignment): number[] {
  const mismatch = rackMismatch(input)
  let mis = 0
  for (const m of input.members) for (const tp of a.get(m.memberId)!) mis += mismatch(key(tp), m)
  return [sumOfSquares(a), mis, movesOf(input, a)]
}

/** The lexicographically smallest score over every complete assignment. */
function bruteForceBest(input: AssignorInput): number[] {
  const partitions = allPartitions(input)
  const members = input.members
  const subs = members.map((m) => effectiveTopics(input, m))
  const owners = ownersOf(input)
  const mismatch = rackMismatch(input)
  let best: number[] | null = null
  const loads = new Array(members.length).fill(0)
  const walk = (i: number, mis: number, moves: number): void => {
    if (i === partitions.length) {
      const score = [loads.reduce((s: number, l: number) => s + l * l, 0), mis, moves]
      if (best === null || lexLess(score, best)) best = score
      return
    }
    const p = partitions[i]
    for (let m = 0; m < members.length; m++) {
      if (!subs[m].has(tpOf(p).topic)) continue
      const move = owners.has(p) && owners.get(p) !== members[m].memberId ? 1 : 0
      loads[m]++
      walk(i + 1, mis + mismatch(p, members[m]), moves + move)
      loads[m]--
    }
  }
  walk(0, 0, 0)
  return best ?? [0, 0, 0]
}

test('cooperative-sticky, different subscriptions: the target is optimal (exhaustive search on small groups)', () => {
  const rnd = prng(1234)
  let checked = 0
  for (let i = 0; checked < 250; i++) {
    const topicCount = 1 + Math.floor(rnd() * 3)
    const ppt = new Map<string, number>()
    const racks = new Map<string, string[][]>()
    const withRacks = rnd() < 0.4
    for (let t = 0; t < topicCount; t++) {
      const count = Math.floor(rnd() * 4)
      ppt.set(`t${t}`, count)
      racks.set(
        `t${t}`,
        Array.from({ length: count }, () => ['a', 'b'].filter(() => rnd() < 0.5)),
      )
    }
    const all = [...ppt].flatMap(([t, n]) => Array.from({ length: n }, (_, p) => ({ topic: t, partition: p })))
    if (all.length === 0 || all.length > 7) continue
    const members: MemberSubscription[] = Array.from({ length: 2 + Math.floor(rnd() * 3) }, (_, m) => ({
      memberId: `m${m}`,
      topics: [...ppt.keys()].filter(() => rnd() < 0.6),
      ownedPartitions: all.filter(() => rnd() < 0.35),
      generationId: rnd() < 0.2 ? -1 : 4 + Math.floor(rnd() * 2),
      rackId: withRacks && rnd() < 0.8 ? ['a', 'b', 'c'][Math.floor(rnd() * 3)] : null,
    }))
    const input: AssignorInput = { members, partitionsPerTopic: ppt, partitionRacks: withRacks ? racks : undefined }
    if (sameSubscriptions(input)) continue
    const plan = planCooperativeSticky(input)
    checkComplete(input, plan.target, `#${i}`)
    checkCooperative(input, plan.assignment, `#${i}`)
    // Balance first, then racks, then moves: the exact optimum.
    assert.equal(scoreOf(input, plan.target), bruteForceBest(input), `#${i}`)
    checked++
  }
})

test('cooperative-sticky, one subscription: balanced and no more moves than necessary (random groups)', () => {
  const rnd = prng(99)
  for (let i = 0; i < 300; i++) {
    const ppt = new Map<string, number>()
    for (let t = 0; t < 1 + Math.floor(rnd() * 3); t++) ppt.set(`t${t}`, Math.floor(rnd() * 15))
    const all = [...ppt].flatMap(([t, n]) => Array.from({ length: n }, (_, p) => ({ topic: t, partition: p })))
    const memberCount = 1 + Math.floor(rnd() * 8)
    const members: MemberSubscription[] = Array.from({ length: memberCount }, (_, m) => ({
      memberId: `member-${Math.floor(rnd() * 100)}-${m}`,
      topics: [...ppt.keys()],
      ownedPartitions: all.filter(() => rnd() < 1.5 / memberCount),
      generationId: 10 + Math.floor(rnd() * 2),
    }))
    const input: AssignorInput = { members, partitionsPerTopic: ppt }
    const plan = planCooperativeSticky(input)
    checkComplete(input, plan.target, `#${i}`)
    checkBalanced(input, plan.target, `#${i}`)
    checkCooperative(input, plan.assignment, `#${i}`)
    assert.is(movesOf(input, plan.target), fewestMovesSameSubscription(input), `#${i}`)
  }
})

test('cooperative-sticky: randomized rebalances (joins, leaves, resubscriptions, zombies, new partitions)', () => {
  const rnd = prng(20240601)
  const stats = { rebalances: 0, followUps: 0, moved: 0, zombies: 0, general: 0, rackAware: 0, checkedPartitions: 0 }
  for (let run = 0; run < 12; run++) {
    const ppt = new Map<string, number>()
    const racks = new Map<string, string[][]>()
    const topicCount = 2 + Math.floor(rnd() * 3)
    const withRacks = run % 3 === 2
    const rackList = (n: number) => Array.from({ length: n }, () => ['r1', 'r2', 'r3'].filter(() => rnd() < 0.5))
    for (let t = 0; t < topicCount; t++) {
      const n = 1 + Math.floor(rnd() * 12)
      ppt.set(`topic-${t}`, n)
      racks.set(`topic-${t}`, rackList(n))
    }
    const topics = [...ppt.keys()]
    const standard = topics.filter(() => rnd() < 0.7)
    let nextId = 0
    const newMember = (): SimMember & { previous?: { owned: TopicPartition[]; generation: number } } => ({
      memberId: `member-${(nextId++).toString(36)}-${Math.floor(rnd() * 1e6)}`,
      topics: rnd() < 0.6 ? [...standard] : topics.filter(() => rnd() < 0.5),
      rackId: withRacks ? ['r1', 'r2', 'r3'][Math.floor(rnd() * 3)] : undefined,
      owned: [],
      generation: -1,
    })
    const members = Array.from({ length: 1 + Math.floor(rnd() * 5) }, newMember)
    let generation = 0
    for (let step = 0; step < 40; step++) {
      const event = rnd()
      if (event < 0.25) members.push(newMember())
      else if (event < 0.45 && members.length > 1) members.splice(Math.floor(rnd() * members.length), 1)
      else if (event < 0.6) {
        const m = members[Math.floor(rnd() * members.length)]
        m.topics = rnd() < 0.5 ? [...standard] : topics.filter(() => rnd() < 0.5)
      } else if (event < 0.7) {
        const t = topics[Math.floor(rnd() * topics.length)]
        const n = ppt.get(t)! + 1 + Math.floor(rnd() * 3)
        ppt.set(t, n)
        racks.set(t, [...racks.get(t)!, ...rackList(n - racks.get(t)!.length)])
      } else if (event < 0.8) {
        // A member that missed the last rebalance comes back claiming what it had a generation ago.
        const m = members[Math.floor(rnd() * members.length)]
        if (m.previous) {
          m.owned = m.previous.owned
          m.generation = m.previous.generation
          stats.zombies++
        }
      }
      // Rebalance until nobody has anything to revoke: at most two rounds.
      for (let round = 1; ; round++) {
        assert.ok(round <= 2, `run ${run} step ${step}: still revoking in round ${round}`)
        generation++
        const input: AssignorInput = {
          members: members.map((m) => ({
            memberId: m.memberId,
            topics: m.topics,
            ownedPartitions: m.owned,
            generationId: m.generation,
            rackId: m.rackId ?? null,
          })),
          partitionsPerTopic: new Map(ppt),
          partitionRacks: withRacks ? racks : undefined,
        }
        const what = `run ${run} step ${step} round ${round}`
        const plan = planCooperativeSticky(input)
        stats.rebalances++
        if (round === 2) stats.followUps++
        if (!sameSubscriptions(input)) stats.general++
        if (withRacks) stats.rackAware++
        checkValid(input, plan.assignment, what)
        checkComplete(input, plan.target, `${what} target`)
        checkBalanced(input, plan.target, `${what} target`)
        checkCooperative(input, plan.assignment, what)
        if (!withRacks && sameSubscriptions(input)) {
          assert.is(movesOf(input, plan.target), fewestMovesSameSubscription(input), `${what}: moves`)
        }
        stats.checkedPartitions += allPartitions(input).length
        if (rnd() < 0.2)
          assert.is(format(planCooperativeSticky(permuted(input, rnd)).assignment), format(plan.assignment))
        let revoked = 0
        for (const m of members) {
          const next = plan.assignment.get(m.memberId)!
          const change = decideRevocations(m.owned, next)
          revoked += change.revoked.length
          stats.moved += change.added.length
          m.previous = { owned: m.owned, generation: m.generation }
          m.owned = next
          m.generation = generation
        }
        if (revoked === 0) {
          assert.equal(plan.pending, new Map(), `${what}: nothing revoked, nothing pending`)
          assert.equal(format(plan.assignment), format(plan.target), `${what}: target reached`)
          break
        }
      }
    }
  }
  // The run exercised what it claims to.
  assert.ok(stats.rebalances >= 480, `${stats.rebalances} rebalances`)
  assert.ok(stats.followUps >= 50, `${stats.followUps} follow-up rebalances`)
  assert.ok(stats.zombies >= 20, `${stats.zombies} zombies`)
  assert.ok(stats.general >= 100, `${stats.general} rebalances with different subscriptions`)
  assert.ok(stats.rackAware >= 100, `${stats.rackAware} rebalances with racks`)
})

test('cooperative-sticky: large groups stay fast', () => {
  const rnd = prng(5)
  const ppt = new Map<string, number>()
  for (let t = 0; t < 20; t++) ppt.set(`topic-${t}`, 100)
  const topics = [...ppt.keys()]
  const members: MemberSubscription[] = Array.from({ length: 100 }, (_, i) => ({
    memberId: `member-${i}`,
    topics: topics.filter(() => rnd() < 0.5),
  }))
  const started = performance.now()
  const fresh = cooperativeStickyAssignor.assign({ members, partitionsPerTopic: ppt })
  const joined = [
    ...members.map((m) => ({ ...m, ownedPartitions: fresh.get(m.memberId)!, generationId: 1 })),
    { memberId: 'member-new', topics: topics.slice(0, 10) },
  ]
  const input = { members: joined, partitionsPerTopic: ppt }
  const plan = planCooperativeSticky(input)
  const elapsed = performance.now() - started
  checkComplete(input, plan.target, 'large')
  checkBalanced(input, plan.target, 'large')
  assert.ok(elapsed < 5000, `${elapsed} ms`)
})

// ---------------------------------------------------------------------------------------------------------------
// The rest of the module
// ---------------------------------------------------------------------------------------------------------------

test('decideRevocations: set differences, sorted, duplicates ignored', () => {
  const previous = [tpOf('b:1'), tpOf('a:0'), tpOf('a:2'), tpOf('a:2')]
  const next = [tpOf('a:2'), tpOf('c:0'), tpOf('a:1')]
  assert.equal(decideRevocations(previous, next), {
    revoked: [tpOf('a:0'), tpOf('b:1')],
    added: [tpOf('a:1'), tpOf('c:0')],
  })
  assert.equal(decideRevocations([], []), { revoked: [], added: [] })
  assert.equal(decideRevocations(next, next), { revoked: [], added: [] })
})

test('the assignors: names, protocols, lookup', () => {
  assert.equal(
    BUILT_IN_ASSIGNORS.map((a) => [a.name, a.protocol, [...a.supportedProtocols], a.version]),
    [
      ['range', 'eager', ['eager'], 0],
      ['roundrobin', 'eager', ['eager'], 0],
      ['cooperative-sticky', 'cooperative', ['cooperative', 'eager'], 0],
    ],
  )
  assert.is(assignorByName('range'), rangeAssignor)
  assert.is(assignorByName('sticky'), undefined)
  assert.is(rangeAssignor.subscriptionUserData, undefined)
})

test('from JoinGroup metadata to SyncGroup assignment, through the consumer protocol codecs', () => {
  const metadata = [
    ['m1', null, { topics: ['t'], ownedPartitions: [{ topic: 't', partitions: [0, 1] }], generationId: 3 }],
    ['m2', 'static-2', { topics: ['t'], ownedPartitions: [{ topic: 't', partitions: [2] }], generationId: 3 }],
    ['m3', null, { topics: ['t'], userData: encodeCooperativeStickyUserData(-1) }],
  ] as const
  const members = metadata.map(([id, instance, sub]) =>
    memberSubscriptionFromProtocol(
      id,
      instance,
      decodeConsumerProtocolSubscription(encodeConsumerProtocolSubscription(sub)),
    ),
  )
  assert.equal(members[1], {
    memberId: 'm2',
    groupInstanceId: 'static-2',
    topics: ['t'],
    ownedPartitions: [tpOf('t:2')],
    generationId: 3,
    rackId: null,
    userData: null,
  })
  const a = cooperativeStickyAssignor.assign({ members, partitionsPerTopic: new Map([['t', 4]]) })
  assert.equal(format(a), 'm1=t:0,t:1 m2=t:2 m3=t:3')
  const bytes = encodeConsumerProtocolAssignment({ assignedPartitions: groupByTopic(a.get('m1')!) })
  assert.equal(decodeConsumerProtocolAssignment(bytes).assignedPartitions, [{ topic: 't', partitions: [0, 1] }])
  assert.equal(groupByTopic([tpOf('b:2'), tpOf('a:1'), tpOf('b:0'), tpOf('b:2')]), [
    { topic: 'a', partitions: [1] },
    { topic: 'b', partitions: [0, 2] },
  ])
})

test('bad input: duplicate members, impossible partition counts', () => {
  for (const assignor of BUILT_IN_ASSIGNORS) {
    const dup = () =>
      assignor.assign({
        members: [
          { memberId: 'a', topics: ['t'] },
          { memberId: 'a', topics: ['t'] },
        ],
        partitionsPerTopic: new Map([['t', 1]]),
      })
    assert.throws(dup, (e: unknown) => e instanceof KafkaWireError && e.code === 'ERR_ASSIGNOR_INPUT')
    for (const count of [-1, 1.5, Number.NaN]) {
      const bad = () => assignor.assign({ members: [], partitionsPerTopic: new Map([['t', count]]) })
      assert.throws(bad, (e: unknown) => e instanceof KafkaWireError && e.code === 'ERR_ASSIGNOR_INPUT')
    }
  }
})

test.run()

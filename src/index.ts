// Public API of kafka-wire. Deep imports are not part of the contract.

export {
  Admin,
  type AdminConfig,
  AdminError,
  type ConfigChange,
  type ConfigEntry,
  type ConfigResource,
  type CreateTopicsOptions,
  type GroupDescription,
  type GroupListing,
  type GroupMemberDescription,
  type NewTopic,
  type OffsetSpec,
  type PartitionDescription,
  type PartitionLag,
  type ResetTarget,
  type TopicDescription,
} from './client/admin.js'
// client
export {
  type Assignor,
  assignorByName,
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
} from './client/assignors.js'
export {
  DEFAULT_CONTROL_TOPIC,
  decodeSwitchRequest,
  encodeSwitchRequest,
  ensureControlTopic,
  type RequestSwitchOptions,
  requestSwitch,
  type SwitchRequest,
  SwitchRequestError,
  type SwitchTarget,
} from './client/blue-green.js'
export {
  type AssignedPartition,
  Consumer,
  type ConsumerConfig,
  ConsumerError,
  type ConsumerMessage,
  DEAD_LETTER_HEADERS,
  type OffsetStore,
  type SeekTarget,
} from './client/consumer.js'
export { ConfigError, ProduceError } from './client/errors.js'
export { FetchError, type OffsetReset } from './client/fetcher.js'
export { CommitFailedError, GroupError } from './client/group-membership.js'
export { EARLIEST, LATEST, listOffset, listOffsets, type OffsetQuery } from './client/list-offset.js'
export {
  Counter,
  Gauge,
  Histogram,
  Meter,
  type MetricSnapshot,
  MetricsRegistry,
  type MetricsRegistryOptions,
  metricKey,
  Timer,
} from './client/metrics.js'
export type { TopicPartitionOffset } from './client/offset-tracker.js'
export {
  DefaultPartitioner,
  defaultPartitioner,
  fnv1aPartitioner,
  manualPartitioner,
  murmur2Partitioner,
  type Partitioner,
  type PartitionerFunction,
  type PartitionerName,
  type PartitionerObject,
  RoundRobinPartitioner,
  randomPartitioner,
  roundRobinPartitioner,
  StickyPartitioner,
  stickyPartitioner,
} from './client/partitioners.js'
export {
  type Acks,
  type FlushConfig,
  type MessageHeaders,
  Producer,
  type ProducerConfig,
  type ProducerFailure,
  type ProducerMessage,
  type ProducerSuccess,
  producerChannels,
  type RecordMetadata,
  type Serializer,
} from './client/producer.js'
export { topicNameProblem } from './client/topics.js'
export {
  type BatchHandler,
  type Decision,
  type FailedAttemptInfo,
  type FailureStats,
  type MessageHandler,
  type Ordering,
  type StopReason,
  type TaskContext,
  WorkerError,
} from './client/worker-manager.js'
// network
export { type BackoffOptions, backoffDelay } from './network/backoff.js'
export {
  type BrokerInfo,
  Cluster,
  type ClusterOptions,
  connectionOptionsOf,
  type PartitionInfo,
  type TopicInfo,
} from './network/cluster.js'
export { Connection, type ConnectionOptions, channels, type RequestOptions } from './network/connection.js'
export { AuthenticationError, ConnectionError, ProtocolViolationError, TimeoutError } from './network/errors.js'
export { ConnectionPool, type PoolOptions, type TrafficClass } from './network/pool.js'
export { type OAuthBearerToken, type SaslConfig, type ScramMechanism, saslAuthenticator } from './network/sasl.js'
// protocol
export type { Api } from './protocol/api.js'
export { CompressionUnavailableError } from './protocol/compression.js'
export { ErrorCode, errorByCode, isRetriable, KafkaError } from './protocol/error-codes.js'
export { DecodeError, EncodeError, KafkaWireError, UnsupportedVersionError } from './protocol/errors.js'
export { murmur2, partitionForKey, toPositive } from './protocol/murmur2.js'
export { Reader } from './protocol/reader.js'
export {
  CorruptRecordError,
  decodeRecordBatches,
  encodeRecordBatch,
  type KafkaRecord,
  prepareRecordBatch,
  type RecordBatch,
  type RecordHeader,
} from './protocol/record-batch.js'
export { Writer } from './protocol/writer.js'
// tools
export {
  type ConnectionConfig,
  connectionConfigFromSettings,
  type LoadedConfig,
  loadConnectionConfig,
  loadConsumerConfig,
  loadProducerConfig,
  type MirrorConsumerConfig,
  type MirrorProducerConfig,
} from './tools/client-settings.js'
export {
  GraphiteReporter,
  type GraphiteReporterOptions,
  type GraphiteReporterStats,
} from './tools/metrics/graphite-reporter.js'
export {
  METRICS_ARG_OPTIONS,
  METRICS_USAGE,
  type MetricsFlagValues,
  type MetricsReporting,
  type MetricsReportingOptions,
  metricsOptionsFromArgs,
  startMetricsReporting,
} from './tools/metrics/metrics-flags.js'
export {
  PROMETHEUS_CONTENT_TYPE,
  type PrometheusRenderOptions,
  type PrometheusRenderResult,
  type PrometheusServer,
  type PrometheusServerOptions,
  renderPrometheus,
  renderPrometheusResult,
  startPrometheusServer,
} from './tools/metrics/prometheus-exposition.js'
export { MetricsReporterError, type Registries } from './tools/metrics/reporter-common.js'
export { MirrorError, MirrorMaker, type MirrorMakerOptions } from './tools/mirror/mirror-maker.js'
export {
  type FramerOptions,
  type ParseOptions,
  parseSyslog,
  type SdElement,
  type SdParam,
  SyslogFramer,
  type SyslogMessage,
  SyslogParseError,
} from './tools/syslog/parse.js'
export { encodeLogLine, type LogLine, LogLineEncoder, type LogLineTag } from './tools/syslog/protobuf.js'
export {
  type ListenAddress,
  SyslogServer,
  type SyslogServerConfig,
  SyslogServerError,
  type SyslogSink,
} from './tools/syslog/server.js'

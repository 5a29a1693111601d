import { type ErrorDetails, KafkaWireError } from '../protocol/errors.js'

/** A configuration that cannot work: caught at construction, never retriable. */
export class ConfigError extends KafkaWireError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('ERR_CONFIG', message, { ...details, retriable: false })
  }
}

/**
 * A message the producer could not deliver. `code` says why: a Kafka error name from the broker
 * ('MESSAGE_TOO_LARGE', 'TOPIC_AUTHORIZATION_FAILED', ...) or one of ours: ERR_DELIVERY_TIMEOUT,
 * ERR_BUFFER_FULL, ERR_PRODUCER_CLOSED, ERR_RECORD_TOO_LARGE, ERR_INVALID_TOPIC, ERR_SERIALIZATION,
 * ERR_UNKNOWN_TOPIC, ERR_PRODUCER_FENCED, ERR_PRODUCER_FAILED. `cause` holds the underlying error.
 */
export class ProduceError extends KafkaWireError {
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(code, message, details)
  }
}

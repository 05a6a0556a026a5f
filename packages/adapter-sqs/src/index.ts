/**
 * The long-running SQS consumer: EventBridge -> SQS -> this process -> Kubernetes Jobs.
 *
 * @module
 */
export { type BackoffOptions, receiveBackoffMs } from "./backoff.js";
export { SqsConsumer, type SqsConsumerOptions } from "./consumer.js";

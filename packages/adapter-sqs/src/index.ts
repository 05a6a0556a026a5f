/**
 * The long-running SQS consumer: EventBridge -> SQS -> this process -> Kubernetes Jobs.
 */
export { SqsConsumer, type SqsConsumerOptions } from "./consumer.js";

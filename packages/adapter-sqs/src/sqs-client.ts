import type {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  ReceiveMessageCommandOutput,
} from "@aws-sdk/client-sqs";

/** What the consumer passes with each call: a deadline. */
export interface SqsSendOptions {
  abortSignal?: AbortSignal;
}

/**
 * What the consumer needs of an SQS client: `send`, for the three commands it uses.
 *
 * Structural on purpose: an `SQSClient` of `@aws-sdk/client-sqs` v3 fits whatever its
 * version (the class itself has private members, so a copy from another version would not
 * be assignable to ours), and a test can pass a plain object.
 *
 * @example
 * ```ts
 * import { SQSClient } from "@aws-sdk/client-sqs";
 * const client: SqsSender = new SQSClient({ region: "us-east-1" });
 * ```
 */
export interface SqsSender {
  send(
    command: ReceiveMessageCommand,
    options?: SqsSendOptions,
  ): Promise<Pick<ReceiveMessageCommandOutput, "Messages">>;
  send(
    command: DeleteMessageCommand | ChangeMessageVisibilityCommand,
    options?: SqsSendOptions,
  ): Promise<unknown>;
}

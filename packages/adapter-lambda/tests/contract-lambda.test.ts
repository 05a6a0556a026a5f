import { randomUUID } from "node:crypto";
import { cp, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ScheduleFailedError } from "@ondemand-eks/adapter-lambda";
import { createLambdaFunction } from "@ondemand-eks/adapter-lambda/runtime";
import { dispositionOf, type ScheduleOutcome } from "@ondemand-eks/core";
import { createLogger } from "@ondemand-eks/runtime";
import {
  jobScheduledEvent,
  startTestControlPlane,
  type TestJob,
  type TestRun,
} from "@ondemand-eks/testenv";
import {
  type AdapterUnderTest,
  adapterContract,
  type Observed,
} from "@ondemand-eks/testenv/contract";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll } from "vitest";

// Its own control plane (the contract stops its API server), started here so that
// without Go it is reported as skipped.
const plane: TestRun = await startTestControlPlane("lambda-contract", { controllerManager: false });
afterAll(() => plane.teardown());

/** The function's library: the bundled one, and `broken`, whose Job the API server refuses. */
async function libraryWithBrokenDefinition(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ondemand-eks-lambda-pods-"));
  await cp(fileURLToPath(new URL("../../../pods", import.meta.url)), dir, { recursive: true });
  await writeFile(
    join(dir, "broken.yaml"),
    'name: broken\nagent:\n  image: buildkite/agent:3\npod:\n  nodeSelector:\n    "not a valid key!": x\n',
  );
  return dir;
}
const library = await libraryWithBrokenDefinition();

/**
 * The whole function as Lambda runs it, built from its variables by the runtime, on this
 * file's control plane; its log lines kept.
 */
async function lambdaFunction(run: TestRun, libraryDir: string) {
  const lines: Record<string, unknown>[] = [];
  const fn = await createLambdaFunction(
    {
      ONDEMAND_EKS_KUBECONFIG: run.state?.kubeconfig,
      ONDEMAND_EKS_LIBRARY: libraryDir,
      // A deadline that outlasts the contract's API server restart.
      ONDEMAND_EKS_SUBMIT_TIMEOUT_SECONDS: "60",
    },
    { log: createLogger({ write: (line) => lines.push(JSON.parse(line)) }) },
  );
  return { fn, lines };
}

/** An outcome as the contract names it; a dry run is not one the function can have. */
function observed(outcome: ScheduleOutcome["outcome"]): Observed {
  if (outcome === "dry-run") throw new Error("a dry run, which the Lambda function never does");
  return outcome;
}

const eventBody = (job: TestJob) => JSON.stringify(jobScheduledEvent(job));
const otherEventType = () => {
  const event = JSON.parse(eventBody({ uuid: randomUUID(), rules: [] }));
  event["detail-type"] = "Build Started";
  return JSON.stringify(event);
};

describeWith(plane.info, "contract: Lambda, EventBridge target", () => {
  adapterContract({
    run: () => plane,
    library,
    body: eventBody,
    otherEventType,
    start: async (run, libraryDir): Promise<AdapterUnderTest> => {
      const { fn } = await lambdaFunction(run, libraryDir);
      return {
        async deliver(body) {
          let input: unknown;
          try {
            input = JSON.parse(body);
          } catch {
            input = body;
          }
          try {
            return observed((await fn.eventBridge(input, { awsRequestId: randomUUID() })).outcome);
          } catch (error) {
            // What Lambda retries and then sends to the destination: the outcome says which.
            if (!(error instanceof ScheduleFailedError)) throw error;
            return observed(error.outcome.outcome);
          }
        },
        stop: () => fn.scheduler.close(),
      };
    },
  });
});

describeWith(plane.info, "contract: Lambda, SQS event source", () => {
  adapterContract({
    run: () => plane,
    library,
    body: eventBody,
    otherEventType,
    start: async (run, libraryDir): Promise<AdapterUnderTest> => {
      const { fn, lines } = await lambdaFunction(run, libraryDir);
      return {
        async deliver(body) {
          const messageId = randomUUID();
          const awsRequestId = randomUUID();
          const response = await fn.sqs({ Records: [{ messageId, body }] }, { awsRequestId });
          // The scheduler's line for this message, found by the ids the handler gave it.
          const line = lines.find(
            (l) =>
              l.msg === "event" && l.messageId === messageId && l.awsRequestId === awsRequestId,
          );
          const outcome = line?.outcome as ScheduleOutcome["outcome"] | undefined;
          if (!outcome) throw new Error(`no log line for message ${messageId}`);
          // The batch response must agree: only what is not acknowledged goes back.
          const returned = response.batchItemFailures.some((f) => f.itemIdentifier === messageId);
          if (returned !== (dispositionOf({ outcome }) !== "acknowledge")) {
            throw new Error(`batchItemFailures disagrees with outcome ${outcome}`);
          }
          return observed(outcome);
        },
        stop: () => fn.scheduler.close(),
      };
    },
  });
});

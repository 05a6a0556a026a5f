import { randomUUID } from "node:crypto";
import { eventBridgeHandler, sqsHandler } from "@ondemand-eks/adapter-lambda";
import { resolveSettings, schedule } from "@ondemand-eks/core";
import { bundledLibraryDir, loadPodLibrary, type PodLibrary } from "@ondemand-eks/pod-library";
import { kubeconfigAuth, Submitter } from "@ondemand-eks/submitter";
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
import { describeUnless } from "@ondemand-eks/testenv/vitest";
import { afterAll, describe } from "vitest";

// Its own control plane (the contract stops its API server), started here so that
// without Go it is reported as skipped.
const plane: TestRun = await startTestControlPlane("lambda-contract", { controllerManager: false });
afterAll(() => plane.teardown());

const bundled = await loadPodLibrary(bundledLibraryDir());
const broken = (await import("@ondemand-eks/core")).definePodDefinition({
  name: "broken",
  agent: { image: "buildkite/agent:3" },
  pod: { nodeSelector: { "not a valid key!": "x" } },
});

async function dependencies(run: TestRun) {
  const submitter = new Submitter({
    auth: await kubeconfigAuth({ path: run.state!.kubeconfig }),
    timeoutMs: 60_000,
  });
  const pods: Pick<PodLibrary, "get"> = {
    get: (name) => (name === "broken" ? broken : bundled.get(name)),
  };
  return {
    submitter,
    schedule: (input: unknown) =>
      schedule(input, {
        settings: resolveSettings({}),
        lookup: (name) => pods.get(name),
        submit: (m) => submitter.submit(m),
      }),
  };
}

const eventBody = (job: TestJob) => JSON.stringify(jobScheduledEvent(job));
const otherEventType = () => {
  const event = JSON.parse(eventBody({ uuid: randomUUID(), rules: [] }));
  event["detail-type"] = "Build Started";
  return JSON.stringify(event);
};

const skipReason = plane.info.available ? undefined : plane.info.reason;

describeUnless(skipReason, "contract: Lambda, EventBridge target", () => {
  adapterContract({
    run: () => plane,
    library: "",
    body: eventBody,
    otherEventType,
    start: async (run): Promise<AdapterUnderTest> => {
      const { submitter, schedule } = await dependencies(run);
      const handler = eventBridgeHandler({ schedule });
      return {
        async deliver(body) {
          let input: unknown;
          try {
            input = JSON.parse(body);
          } catch {
            input = body;
          }
          try {
            return (await handler(input)).outcome as Observed;
          } catch (error) {
            return (error as Error).name === "InvalidEventError" ? "invalid" : "failed";
          }
        },
        stop: async () => submitter.close(),
      };
    },
  });
});

describeUnless(skipReason, "contract: Lambda, SQS event source", () => {
  adapterContract({
    run: () => plane,
    library: "",
    body: eventBody,
    otherEventType,
    start: async (run): Promise<AdapterUnderTest> => {
      const { submitter, schedule } = await dependencies(run);
      const outcomes: Observed[] = [];
      const handler = sqsHandler({
        schedule: async (input) => {
          const outcome = await schedule(input);
          outcomes.push(outcome.outcome);
          return outcome;
        },
      });
      return {
        async deliver(body) {
          const messageId = randomUUID();
          const response = await handler({ Records: [{ messageId, body }] });
          const observed = outcomes.pop() ?? "failed";
          // The batch response must agree: only failed and invalid go back to the queue.
          const returned = response.batchItemFailures.some((f) => f.itemIdentifier === messageId);
          if (returned !== (observed === "failed" || observed === "invalid")) {
            throw new Error(`batchItemFailures disagrees with outcome ${observed}`);
          }
          return observed;
        },
        stop: async () => submitter.close(),
      };
    },
  });
});

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { eventBridgeHandler, ScheduleFailedError, sqsHandler } from "@ondemand-eks/adapter-lambda";
import { hasErrorCode, type LogFields, type ScheduleOutcome } from "@ondemand-eks/core";
import { createLogger } from "@ondemand-eks/runtime";
import { describe, expect, it } from "vitest";

const sample = JSON.parse(
  readFileSync(new URL("../../../examples/job-scheduled.json", import.meta.url), "utf8"),
) as { detail: { job: { uuid: string } } };

/**
 * A scheduler's `schedule` whose outcome is named by the event's job uuid prefix
 * (`created:1`, `dry-run:2`), recording each input and the context it was given.
 */
function scripted() {
  const seen: unknown[] = [];
  const contexts: LogFields[] = [];
  const schedule = async (input: unknown, context: LogFields): Promise<ScheduleOutcome> => {
    seen.push(input);
    contexts.push(context);
    const uuid =
      (input as { detail?: { job?: { uuid?: string } }; job?: { uuid?: string } })?.detail?.job
        ?.uuid ??
      (input as { job?: { uuid?: string } })?.job?.uuid ??
      "";
    const outcome = uuid.split(":")[0] || "invalid";
    const placed = {
      job: uuid,
      name: "n",
      namespace: "buildkite",
      queue: "default",
      podDefinition: "default",
      attempts: 1,
      durationMs: 1,
    };
    if (outcome === "created" || outcome === "exists") return { outcome, ...placed };
    if (outcome === "dry-run") return { outcome, result: "created", ...placed };
    if (outcome === "invalid") {
      return { outcome, reason: "scripted invalid", refusedBy: "event", durationMs: 1 };
    }
    return {
      outcome: outcome as "ignored" | "failed",
      reason: `scripted ${outcome}`,
      durationMs: 1,
    };
  };
  return { schedule, seen, contexts };
}

/** The runtime's logger, its lines kept. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ write: (line) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

const event = (uuid: string) => ({
  ...sample,
  detail: { ...sample.detail, job: { ...sample.detail.job, uuid } },
});

describe("EventBridge handler", () => {
  it("returns for what is acknowledged: created, exists, dry-run and ignored", async () => {
    const handler = eventBridgeHandler(scripted());
    for (const outcome of ["created", "exists", "dry-run", "ignored"]) {
      expect(await handler(event(`${outcome}:1`))).toMatchObject({ outcome });
    }
  });

  it.each([
    ["failed", "Lambda retries it"],
    ["invalid", "after the retries, the on-failure destination keeps it"],
  ])(
    "throws a ScheduleFailedError for %s (%s), with the outcome and its reason",
    async (outcome) => {
      // Prepare
      const handler = eventBridgeHandler(scripted());
      // Act
      const error = await handler(event(`${outcome}:1`)).catch((thrown: unknown) => thrown);
      // Assess
      expect(error).toBeInstanceOf(ScheduleFailedError);
      expect(error).toMatchObject({
        name: "ScheduleFailedError",
        code: "SCHEDULE_FAILED",
        message: `${outcome}: scripted ${outcome}`,
        outcome: { outcome, reason: `scripted ${outcome}` },
      });
      expect(hasErrorCode(error, "SCHEDULE_FAILED")).toBe(true);
    },
  );

  it("gives the scheduler Lambda's request id, and nothing when there is no context", async () => {
    const { schedule, contexts } = scripted();
    const handler = eventBridgeHandler({ schedule });
    await handler(event("created:1"), { awsRequestId: "req-1" });
    await handler(event("created:2"));
    expect(contexts).toEqual([{ awsRequestId: "req-1" }, {}]);
  });
});

describe("SQS handler", () => {
  const record = (body: string) => ({ messageId: randomUUID(), body });

  it("reports only the messages not acknowledged in batchItemFailures", async () => {
    const { schedule, seen } = scripted();
    const records = [
      record(JSON.stringify(event("created:1"))),
      record(JSON.stringify(event("failed:2"))),
      record(JSON.stringify(event("exists:3"))),
      record(JSON.stringify(event("invalid:4"))),
      record(JSON.stringify(event("ignored:5"))),
      record("{not json"),
      record(JSON.stringify(event("dry-run:7"))),
    ];
    const response = await sqsHandler({ schedule })({ Records: records });
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      [records[1], records[3], records[5]].map((r) => r!.messageId).sort(),
    );
    expect(seen).toHaveLength(7);
    expect(seen[5]).toBe("{not json");
  });

  it("gives the scheduler Lambda's request id, each message's id and its receive count", async () => {
    // Prepare
    const { schedule, contexts } = scripted();
    const records = [
      { messageId: "m1", body: "{}", attributes: { ApproximateReceiveCount: "4" } },
      { messageId: "m2", body: "{}" },
    ];
    // Act
    await sqsHandler({ schedule, concurrency: 1 })({ Records: records }, { awsRequestId: "req-9" });
    await sqsHandler({ schedule })({ Records: [{ messageId: "m3", body: "{}" }] });
    // Assess
    expect(contexts).toEqual([
      { awsRequestId: "req-9", messageId: "m1", receiveCount: 4 },
      { awsRequestId: "req-9", messageId: "m2", receiveCount: 1 },
      { messageId: "m3", receiveCount: 1 },
    ]);
  });

  it("takes a body that is only the event's detail", async () => {
    const { schedule, seen } = scripted();
    const response = await sqsHandler({ schedule })({
      Records: [record(JSON.stringify({ ...event("created:9").detail }))],
    });
    expect(response.batchItemFailures).toEqual([]);
    expect(seen[0]).toMatchObject({ job: { uuid: "created:9" } });
  });

  it("schedules at most `concurrency` messages at once", async () => {
    let running = 0;
    let most = 0;
    const schedule = async (): Promise<ScheduleOutcome> => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
      return { outcome: "ignored", reason: "r", durationMs: 0 };
    };
    const records = Array.from({ length: 25 }, () => record("{}"));
    await sqsHandler({ schedule, concurrency: 4 })({ Records: records });
    expect(most).toBe(4);
  });
});

describe("SQS handler when schedule throws", () => {
  it("returns only that message, and the rest of the batch keeps its outcomes", async () => {
    const records = [
      { messageId: "ok", body: "{}" },
      { messageId: "boom", body: "{}" },
    ];
    let calls = 0;
    const response = await sqsHandler({
      schedule: async () => {
        calls += 1;
        if (calls === 2) throw new Error("logger broke");
        return { outcome: "ignored", reason: "r", durationMs: 0 };
      },
      concurrency: 1,
    })({ Records: records });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "boom" }]);
  });

  it("says which message and why, so its dead letter has a reason on record", async () => {
    const { log, lines } = capturedLog();
    const response = await sqsHandler({
      schedule: async () => {
        throw new TypeError("library unavailable");
      },
      log,
    })({ Records: [{ messageId: "m1", body: "{}" }] }, { awsRequestId: "req-1" });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m1" }]);
    expect(lines).toEqual([
      {
        time: expect.any(String),
        level: "error",
        msg: "schedule threw",
        awsRequestId: "req-1",
        messageId: "m1",
        receiveCount: 1,
        error: "TypeError: library unavailable",
      },
    ]);
  });

  it("a log sink that fails does not fail the batch", async () => {
    const log = createLogger({
      write: () => {
        throw new Error("stdout closed");
      },
    });
    const response = await sqsHandler({
      schedule: async () => {
        throw new Error("x");
      },
      log,
    })({ Records: [{ messageId: "m1", body: "{}" }] });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m1" }]);
  });
});

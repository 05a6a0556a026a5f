import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { eventBridgeHandler, ScheduleFailedError, sqsHandler } from "@ondemand-eks/adapter-lambda";
import type { ScheduleOutcome } from "@ondemand-eks/core";
import { describe, expect, it } from "vitest";

const sample = JSON.parse(
  readFileSync(new URL("../../../examples/job-scheduled.json", import.meta.url), "utf8"),
) as { detail: { job: { uuid: string } } };

/** A schedule() whose outcome is named by the event's job uuid prefix, recording inputs. */
function scripted() {
  const seen: unknown[] = [];
  const schedule = async (input: unknown): Promise<ScheduleOutcome> => {
    seen.push(input);
    const uuid =
      (input as { detail?: { job?: { uuid?: string } }; job?: { uuid?: string } })?.detail?.job
        ?.uuid ??
      (input as { job?: { uuid?: string } })?.job?.uuid ??
      "";
    const outcome = uuid.split(":")[0] || "invalid";
    if (outcome === "created" || outcome === "exists") {
      return {
        outcome,
        job: uuid,
        name: "n",
        namespace: "buildkite",
        queue: "default",
        podDefinition: "default",
        attempts: 1,
        durationMs: 1,
      };
    }
    return {
      outcome: outcome as "ignored" | "invalid" | "failed",
      reason: `scripted ${outcome}`,
      durationMs: 1,
    };
  };
  return { schedule, seen };
}

const event = (uuid: string) => ({
  ...sample,
  detail: { ...sample.detail, job: { ...sample.detail.job, uuid } },
});

describe("EventBridge handler", () => {
  it("returns for created, exists and ignored", async () => {
    const handler = eventBridgeHandler(scripted());
    for (const outcome of ["created", "exists", "ignored"]) {
      expect(await handler(event(`${outcome}:1`))).toMatchObject({ outcome });
    }
  });

  it("throws for failed (Lambda retries) and invalid (to the on-failure destination)", async () => {
    const handler = eventBridgeHandler(scripted());
    await expect(handler(event("failed:1"))).rejects.toBeInstanceOf(ScheduleFailedError);
    await expect(handler(event("invalid:1"))).rejects.toMatchObject({
      name: "InvalidEventError",
      message: "invalid: scripted invalid",
    });
  });
});

describe("SQS handler", () => {
  const record = (body: string) => ({ messageId: randomUUID(), body });

  it("reports only failed and invalid messages in batchItemFailures", async () => {
    const { schedule, seen } = scripted();
    const records = [
      record(JSON.stringify(event("created:1"))),
      record(JSON.stringify(event("failed:2"))),
      record(JSON.stringify(event("exists:3"))),
      record(JSON.stringify(event("invalid:4"))),
      record(JSON.stringify(event("ignored:5"))),
      record("{not json"),
    ];
    const response = await sqsHandler({ schedule })({ Records: records });
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      [records[1], records[3], records[5]].map((r) => r!.messageId).sort(),
    );
    expect(seen).toHaveLength(6);
    expect(seen[5]).toBe("{not json");
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
    const logged: Record<string, unknown>[] = [];
    const response = await sqsHandler({
      schedule: async () => {
        throw new TypeError("library unavailable");
      },
      log: (entry) => logged.push(entry),
    })({ Records: [{ messageId: "m1", body: "{}" }] });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m1" }]);
    expect(logged).toEqual([
      { msg: "schedule threw", messageId: "m1", error: "TypeError: library unavailable" },
    ]);
  });

  it("a logger that throws does not fail the batch", async () => {
    const response = await sqsHandler({
      schedule: async () => {
        throw new Error("x");
      },
      log: () => {
        throw new Error("logger broke");
      },
    })({ Records: [{ messageId: "m1", body: "{}" }] });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m1" }]);
  });
});

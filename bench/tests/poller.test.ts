import { randomUUID } from "node:crypto";
import { parseEvent } from "@ondemand-eks/core";
import { describe, expect, it } from "vitest";
import { eventOf } from "../src/poller.js";

describe("the poller's event from a Stacks API job", () => {
  it("is a Job Scheduled detail the core parses, with the job's uuid, rules and pipeline", () => {
    // Prepare: a job as `GET stacks/:key/scheduled-jobs` lists it
    const id = randomUUID();
    const listed = {
      id,
      priority: 0,
      agent_query_rules: ["queue=default", "pod=node-postgres"],
      scheduled_at: new Date(0).toISOString(),
      pipeline: { slug: "pipeline", uuid: randomUUID() },
      build: { uuid: randomUUID(), number: 7, branch: "main" },
      step: { key: "" },
    };

    // Act
    const parsed = parseEvent(eventOf(listed));

    // Assess
    expect(parsed.kind).toBe("scheduled");
    if (parsed.kind !== "scheduled") return;
    expect(parsed.job.uuid).toBe(id);
    expect(parsed.job.agentQueryRules).toEqual(listed.agent_query_rules);
    expect(parsed.job.pipeline.slug).toBe("pipeline");
  });

  it("still parses when the listing leaves out the build and pipeline", () => {
    const parsed = parseEvent(eventOf({ id: randomUUID() }));
    expect(parsed.kind).toBe("scheduled");
  });
});

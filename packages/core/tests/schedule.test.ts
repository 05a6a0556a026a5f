import {
  type Disposition,
  dispositionOf,
  type JobManifest,
  type PodDefinition,
  type ScheduleOutcome,
  type SubmitOutcome,
  schedule,
  UnknownPodDefinitionError,
} from "@ondemand-eks/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadEvent, podDefinition, settings } from "./helpers/fixtures.js";

const definitions: Record<string, PodDefinition> = {
  default: podDefinition({ name: "default" }),
  "node-postgres": podDefinition({ name: "node-postgres" }),
};

/** Dependencies with a scripted submitter, recording what reached it and the log. */
function harness(result: SubmitOutcome | (() => Promise<SubmitOutcome>) = created()) {
  const submitted: JobManifest[] = [];
  const logged: ScheduleOutcome[] = [];
  let clock = 1_000;
  return {
    submitted,
    logged,
    dependencies: {
      settings: settings(),
      lookup: (name: string) => {
        const found = definitions[name];
        if (!found) throw new UnknownPodDefinitionError(name, Object.keys(definitions));
        return found;
      },
      submit: async (manifest: JobManifest) => {
        submitted.push(manifest);
        clock += 7;
        return typeof result === "function" ? result() : result;
      },
      now: () => clock,
      log: (outcome: ScheduleOutcome) => logged.push(outcome),
    },
  };
}

function created(outcome: "created" | "exists" = "created", dryRun = false): SubmitOutcome {
  return { outcome, name: "buildkite-x", namespace: "buildkite", attempts: 1, dryRun };
}

/** A refusal or an outage, as the submitter reports them. */
function refused(outcome: "rejected" | "unavailable", dryRun = false): SubmitOutcome {
  const common = { name: "buildkite-x", namespace: "buildkite", attempts: 1, dryRun };
  return outcome === "rejected"
    ? { ...common, outcome, status: 400, reason: "BadRequest", message: "m" }
    : { ...common, outcome, message: "m", attempts: 3 };
}

const JOB = "0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70";

/** Every outcome and what it means for a transport: a new outcome fails to compile here. */
const DISPOSITIONS = {
  created: "acknowledge",
  exists: "acknowledge",
  "dry-run": "acknowledge",
  ignored: "acknowledge",
  invalid: "dead-letter",
  failed: "retry",
} as const satisfies Record<ScheduleOutcome["outcome"], Disposition>;

function event(rules: string[] = ["queue=default", "pod=node-postgres"]) {
  const e = loadEvent("eventbridge-job-scheduled") as { detail: { job: Record<string, unknown> } };
  e.detail.job.agent_query_rules = rules;
  return e;
}

describe("schedule: one outcome per event", () => {
  it("created: the Job was made, with where it went", async () => {
    const h = harness();
    const outcome = await schedule(event(), h.dependencies);
    expect(outcome).toEqual({
      outcome: "created",
      job: JOB,
      name: "buildkite-x",
      namespace: "buildkite",
      queue: "default",
      podDefinition: "node-postgres",
      attempts: 1,
      durationMs: 7,
    });
    expect(h.submitted).toHaveLength(1);
    expect(h.submitted[0]?.metadata.name).toBe(`buildkite-${outcome.job}`);
    expect(h.logged).toEqual([outcome]);
  });

  it("exists: a duplicate event", async () => {
    const outcome = await schedule(event(), harness(created("exists")).dependencies);
    expect(outcome.outcome).toBe("exists");
  });

  it.each(["created", "exists"] as const)(
    "dry-run: a server-side dry run that would have %s the Job, with where it would go",
    async (result) => {
      const h = harness(created(result, true));
      const outcome = await schedule(event(), h.dependencies);
      expect(outcome).toEqual({
        outcome: "dry-run",
        result,
        job: expect.any(String),
        name: "buildkite-x",
        namespace: "buildkite",
        queue: "default",
        podDefinition: "node-postgres",
        attempts: 1,
        durationMs: 7,
      });
      expect(h.submitted).toHaveLength(1);
      expect(h.logged).toEqual([outcome]);
    },
  );

  it("a dry run the API server refuses is invalid, not dry-run", async () => {
    const outcome = await schedule(event(), harness(refused("rejected", true)).dependencies);
    expect(outcome).toMatchObject({ outcome: "invalid", reason: expect.stringContaining("400") });
  });

  it("ignored: another queue, without submitting", async () => {
    const h = harness();
    const outcome = await schedule(event(["queue=deploy"]), h.dependencies);
    expect(outcome).toMatchObject({
      outcome: "ignored",
      reason: expect.stringContaining("deploy"),
    });
    expect(outcome.job).toBeDefined();
    expect(h.submitted).toHaveLength(0);
  });

  it("ignored: another event type", async () => {
    const h = harness();
    const other = { ...event(), "detail-type": "Build Started" };
    expect(await schedule(other, h.dependencies)).toMatchObject({ outcome: "ignored" });
    expect(h.submitted).toHaveLength(0);
  });

  it("invalid: a malformed body, naming the field, with no job known", async () => {
    const broken = event();
    delete broken.detail.job.uuid;
    const outcome = await schedule(broken, harness().dependencies);
    expect(outcome).toMatchObject({
      outcome: "invalid",
      reason: expect.stringContaining("uuid"),
      refusedBy: "event",
    });
    expect(outcome.job).toBeUndefined();
  });

  it("invalid: an unknown pod definition, with the job it was for", async () => {
    const h = harness();
    const outcome = await schedule(event(["queue=default", "pod=gpu"]), h.dependencies);
    expect(outcome).toMatchObject({
      outcome: "invalid",
      reason: expect.stringContaining("gpu"),
      refusedBy: "job",
    });
    expect(outcome.job).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.submitted).toHaveLength(0);
  });

  it("invalid: the API server refused the Job", async () => {
    const outcome = await schedule(
      event(),
      harness({
        outcome: "rejected",
        status: 422,
        reason: "Invalid",
        message: "bad field",
        name: "buildkite-x",
        namespace: "buildkite",
        attempts: 1,
        dryRun: false,
      }).dependencies,
    );
    expect(outcome).toMatchObject({
      outcome: "invalid",
      reason: "the API server refused the Job: 422 Invalid: bad field",
      refusedBy: "cluster",
    });
  });

  it("failed: the API server could not be reached (retrying may help)", async () => {
    const outcome = await schedule(
      event(),
      harness({
        outcome: "unavailable",
        message: "ECONNREFUSED",
        name: "buildkite-x",
        namespace: "buildkite",
        attempts: 9,
        dryRun: false,
      }).dependencies,
    );
    expect(outcome).toMatchObject({ outcome: "failed", attempts: 9, job: expect.any(String) });
  });

  it("failed: a submitter that throws does not escape", async () => {
    const outcome = await schedule(
      event(),
      harness(async () => {
        throw new Error("socket closed");
      }).dependencies,
    );
    expect(outcome).toMatchObject({
      outcome: "failed",
      reason: "submitting failed: socket closed",
    });
  });

  it("never logs the job's command", async () => {
    const h = harness();
    const e = event();
    e.detail.job.command = "curl https://secret.example/?token=hunter2";
    await schedule(e, h.dependencies);
    expect(JSON.stringify(h.logged)).not.toContain("hunter2");
  });

  it("never throws, and logs exactly one outcome, for any input", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.jsonValue(), fc.constant(event()), fc.anything()),
        fc.constantFrom<SubmitOutcome>(
          created(),
          created("exists"),
          created("created", true),
          created("exists", true),
          refused("rejected"),
          refused("rejected", true),
          refused("unavailable"),
        ),
        async (input, result) => {
          const h = harness(result);
          const outcome = await schedule(input, h.dependencies);
          expect(Object.keys(DISPOSITIONS)).toContain(outcome.outcome);
          expect(h.logged).toEqual([outcome]);
          // Submitted exactly once when the event was ours and valid, else never.
          const reachedServer =
            outcome.outcome === "created" ||
            outcome.outcome === "exists" ||
            outcome.outcome === "dry-run" ||
            ((outcome.outcome === "invalid" || outcome.outcome === "failed") &&
              outcome.reason.startsWith("the API server"));
          expect(h.submitted).toHaveLength(reachedServer ? 1 : 0);
          // A dry run is never reported as a Job that exists.
          if (result.dryRun) expect(["created", "exists"]).not.toContain(outcome.outcome);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("dispositionOf: the one decision of what an outcome means", () => {
  it.each(Object.entries(DISPOSITIONS))("%s -> %s", (outcome, disposition) => {
    expect(dispositionOf({ outcome } as Pick<ScheduleOutcome, "outcome">)).toBe(disposition);
  });

  it("decides on the outcome alone, whatever else the outcome carries", async () => {
    const results: SubmitOutcome[] = [
      created(),
      created("exists"),
      created("created", true),
      refused("rejected"),
      refused("unavailable"),
    ];
    for (const result of results) {
      const outcome = await schedule(event(), harness(result).dependencies);
      expect(dispositionOf(outcome)).toBe(DISPOSITIONS[outcome.outcome]);
    }
    const ignored = await schedule(event(["queue=deploy"]), harness().dependencies);
    expect(dispositionOf(ignored)).toBe("acknowledge");
  });
});

describe("schedule: who may use a definition", () => {
  /** The fixture event is pipeline acme/my-pipeline on branch main. */
  const restricted = (access: Record<string, unknown>) => {
    const h = harness();
    const guarded = podDefinition({ name: "elastic-ci-stack", access });
    const lookup = h.dependencies.lookup;
    return {
      ...h,
      dependencies: {
        ...h.dependencies,
        lookup: (name: string) => (name === guarded.name ? guarded : lookup(name)),
      },
    };
  };

  it("invalid: a definition the job's pipeline may not use, with which rule and how to get access; nothing submitted", async () => {
    // Prepare
    const h = restricted({ pipelines: ["acme/infra-*"] });

    // Act
    const outcome = await schedule(
      event(["queue=default", "pod=elastic-ci-stack"]),
      h.dependencies,
    );

    // Assess
    expect(outcome).toEqual({
      outcome: "invalid",
      reason:
        'pod definition "elastic-ci-stack" is not available to pipeline "acme/my-pipeline" (its access allows pipelines: acme/infra-*); ask your platform team to add this pipeline to its access rules',
      refusedBy: "access",
      job: JOB,
      durationMs: 0,
    });
    expect(dispositionOf(outcome)).toBe("dead-letter");
    expect(h.submitted).toHaveLength(0);
    expect(h.logged).toEqual([outcome]);
  });

  it("created: a job its access rules allow", async () => {
    const h = restricted({ pipelines: ["acme/my-*"], branches: ["main"] });
    const outcome = await schedule(
      event(["queue=default", "pod=elastic-ci-stack"]),
      h.dependencies,
    );
    expect(outcome).toMatchObject({ outcome: "created", podDefinition: "elastic-ci-stack" });
    expect(h.submitted).toHaveLength(1);
  });
});

describe("schedule: a late event's job is checked in Buildkite first", () => {
  /** The fixture's job became runnable at 2026-11-28 10:01:14 UTC. */
  const RUNNABLE = Date.parse("2026-11-28T10:01:14Z");

  /** A harness whose clock reads `ageMs` after the job became runnable, and a state reader. */
  function late(ageMs: number, state: string | Error | undefined) {
    const h = harness();
    const asked: string[] = [];
    const dependencies = {
      ...h.dependencies,
      now: () => RUNNABLE + ageMs,
      jobState: async (uuid: string) => {
        asked.push(uuid);
        if (state instanceof Error) throw state;
        return state;
      },
    };
    return { h, asked, dependencies };
  }

  it.each(["finished", "canceled", "expired"])(
    "makes no Job for a job already %s (a redelivery), and says why",
    async (state) => {
      const { h, asked, dependencies } = late(5 * 60_000, state);
      const outcome = await schedule(event(), dependencies);
      expect(outcome).toMatchObject({ outcome: "ignored", job: JOB });
      expect(outcome.outcome === "ignored" && outcome.reason).toContain(`already ${state}`);
      expect(asked).toEqual([JOB]);
      expect(h.submitted).toHaveLength(0);
    },
  );

  it("makes the Job of a late event whose job still waits", async () => {
    const { h, dependencies } = late(5 * 60_000, "scheduled");
    expect((await schedule(event(), dependencies)).outcome).toBe("created");
    expect(h.submitted).toHaveLength(1);
  });

  it("asks nothing about a fresh event", async () => {
    const { asked, dependencies } = late(10_000, "finished");
    expect((await schedule(event(), dependencies)).outcome).toBe("created");
    expect(asked).toEqual([]);
  });

  it("makes the Job when Buildkite cannot be asked: a short pod beats a job that never starts", async () => {
    const { h, dependencies } = late(5 * 60_000, new Error("503"));
    expect((await schedule(event(), dependencies)).outcome).toBe("created");
    expect(h.submitted).toHaveLength(1);
  });

  it("honours the threshold it is given", async () => {
    const { asked, dependencies } = late(5 * 60_000, "finished");
    const outcome = await schedule(event(), { ...dependencies, staleAfterMs: 10 * 60_000 });
    expect(outcome.outcome).toBe("created");
    expect(asked).toEqual([]);
  });
});

import {
  ControllerPassError,
  controllerHandler,
  type PassReportLike,
  type PassRunner,
} from "@ondemand-eks/adapter-lambda";
import type { LogFields, Logger } from "@ondemand-eks/core";
import { describe, expect, it } from "vitest";

/** EventBridge's "Scheduled Event", which the handler does not read. */
const SCHEDULED_EVENT = {
  version: "0",
  id: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
  "detail-type": "Scheduled Event",
  source: "aws.events",
  account: "123456789012",
  time: "2026-12-02T01:00:00Z",
  region: "us-east-1",
  resources: ["arn:aws:events:us-east-1:123456789012:rule/ondemand-eks-controller"],
  detail: {},
};

const done = (schedule = 0) => ({
  schedule,
  fail: 0,
  notify: 0,
  stop: 0,
  hold: 0,
  resume: 0,
  delete: 0,
});

/** A controller whose next pass reports `report`, or is refused with `blocked`. */
function runner(
  report: PassReportLike | undefined,
  blocked?: string,
): PassRunner & {
  passes: number;
} {
  return {
    passes: 0,
    async once() {
      this.passes += 1;
      return report;
    },
    blocked,
  };
}

/** A logger that keeps its lines. */
function keptLog(): Logger & { lines: { msg: string; fields?: LogFields }[] } {
  const lines: { msg: string; fields?: LogFields }[] = [];
  const log: Logger & { lines: typeof lines } = {
    lines,
    debug: (msg, fields) => lines.push({ msg, ...(fields ? { fields } : {}) }),
    info: (msg, fields) => lines.push({ msg, ...(fields ? { fields } : {}) }),
    warn: (msg, fields) => lines.push({ msg, ...(fields ? { fields } : {}) }),
    error: (msg, fields) => lines.push({ msg, ...(fields ? { fields } : {}) }),
    child: () => log,
  };
  return log;
}

async function failure(promise: Promise<unknown>): Promise<ControllerPassError> {
  const error = await promise.then(
    () => expect.unreachable("resolved"),
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ControllerPassError);
  return error as ControllerPassError;
}

describe("controllerHandler", () => {
  it("runs one pass per invocation and returns what it did, whatever the event holds", async () => {
    // Prepare
    const controller = runner({ complete: true, done: done(2), problems: [] });
    const log = keptLog();
    const handler = controllerHandler({ controller, log });
    // Act
    const first = await handler(SCHEDULED_EVENT, { awsRequestId: "r1" });
    const second = await handler(undefined);
    // Assess
    expect(controller.passes).toBe(2);
    expect(first).toEqual({ complete: true, done: done(2), problems: [] });
    expect(second).toEqual(first);
    expect(log.lines[0]).toEqual({
      msg: "controller pass",
      fields: { awsRequestId: "r1", complete: true, done: done(2), problems: [] },
    });
  });

  it("returns the problems of single jobs when the pass read everything", async () => {
    const controller = runner({ complete: true, done: done(1), problems: ["job x: 422"] });
    const summary = await controllerHandler({ controller })(SCHEDULED_EVENT);
    expect(summary.problems).toEqual(["job x: 422"]);
  });

  it("throws when the pass could not read Buildkite or the cluster, with what it met", async () => {
    const controller = runner({
      complete: false,
      done: done(),
      problems: ["scheduled-jobs default: 503"],
    });
    const error = await failure(controllerHandler({ controller })(SCHEDULED_EVENT));
    expect(error).toMatchObject({ failure: "incomplete", code: "SCHEDULE_FAILED" });
    expect(error.message).toContain("could not read Buildkite or the cluster");
    expect(error.message).toContain("scheduled-jobs default: 503");
  });

  it("throws when Buildkite refused the cluster token, saying so", async () => {
    const controller = runner(undefined, "401 Unauthorized: invalid token");
    const error = await failure(controllerHandler({ controller })(SCHEDULED_EVENT));
    expect(error).toMatchObject({ failure: "blocked", code: "INVALID_SETTINGS" });
    expect(error.message).toBe(
      "Buildkite refused the cluster token: 401 Unauthorized: invalid token",
    );
  });

  it("throws when no pass ran (the Lease held elsewhere, or nothing could be reached)", async () => {
    const error = await failure(controllerHandler({ controller: runner(undefined) })(undefined));
    expect(error.failure).toBe("incomplete");
    expect(error.message).toContain("no pass ran");
  });
});

import { randomUUID } from "node:crypto";

/** A job as tests schedule it: its uuid, and its agent query rules (default queue). */
export interface TestJob {
  readonly uuid: string;
  readonly rules?: readonly string[];
}

/** The `detail` of a Buildkite "Job Scheduled" event, as EventBridge carries it. */
export function jobScheduledDetail({ uuid, rules = ["queue=default"] }: TestJob) {
  return {
    version: 1,
    job: { uuid, type: "script", agent_query_rules: [...rules], state: "scheduled" },
    build: { uuid: randomUUID(), number: 1, branch: "main" },
    pipeline: { uuid: randomUUID(), slug: "tests" },
    organization: { uuid: randomUUID(), slug: "acme" },
  };
}

/** A whole EventBridge "Job Scheduled" event from Buildkite's partner event source. */
export function jobScheduledEvent(job: TestJob) {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Job Scheduled",
    source: "aws.partner/buildkite.com/acme/0190a3bf-aaaa-4bbb-8ccc-dddddddddddd",
    account: "123456789012",
    time: new Date().toISOString(),
    region: "us-east-1",
    resources: [],
    detail: jobScheduledDetail(job),
  };
}

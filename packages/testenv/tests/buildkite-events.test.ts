import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseEvent } from "@ondemand-eks/core/events";
import { type BuildkiteEmulator, startBuildkiteEmulator } from "@ondemand-eks/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const AGENT_TOKEN = "emulated-agent-token";
const WEBHOOK_TOKEN = "webhook-secret";

/** A webhook receiver on a loopback port that keeps each request's headers and raw body. */
async function startReceiver() {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(parts).toString("utf8") });
      response.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/buildkite`;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { url, received, close };
}

/** True when `header` is Buildkite's HMAC-SHA256 signature of `body` with `token`. */
function verifySignature(header: string, body: string, token: string): boolean {
  const match = /^timestamp=(\d+),signature=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const expected = createHmac("sha256", token).update(`${match[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2] ?? "", "hex"));
}

/** A job with build facts of its own, so the events' values can be checked against it. */
const SPEC = {
  command: "npm test",
  agentQueryRules: ["queue=linux", "pod=node-*"],
  label: ":node: test",
  stepKey: "test",
  pipelineSlug: "app",
  organizationSlug: "acme",
  env: { BUILDKITE_BUILD_NUMBER: "42", BUILDKITE_BRANCH: "feature" },
};

describe("the Buildkite emulator's Job Scheduled events", () => {
  let buildkite: BuildkiteEmulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const sent: unknown[] = [];

  beforeAll(async () => {
    receiver = await startReceiver();
    buildkite = await startBuildkiteEmulator({
      agentToken: AGENT_TOKEN,
      deliverTo: [{ kind: "webhook", url: receiver.url, token: WEBHOOK_TOKEN, signed: true }],
    });
  });
  afterAll(async () => {
    await buildkite?.close();
    await receiver?.close();
  });

  it("POSTs a signed job.scheduled webhook that our core parses to the job", async () => {
    // Act
    const id = buildkite.createJob(SPEC);
    await buildkite.deliveries();

    // Assess
    const [delivery] = receiver.received;
    expect(delivery?.headers["x-buildkite-event"]).toBe("job.scheduled");
    const signature = String(delivery?.headers["x-buildkite-signature"]);
    expect(verifySignature(signature, delivery?.body ?? "", WEBHOOK_TOKEN)).toBe(true);
    expect(verifySignature(signature, delivery?.body ?? "", "another-token")).toBe(false);
    const parsed = parseEvent(JSON.parse(delivery?.body ?? "null"));
    expect(parsed).toMatchObject({
      kind: "scheduled",
      job: {
        uuid: id,
        agentQueryRules: ["queue=linux", "pod=node-*"],
        label: ":node: test",
        stepKey: "test",
        pipeline: { slug: "app" },
        build: { number: 42, branch: "feature" },
        form: "webhook",
      },
    });
    const timeline = buildkite.job(id).timeline;
    expect(timeline.map((entry) => entry.event)).toEqual([
      "scheduled",
      "event sent",
      "event delivered",
    ]);
    expect(timeline[2]?.detail).toBe(`webhook ${receiver.url}: HTTP 202`);
  });

  it("sends the EventBridge envelope to a target added later, which our core parses", async () => {
    // Prepare
    buildkite.deliverTo({
      kind: "eventbridge",
      account: "111122223333",
      send: async (event) => void sent.push(event),
    });

    // Act
    const id = buildkite.createJob(SPEC);
    await buildkite.deliveries();

    // Assess
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      version: "0",
      "detail-type": "Job Scheduled",
      source: expect.stringMatching(/^aws\.partner\/buildkite\.com\/acme\/[0-9a-f-]+$/),
      account: "111122223333",
      region: "us-east-1",
      resources: [],
      detail: {
        version: 1,
        job: { uuid: id, type: "script", state: "scheduled", command: "npm test" },
        build: { number: 42, branch: "feature" },
        pipeline: { slug: "app" },
        organization: { slug: "acme" },
      },
    });
    expect(parseEvent(sent[0])).toMatchObject({
      kind: "scheduled",
      job: { uuid: id, organization: { slug: "acme" }, form: "eventbridge" },
    });
    const events = buildkite.job(id).timeline.map((entry) => entry.event);
    expect(events.filter((event) => event === "event sent")).toHaveLength(2);
    expect(events.filter((event) => event === "event delivered")).toHaveLength(2);
  });

  it("records a failed delivery and carries on: a closed port, a throwing target", async () => {
    // Prepare
    const closed = await startReceiver();
    await closed.close();
    const failing = await startBuildkiteEmulator({
      agentToken: AGENT_TOKEN,
      deliverTo: [
        { kind: "webhook", url: closed.url, token: WEBHOOK_TOKEN },
        { kind: "eventbridge", send: () => Promise.reject(new Error("queue is gone")) },
      ],
    });

    // Act
    const id = failing.createJob({ command: "true" });
    await failing.deliveries();
    const stillAnswers = await fetch(`${failing.controlUrl}/jobs/${id}`);
    await failing.close();

    // Assess
    const failures = failing.job(id).timeline.filter((e) => e.event === "event delivery failed");
    expect(failures).toHaveLength(2);
    expect(failures.map((entry) => entry.detail)).toContainEqual(
      expect.stringContaining("queue is gone"),
    );
    expect(stillAnswers.status).toBe(200);
  });

  it("sends X-Buildkite-Token to an unsigned webhook", async () => {
    // Prepare
    const plain = await startReceiver();
    const emulator = await startBuildkiteEmulator({
      agentToken: AGENT_TOKEN,
      deliverTo: [{ kind: "webhook", url: plain.url, token: WEBHOOK_TOKEN }],
    });

    // Act
    emulator.createJob({ command: "true" });
    await emulator.deliveries();
    await emulator.close();
    await plain.close();

    // Assess
    expect(plain.received[0]?.headers["x-buildkite-token"]).toBe(WEBHOOK_TOKEN);
    expect(plain.received[0]?.headers["x-buildkite-signature"]).toBeUndefined();
  });
});

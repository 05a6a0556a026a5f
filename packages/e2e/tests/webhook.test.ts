import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  HELLO,
  podOf,
  type RunningCli,
  runToEnd,
  schedulerFlags,
  startCli,
  startWorld,
} from "./world.js";

// From the emulator's signed "Job Scheduled" webhook to a finished job: `serve http`
// creates the Job, the kubelet runs its pod, and the real agent runs the command.
const world = await startWorld("e2e-webhook");
afterAll(() => world.close());

describeWith(world.info, "end to end through the webhook (serve http)", () => {
  const w = () => world.info.value as NonNullable<typeof world.info.value>;
  let server: RunningCli;

  beforeAll(async () => {
    const token = "e2e-webhook-token-0123456789abcdef0123456789";
    const tokenFile = join(w().kubeconfig, "..", "webhook-token");
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    server = startCli(
      [
        "serve",
        "http",
        ...["--port", "0", "--host", "127.0.0.1", "--webhook-token-file", tokenFile],
        ...schedulerFlags(w()),
      ],
      {},
      /listening on (\S+)/,
    );
    const url = await server.announced;
    w().local.buildkite.deliverTo({ kind: "webhook", url: `${url}/webhook`, token, signed: true });
  });
  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
  });

  it("runs `echo hello` in a pod of the default definition: exit 0, its log, the Job Complete", async () => {
    // Act
    const id = w().local.buildkite.createJob({ command: HELLO });
    const ended = await runToEnd(w(), id);

    // Assess
    expect(ended.state, ended.story).toBe("finished");
    expect(ended.exitStatus, `${ended.story}\n--- log\n${ended.log}`).toBe(0);
    expect(ended.log).toContain("hello");
    expect(ended.kubernetes, ended.story).toBe("Complete");
  });

  it("runs it in a node-postgres pod: the agent binary copied in, services as sidecars", async () => {
    // Act
    const id = w().local.buildkite.createJob({
      command: 'echo "hello, database at $DATABASE_URL"',
      agentQueryRules: ["queue=default", "pod=node-postgres"],
    });
    const ended = await runToEnd(w(), id);

    // Assess
    expect(ended.exitStatus, ended.story).toBe(0);
    expect(ended.log).toContain("hello, database at postgres://postgres@127.0.0.1:5432/postgres");
    expect(ended.kubernetes, ended.story).toBe("Complete");
    // The agent registered with the tags the Job gave it: queue, definition, its own.
    expect(ended.story).toContain("with tags [queue=default, pod=node-postgres, node=22]");
    // The agent binary was copied in first; the services ran beside the agent, and
    // stopped after it.
    const pod = await podOf(w(), id);
    const ends = Object.fromEntries(
      [
        ...(pod?.status?.initContainerStatuses ?? []),
        ...(pod?.status?.containerStatuses ?? []),
      ].map((c) => [c.name, c.state?.terminated]),
    );
    for (const name of ["copy-agent", "postgres", "redis", "agent"]) {
      expect(ends[name], ended.story).toMatchObject({ exitCode: 0 });
    }
    const finishedAt = (name: string) => ends[name]?.finishedAt?.getTime() ?? 0;
    expect(finishedAt("postgres")).toBeGreaterThanOrEqual(finishedAt("agent"));
  });

  it("runs it in a pod of the bundled fargate definition, labelled for the Fargate profile", async () => {
    // Act
    const id = w().local.buildkite.createJob({
      command: HELLO,
      agentQueryRules: ["queue=default", "pod=fargate"],
    });
    const ended = await runToEnd(w(), id);

    // Assess: the job ran; the pod carries the label the profile selects on, and asks
    // for exactly the Fargate size the definition was written for.
    expect(ended.exitStatus, ended.story).toBe(0);
    expect(ended.log).toContain("hello");
    const pod = await podOf(w(), id);
    expect(pod?.metadata?.labels?.["ondemand-eks.io/compute"]).toBe("fargate");
    const agent = pod?.spec?.containers.find((container) => container.name === "agent");
    expect(agent?.resources?.requests).toEqual({ cpu: "1", memory: "1792Mi" });
    expect(pod?.spec?.containers.some((c) => c.securityContext?.privileged)).toBe(false);
  });

  it("fails a failing command in both: Buildkite gets its exit status, the Job is Failed", async () => {
    // Act
    const id = w().local.buildkite.createJob({ command: "echo failing; exit 3" });
    const ended = await runToEnd(w(), id);

    // Assess
    expect(ended.state, ended.story).toBe("finished");
    expect(ended.exitStatus, ended.story).toBe(3);
    expect(ended.kubernetes, ended.story).toBe("Failed");
  });
});

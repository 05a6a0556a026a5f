import { buildDeployment, buildJob, parseEvent, resolveSettings } from "@ondemand-eks/core";
import { fargateSize } from "@ondemand-eks/core/pod-definition";
import { bundledLibraryDir, checkPodLibrary, loadPodLibrary } from "@ondemand-eks/pod-library";
import { describe, expect, it } from "vitest";

const settings = resolveSettings({ queues: ["default", "linux"] });
const event = parseEvent({
  job: { uuid: "0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70", agent_query_rules: ["queue=default"] },
  build: { number: 1 },
  pipeline: { slug: "p" },
});

describe("the bundled library in pods/", () => {
  it("has no problems", async () => {
    expect(await checkPodLibrary(bundledLibraryDir())).toEqual([]);
  });

  it("holds the five documented definitions", async () => {
    const library = await loadPodLibrary(bundledLibraryDir());
    expect(library.names()).toEqual([
      "default",
      "elastic-ci-stack",
      "fargate",
      "linux-pool",
      "node-postgres",
    ]);
  });

  it("renders every one-shot definition to a Job and the long-polling one to a Deployment", async () => {
    // Prepare
    const library = await loadPodLibrary(bundledLibraryDir());
    if (event.kind !== "scheduled") throw new Error("fixture");

    // Act and assess
    for (const definition of library.definitions()) {
      if (definition.mode === "one-shot") {
        const job = buildJob({ job: event.job, queue: "default", definition, settings });
        expect(job.spec.template.spec.containers.map((c) => c.name)).toEqual(["agent"]);
      } else {
        expect(buildDeployment({ definition, settings }).spec.replicas).toBe(2);
      }
    }
  });

  it("elastic-ci-stack: privileged dockerd as a native sidecar sharing the socket, IAM service account, no Fargate", async () => {
    const definition = (await loadPodLibrary(bundledLibraryDir())).get("elastic-ci-stack");
    if (event.kind !== "scheduled") throw new Error("fixture");
    const spec = buildJob({ job: event.job, queue: "default", definition, settings }).spec.template
      .spec;
    const dockerd = spec.initContainers?.find((c) => c.name === "dockerd");
    expect(dockerd?.restartPolicy).toBe("Always");
    expect(dockerd?.securityContext).toEqual({ privileged: true });
    // dockerd named first, so the dind entrypoint adds no default listener; and no TCP one
    // of its own: only the socket the agent shares reaches this privileged daemon.
    expect(dockerd?.args?.[0]).toBe("dockerd");
    expect(dockerd?.args?.some((arg) => /tcp:\/\//.test(arg))).toBe(false);
    expect(dockerd?.args).toContain("--host=unix:///var/run/docker/docker.sock");
    expect(spec.serviceAccountName).toBe("buildkite-elastic-ci-stack");
    const agentMounts = ((spec.containers[0]?.volumeMounts ?? []) as { name: string }[]).map(
      (m) => m.name,
    );
    expect(agentMounts).toContain("docker-socket");
    // compute: ec2, so the builder keeps it off Fargate, once.
    expect(definition.compute).toBe("ec2");
    expect(JSON.stringify(spec.affinity).match(/"values":\["fargate"\]/g)).toHaveLength(1);
  });

  it("fargate: the plain agent, labelled for the Fargate profile, sized to exactly 1 vCPU and 2 GB", async () => {
    // Prepare
    const definition = (await loadPodLibrary(bundledLibraryDir())).get("fargate");
    if (event.kind !== "scheduled") throw new Error("fixture");

    // Act
    const template = buildJob({ job: event.job, queue: "default", definition, settings }).spec
      .template;

    // Assess
    expect(definition).toMatchObject({ compute: "fargate", privilege: [], access: undefined });
    expect(template.metadata.labels["ondemand-eks.io/compute"]).toBe("fargate");
    expect(template.spec.containers.map((c) => c.image)).toEqual(["buildkite/agent:3"]);
    // Its requests plus Fargate's 256 MiB fill a Fargate size with nothing left over.
    expect(fargateSize({ cpu: 1, memory: 1792 * 2 ** 20 })).toEqual({
      cpu: 1,
      memory: 2 * 2 ** 30,
    });
    expect(definition.agent.resources).toEqual({ requests: { cpu: "1", memory: "1792Mi" } });
  });

  it("linux-pool inherits image and resources from default and adds its tag", async () => {
    const library = await loadPodLibrary(bundledLibraryDir());
    const pool = library.get("linux-pool");
    expect(pool.agent.image).toBe(library.get("default").agent.image);
    expect(pool.agent.resources).toEqual(library.get("default").agent.resources);
    expect(pool.agent.tags).toEqual({ pool: "linux" });
    expect(pool.longPolling).toEqual({ queue: "linux", replicas: 2, stopGraceSeconds: 3600 });
  });
});

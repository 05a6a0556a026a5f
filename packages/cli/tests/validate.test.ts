import { describe, expect, it } from "vitest";
import { cli, tempDir } from "./helpers.js";

describe("ondemand-eks validate", () => {
  it("passes the bundled library, and shows the privilege elastic-ci-stack needs and that nobody may use it yet", async () => {
    const { status, stdout, stderr } = await cli(["validate"]);
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    expect(stdout).toMatch(
      /: 5 pod definitions, no problems \(default, elastic-ci-stack, fargate, linux-pool, node-postgres\)\n/,
    );
    expect(stdout.split("\n").slice(1)).toEqual([
      "elastic-ci-stack: needs privilege: privileged at services[0].securityContext.privileged, service-account at pod.serviceAccountName",
      "elastic-ci-stack: usable by jobs matching pipelines (none)",
      "",
    ]);
  });

  it("names each privileged feature a definition uses without acknowledging it, and where", async () => {
    // Prepare
    const library = tempDir({
      "default.yaml": "name: default\nagent: { image: buildkite/agent:3 }\n",
      "dind.yaml": [
        "name: dind",
        "agent: { image: buildkite/agent:3 }",
        "pod:",
        "  hostNetwork: true",
        "  volumes: [{ name: sock, hostPath: { path: /var/run/docker.sock } }]",
        "services:",
        "  - { name: dockerd, image: docker:27-dind, securityContext: { privileged: true } }",
        "",
      ].join("\n"),
    });

    // Act
    const { status, stderr } = await cli(["validate", "--library", library]);

    // Assess
    expect(status).toBe(1);
    expect(stderr).toBe(
      [
        'dind.yaml: services[0].securityContext.privileged: needs privilege "privileged" (a privileged container, with full access to the node): add it to privilege',
        'dind.yaml: pod.hostNetwork: needs privilege "host-network" (the node\'s network namespace): add it to privilege',
        'dind.yaml: pod.volumes[0].hostPath: needs privilege "host-path" (a path on the node\'s filesystem): add it to privilege',
        `ondemand-eks: 3 problems in ${library}`,
        "",
      ].join("\n"),
    );
  });

  it("shows who may use an acknowledged privileged definition", async () => {
    const library = tempDir({
      "default.yaml": "name: default\nagent: { image: buildkite/agent:3 }\n",
      "deployer.yaml": [
        "name: deployer",
        "agent: { image: buildkite/agent:3 }",
        "pod: { serviceAccountName: deployer }",
        "privilege: [service-account]",
        'access: { pipelines: ["acme/deploy-*"], branches: [main] }',
        "",
      ].join("\n"),
    });
    const { status, stdout } = await cli(["validate", "--library", library]);
    expect(status).toBe(0);
    expect(stdout.split("\n").slice(1)).toEqual([
      "deployer: needs privilege: service-account at pod.serviceAccountName",
      "deployer: usable by jobs matching pipelines acme/deploy-*; branches main",
      "",
    ]);
  });

  it("lists every problem, one per line, and exits 1", async () => {
    // Prepare
    const library = tempDir({
      "default.yaml": "name: default\nagent: { image: buildkite/agent:3 }\n",
      "a.yaml": "name: a\nextends: nowhere\n",
      "b.yaml":
        "name: b\nagent: { image: x, env: [{ name: BUILDKITE_AGENT_TOKEN, value: hunter2 }] }\n",
    });

    // Act
    const { status, stdout, stderr } = await cli(["validate", "--library", library]);

    // Assess
    expect(status).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      [
        'a.yaml: extends: no pod definition named "nowhere" in this library',
        "b.yaml: agent.env[0]: BUILDKITE_AGENT_TOKEN is set by the scheduler; remove it",
        `ondemand-eks: 2 problems in ${library}`,
        "",
      ].join("\n"),
    );
    expect(stderr).not.toContain("hunter2");
  });

  it("requires the default pod definition", async () => {
    const library = tempDir({ "small.yaml": "name: small\nagent: { image: buildkite/agent:3 }\n" });
    const { status, stderr } = await cli(["validate", "--library", library]);
    expect(status).toBe(1);
    expect(stderr).toContain(`${library}: the default pod definition "default" is missing`);
    expect((await cli(["validate", "--library", library, "--default-pod", "small"])).status).toBe(
      0,
    );
  });

  it("reports definitions and problems as one JSON object with --output json", async () => {
    // Act
    const good = await cli(["validate", "--output", "json"]);

    // Assess
    expect({ status: good.status, stderr: good.stderr }).toEqual({ status: 0, stderr: "" });
    const report = JSON.parse(good.stdout);
    expect(report).toMatchObject({ valid: true, problems: [] });
    expect(report.library).toMatch(/pods$/);
    expect(report).not.toHaveProperty("server");
    expect(report.definitions.map((definition: { name: string }) => definition.name)).toEqual([
      "default",
      "elastic-ci-stack",
      "fargate",
      "linux-pool",
      "node-postgres",
    ]);
    expect(report.definitions).toContainEqual({
      name: "elastic-ci-stack",
      kind: "job",
      privilege: [
        { feature: "privileged", path: "services[0].securityContext.privileged" },
        { feature: "service-account", path: "pod.serviceAccountName" },
      ],
      access: { pipelines: [] },
    });
    expect(report.definitions).toContainEqual(
      expect.objectContaining({ name: "linux-pool", kind: "long-polling", access: null }),
    );
  });

  it("puts every problem in the JSON report, and one summary line on stderr", async () => {
    // Prepare
    const library = tempDir({
      "default.yaml": "name: default\nagent: { image: buildkite/agent:3 }\n",
      "a.yaml": "name: a\nextends: nowhere\n",
    });

    // Act
    const { status, stdout, stderr } = await cli(["validate", "--library", library, "-o", "json"]);

    // Assess
    expect(status).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      library,
      valid: false,
      definitions: [],
      problems: [
        {
          file: "a.yaml",
          path: "extends",
          message: 'no pod definition named "nowhere" in this library',
        },
      ],
    });
    expect(stderr).toBe(`ondemand-eks: 1 problem in ${library}\n`);
  });

  it("documents the JSON report in --help", async () => {
    const { stdout } = await cli(["validate", "--help"]);
    expect(stdout).toContain("-o, --output <format>");
    expect(stdout).toContain("With --output json, stdout is one JSON object");
  });

  it("names a library directory that does not exist", async () => {
    const { status, stderr } = await cli(["validate", "--library", "/nonexistent/pods"]);
    expect(status).toBe(1);
    expect(stderr).toBe(
      "/nonexistent/pods: cannot read the pod library: no such directory\nondemand-eks: 1 problem in /nonexistent/pods\n",
    );
  });
});

describe("ondemand-eks render-deployment", () => {
  it("prints the Deployment of a long-polling definition", async () => {
    const { status, stdout } = await cli([
      "render-deployment",
      "linux-pool",
      "-o",
      "json",
      "--namespace",
      "ci",
    ]);
    expect(status).toBe(0);
    const deployment = JSON.parse(stdout);
    expect(deployment.kind).toBe("Deployment");
    expect(deployment.metadata).toMatchObject({
      name: "buildkite-agents-linux-pool",
      namespace: "ci",
    });
    expect(deployment.spec.replicas).toBe(2);
  });

  it("points the agents at ONDEMAND_EKS_AGENT_ENDPOINT", async () => {
    const { status, stdout } = await cli(["render-deployment", "linux-pool", "-o", "json"], {
      env: { ONDEMAND_EKS_AGENT_ENDPOINT: "https://agent-proxy.example.com/v3" },
    });
    expect(status).toBe(0);
    const env: { name: string }[] = JSON.parse(stdout).spec.template.spec.containers[0].env;
    expect(env.filter((e) => e.name === "BUILDKITE_AGENT_ENDPOINT")).toEqual([
      { name: "BUILDKITE_AGENT_ENDPOINT", value: "https://agent-proxy.example.com/v3" },
    ]);
  });

  it("refuses a one-shot definition with one line", async () => {
    const { status, stderr } = await cli(["render-deployment", "default"]);
    expect(status).toBe(1);
    expect(stderr).toBe(
      'ondemand-eks: error: mode: definition "default" is not long-polling: build a Job for it\n',
    );
  });
});

import { join } from "node:path";
import { EXIT } from "@ondemand-eks/cli";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cli, SAMPLE_EVENT, sample, tempDir } from "./helpers.js";

const UUID = "0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70";

function eventFile(event: unknown): string {
  const dir = tempDir({ "event.json": typeof event === "string" ? event : JSON.stringify(event) });
  return join(dir, "event.json");
}

function withRules(rules: string[]): Record<string, unknown> {
  const event = sample();
  (event.detail as { job: { agent_query_rules: string[] } }).job.agent_query_rules = rules;
  return event;
}

describe("ondemand-eks render", () => {
  it("prints the Job for the sample event as YAML", async () => {
    // Act
    const { status, stdout, stderr } = await cli(["render", "--event", SAMPLE_EVENT]);

    // Assess
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    const job = parse(stdout);
    expect(job.kind).toBe("Job");
    expect(job.metadata.name).toBe(`buildkite-${UUID}`);
    expect(job.metadata.labels["ondemand-eks.io/pod-definition"]).toBe("node-postgres");
  });

  it("gives the Job's pod restrictive defaults: no API token, no service links, RuntimeDefault seccomp", async () => {
    const { stdout } = await cli(["render", "--event", SAMPLE_EVENT, "-o", "json"]);
    expect(JSON.parse(stdout).spec.template.spec).toMatchObject({
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
    });
  });

  it("quotes every string, so kubectl (YAML 1.1, Go numbers) reads none as a boolean or number", async () => {
    // Prepare: values that YAML 1.1 or Go's number syntax would take for something else.
    const event = sample();
    const detail = event.detail as {
      build: { branch: string; commit: string };
      pipeline: { slug: string };
      job: { label: string; step_key: string };
    };
    detail.build.branch = "on";
    detail.pipeline.slug = "yes";
    detail.job.label = "1_000";
    detail.job.step_key = "0o17";
    detail.build.commit = "0X1F";

    // Act
    const { stdout } = await cli(["render", "--event", eventFile(event)]);

    // Assess: each is written double-quoted, and reads back as the same string.
    for (const [key, value] of [
      ["branch", "on"],
      ["pipeline", "yes"],
      ["job-label", "1_000"],
      ["step-key", "0o17"],
      ["commit", "0X1F"],
    ]) {
      expect(stdout).toContain(`buildkite.com/${key}: "${value}"`);
    }
    expect(parse(stdout, { version: "1.1" }).metadata.annotations["buildkite.com/branch"]).toBe(
      "on",
    );
  });

  it("prints one JSON object with --output json, and reads standard input for -", async () => {
    const { status, stdout } = await cli(["render", "--event", "-", "--output", "json"], {
      stdin: JSON.stringify(sample()),
    });
    expect(status).toBe(0);
    expect(JSON.parse(stdout).metadata.name).toBe(`buildkite-${UUID}`);
  });

  it("says why an event is not for us, on stderr only, and succeeds", async () => {
    const result = await cli(["render", "--event", eventFile(withRules(["queue=deploy"]))]);
    expect(result).toEqual({
      status: 0,
      stdout: "",
      stderr: 'ondemand-eks: not for us: queue "deploy" is not served here (serving: default)\n',
    });
  });

  it.each([
    [
      withRules(["pod=gpu"]),
      'no pod definition named "gpu" (known: default, elastic-ci-stack, fargate, linux-pool, node-postgres)',
    ],
    [
      withRules(["pod=../../etc/passwd"]),
      'job.agent_query_rules[0]: expected a pod definition name (lower-case letters, digits and "-", at most 40 characters), got "../../etc/passwd"',
    ],
    [
      "{not json",
      "event FILE: not valid JSON (Expected property name or '}' in JSON at position 1)",
    ],
    [[1, 2, 3], "expected a JSON object, received array"],
  ])("fails with exit 1 and one line naming the problem: %j", async (event, message) => {
    // Prepare
    const file = eventFile(event);

    // Act
    const result = await cli(["render", "--event", file]);

    // Assess
    expect(result).toEqual({
      status: 1,
      stdout: "",
      stderr: `ondemand-eks: error: ${message.replace("FILE", file)}\n`,
    });
  });

  it("lists every problem of an event at once, one indented line each", async () => {
    // Prepare
    const file = eventFile({ "detail-type": "Job Scheduled", source: "x", detail: { job: {} } });

    // Act
    const result = await cli(["render", "--event", file]);

    // Assess
    expect(result).toEqual({
      status: 1,
      stdout: "",
      stderr: [
        "ondemand-eks: error: 3 problems:",
        "  detail.job.uuid: required: expected string",
        "  detail.build: required: expected object",
        "  detail.pipeline: required: expected object",
        "",
      ].join("\n"),
    });
  });

  it("refuses an event file over 1 MiB without loading it", async () => {
    const file = eventFile(`{"pad":"${"x".repeat(2 * 1024 * 1024)}"}`);
    expect(await cli(["render", "--event", file])).toEqual({
      status: 1,
      stdout: "",
      stderr: `ondemand-eks: error: event ${file}: cannot read it: input is larger than 1048576 bytes\n`,
    });
  });

  it("names a missing event file", async () => {
    const result = await cli(["render", "--event", "/nonexistent/event.json"]);
    expect(result.stderr).toBe(
      "ondemand-eks: error: event /nonexistent/event.json: cannot read it: no such file\n",
    );
    expect(result.status).toBe(1);
  });

  it("points at validate when the library is broken", async () => {
    const library = tempDir({ "default.yaml": "name: default\n", "x.yaml": "name: y\n" });
    const result = await cli(["render", "--event", SAMPLE_EVENT, "--library", library]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      'ondemand-eks: error: pod library: default.yaml: agent.image: required: the agent container\'s image (set here or in the definition this extends) (and 1 more; run "ondemand-eks validate")\n',
    );
  });

  it("exits 2 with one line on a usage error", async () => {
    const result = await cli(["render", "--event", SAMPLE_EVENT, "--bogus"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("ondemand-eks: error: unknown option '--bogus'\n");
    expect((await cli(["render"])).stderr).toBe(
      "ondemand-eks: error: required option '--event <file>' not specified\n",
    );
    expect((await cli(["render", "--event", SAMPLE_EVENT, "-o", "xml"])).status).toBe(2);
  });
});

describe("settings: flags over environment over config file over defaults", () => {
  async function namespaceOf(argv: string[], env: Record<string, string> = {}): Promise<string> {
    const { stdout, stderr } = await cli(
      ["render", "--event", SAMPLE_EVENT, "-o", "json", ...argv],
      { env },
    );
    expect(stderr).toBe("");
    return JSON.parse(stdout).metadata.namespace;
  }

  it("applies each source in order of precedence", async () => {
    const config = join(tempDir({ "c.yaml": "namespace: from-config\n" }), "c.yaml");
    expect(await namespaceOf([])).toBe("buildkite");
    expect(await namespaceOf(["--config", config])).toBe("from-config");
    expect(await namespaceOf([], { ONDEMAND_EKS_CONFIG: config })).toBe("from-config");
    expect(await namespaceOf(["--config", config], { ONDEMAND_EKS_NAMESPACE: "from-env" })).toBe(
      "from-env",
    );
    expect(
      await namespaceOf(["--namespace", "from-flag"], { ONDEMAND_EKS_NAMESPACE: "from-env" }),
    ).toBe("from-flag");
  });

  it("takes every setting from the config file", async () => {
    const config = join(
      tempDir({
        "c.yaml": [
          "namespace: ci",
          "privilegedNamespace: ci-privileged",
          "agentTokenSecret: { name: agent-token, key: value }",
          "ttlSecondsAfterFinished: 30",
          "activeDeadlineSeconds: 900",
          "queues: [deploy]",
          "defaultPodDefinition: elastic-ci-stack",
          "agentEndpoint: http://buildkite-emulator.ci:8080/v3",
        ].join("\n"),
      }),
      "c.yaml",
    );
    const { stdout } = await cli([
      "render",
      "--event",
      eventFile(withRules(["queue=deploy"])),
      "-o",
      "json",
      "--config",
      config,
    ]);
    const job = JSON.parse(stdout);
    // elastic-ci-stack uses privileged features: its Jobs go to the privileged namespace.
    expect(job.metadata.namespace).toBe("ci-privileged");
    expect(job.spec.ttlSecondsAfterFinished).toBe(30);
    expect(job.spec.activeDeadlineSeconds).toBe(900);
    expect(job.metadata.labels["ondemand-eks.io/pod-definition"]).toBe("elastic-ci-stack");
    expect(job.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef).toEqual({
      name: "agent-token",
      key: "value",
    });
    expect(job.spec.template.spec.containers[0].env[1]).toEqual({
      name: "BUILDKITE_AGENT_ENDPOINT",
      value: "http://buildkite-emulator.ci:8080/v3",
    });
  });

  it("points the agent at --agent-endpoint, and sets no endpoint without it", async () => {
    const envNames = async (argv: string[]) => {
      const { stdout } = await cli(["render", "--event", SAMPLE_EVENT, "-o", "json", ...argv]);
      const env: { name: string; value?: string }[] =
        JSON.parse(stdout).spec.template.spec.containers[0].env;
      return env.filter((e) => e.name.startsWith("BUILDKITE_AGENT_"));
    };
    expect((await envNames([])).map((e) => e.name)).toEqual([
      "BUILDKITE_AGENT_TOKEN",
      "BUILDKITE_AGENT_ACQUIRE_JOB",
      "BUILDKITE_AGENT_REFLECT_EXIT_STATUS",
      "BUILDKITE_AGENT_TAGS",
    ]);
    expect(await envNames(["--agent-endpoint", "http://127.0.0.1:4321/v3"])).toContainEqual({
      name: "BUILDKITE_AGENT_ENDPOINT",
      value: "http://127.0.0.1:4321/v3",
    });
  });

  it("serves the queues given by repeated --queue or a comma list", async () => {
    const build = eventFile(withRules(["queue=build"]));
    expect(
      (await cli(["render", "--event", build, "--queue", "default", "--queue", "build"])).stdout,
    ).toContain('kind: "Job"');
    expect(
      (await cli(["render", "--event", build], { env: { ONDEMAND_EKS_QUEUES: "default, build" } }))
        .stdout,
    ).toContain('kind: "Job"');
  });

  it.each([
    [
      ["--ttl-seconds-after-finished", "soon"],
      {},
      '--ttl-seconds-after-finished: expected a whole number of seconds from 0 to 2147483647, received "soon"',
      EXIT.usage,
    ],
    [
      [],
      { ONDEMAND_EKS_ACTIVE_DEADLINE_SECONDS: "-5" },
      'ONDEMAND_EKS_ACTIVE_DEADLINE_SECONDS: expected a whole number of seconds from 1 to 2147483647, received "-5"',
      EXIT.invalid,
    ],
    [
      ["--namespace", "Bad Namespace"],
      {},
      "--namespace: expected a Kubernetes namespace name (RFC 1123 label)",
      EXIT.invalid,
    ],
    [
      [],
      { ONDEMAND_EKS_QUEUES: "default, a=b" },
      "ONDEMAND_EKS_QUEUES: expected a queue name without spaces, commas or =",
      EXIT.invalid,
    ],
    [
      ["--agent-endpoint", "agent.buildkite.com/v3"],
      {},
      "--agent-endpoint: expected an absolute http:// or https:// URL without credentials, like https://agent.buildkite.com/v3",
      EXIT.invalid,
    ],
    [
      ["--library-ttl", "tomorrow"],
      {},
      '--library-ttl: expected a whole number of seconds from 0 to 86400, received "tomorrow"',
      EXIT.usage,
    ],
    [
      [],
      { ONDEMAND_EKS_LIBRARY: "s3://No_Such Bucket/pods/" },
      'ONDEMAND_EKS_LIBRARY: expected s3://bucket/prefix/ or a directory, received "s3://No_Such Bucket/pods/"',
      EXIT.invalid,
    ],
  ])("names the source of a bad setting: %j %j", async (argv, env, message, status) => {
    // A flag's value that does not parse is a usage error (2); any other bad setting, 1.
    const result = await cli(["render", "--event", SAMPLE_EVENT, ...argv], { env });
    expect(result).toEqual({ status, stdout: "", stderr: `ondemand-eks: error: ${message}\n` });
  });

  it("names a bad config file", async () => {
    const dir = tempDir({
      "bad.yaml": "namespace: [",
      "list.yaml": "- a\n",
      "typo.yaml": "namespce: x\n",
    });
    const run = async (name: string) =>
      (await cli(["render", "--event", SAMPLE_EVENT, "--config", join(dir, name)])).stderr;
    expect(await run("bad.yaml")).toMatch(
      /^ondemand-eks: error: config .*bad\.yaml: not valid YAML or JSON: /,
    );
    expect(await run("list.yaml")).toMatch(
      /config .*list\.yaml: expected a mapping of settings\n$/,
    );
    expect(await run("typo.yaml")).toBe(
      `ondemand-eks: error: config ${join(dir, "typo.yaml")}: namespce: not a setting a config file may hold\n`,
    );
    expect(await run("missing.yaml")).toMatch(
      /config .*missing\.yaml: cannot read it \(ENOENT\)\n$/,
    );
  });

  it("reports every problem at once, each starting with its source: flag, variable, config key", async () => {
    // Prepare: one bad value from each source, and a key no config file may hold.
    const dir = tempDir({ "ci.yaml": "ttlSecondsAfterFinished: soon\nwebhookToken: hunter2\n" });
    const config = join(dir, "ci.yaml");

    // Act
    const result = await cli(
      ["render", "--event", SAMPLE_EVENT, "--config", config, "--namespace", "Bad Namespace"],
      { env: { ONDEMAND_EKS_QUEUES: "default,a=b" } },
    );

    // Assess
    expect(result).toEqual({
      status: 1,
      stdout: "",
      stderr: [
        "ondemand-eks: error: 4 problems:",
        `  config ${config}: ttlSecondsAfterFinished: expected a whole number of seconds from 0 to 2147483647, received "soon"`,
        `  config ${config}: webhookToken: not a setting a config file may hold`,
        "  --namespace: expected a Kubernetes namespace name (RFC 1123 label)",
        "  ONDEMAND_EKS_QUEUES: expected a queue name without spaces, commas or =",
        "",
      ].join("\n"),
    });
    expect(result.stderr).not.toContain("hunter2");
  });

  it("documents every setting's default and variable in --help", async () => {
    const { status, stdout } = await cli(["render", "--help"]);
    expect(status).toBe(0);
    for (const text of [
      "default: buildkite; env ONDEMAND_EKS_NAMESPACE",
      "default: buildkite-agent-token; env ONDEMAND_EKS_AGENT_TOKEN_SECRET",
      "default: token; env ONDEMAND_EKS_AGENT_TOKEN_SECRET_KEY",
      "default: 600; env ONDEMAND_EKS_TTL_SECONDS_AFTER_FINISHED",
      "default: 21600; env ONDEMAND_EKS_ACTIVE_DEADLINE_SECONDS",
      "default: default; env ONDEMAND_EKS_QUEUES",
      "default: default; env ONDEMAND_EKS_DEFAULT_POD",
      "env ONDEMAND_EKS_CONFIG",
      "env ONDEMAND_EKS_LIBRARY",
    ]) {
      expect(stdout.replace(/\s+/g, " ")).toContain(text);
    }
  });
});

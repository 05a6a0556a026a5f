import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pathMap } from "../src/kubelet/filesystem.js";
import { describeImage, ELASTIC_CI_STACK_IMAGE_DIR } from "../src/kubelet/images.js";

const AGENT = "/host/buildkite-agent";

/** What the Dockerfile adds on top of its base: `ENV K=V` and `COPY [--flags] src dest`. */
async function dockerfileAdditions() {
  const text = await readFile(join(ELASTIC_CI_STACK_IMAGE_DIR, "Dockerfile"), "utf8");
  const lines = text.split("\n");
  const env: Record<string, string> = {};
  const copies: Record<string, string> = {};
  for (const line of lines.filter((l) => /^ENV\s/.test(l))) {
    const match = /^ENV ([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/.exec(line);
    // Another form (several pairs, `ENV K V`) would be read wrongly: refuse it here.
    if (!match) throw new Error(`an ENV line this test cannot read: ${line}`);
    env[match[1] as string] = match[2] as string;
  }
  for (const line of lines.filter((l) => /^COPY\s/.test(l))) {
    const match = /^COPY (?:--\S+ )*(\S+) (\S+)$/.exec(line);
    if (!match) throw new Error(`a COPY line this test cannot read: ${line}`);
    const [source, target] = [match[1] as string, match[2] as string].map((p) =>
      p.replace(/\/$/, ""),
    );
    copies[target as string] = join(ELASTIC_CI_STACK_IMAGE_DIR, source as string);
  }
  return { env, copies };
}

describe("the elastic-ci-stack image, as the test kubelet knows it", () => {
  const official = describeImage("buildkite/agent:3", AGENT);

  it("is the official agent image plus exactly the Dockerfile's ENV and COPY lines", async () => {
    // Prepare
    const { env, copies } = await dockerfileAdditions();

    // Act
    const image = describeImage("ondemand-eks-elastic-ci-stack:latest", AGENT);

    // Assess
    expect(Object.keys(env).length).toBeGreaterThan(0);
    expect(Object.keys(copies).length).toBeGreaterThan(0);
    expect(image.env).toEqual({ ...official.env, ...env });
    expect(image.files).toEqual({ ...official.files, ...copies });
    expect(image.entrypoint).toEqual(official.entrypoint);
    expect(image.cmd).toEqual(official.cmd);
    expect(image.dirs).toEqual(official.dirs);
    for (const dir of Object.values(copies)) expect(existsSync(dir), dir).toBe(true);
  });

  it("is known under any registry the user pushed it to, and only by its own name", () => {
    // Act
    const pushed = describeImage(
      "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ci/ondemand-eks-elastic-ci-stack:v7",
      AGENT,
    );
    const other = describeImage("acme/ondemand-eks-elastic-ci-stack-old:1", AGENT);

    // Assess
    expect(pushed).toEqual(describeImage("ondemand-eks-elastic-ci-stack", AGENT));
    expect(other).toEqual({});
  });

  it("gives the agent the hooks directory, and each hook in it, as the repository's files", () => {
    // Prepare
    const image = describeImage("ondemand-eks-elastic-ci-stack:latest", AGENT);
    const hooksPath = image.env?.BUILDKITE_HOOKS_PATH ?? "";
    const hooks = join(ELASTIC_CI_STACK_IMAGE_DIR, "hooks");

    // Act
    const map = pathMap(
      "/pods/p",
      { name: "agent", volumeMounts: [{ name: "builds", mountPath: "/var/buildkite/builds" }] },
      image,
    );

    // Assess
    expect(map(hooksPath)).toBe(hooks);
    expect(map(`${hooksPath}/environment`)).toBe(join(hooks, "environment"));
    expect(existsSync(map(`${hooksPath}/environment`))).toBe(true);
    expect(map("/usr/local/bin/buildkite-agent")).toBe(AGENT);
    expect(map("/var/buildkite/builds/x")).toBe("/pods/p/v/builds/x");
    expect(map("/buildkite/plugins")).toBe("/pods/p/c/agent/buildkite/plugins");
    expect(map("/etc/buildkite-agent/other")).toBe("/etc/buildkite-agent/other");
  });
});

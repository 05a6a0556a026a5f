import { readFile } from "node:fs/promises";
import { readToolVersions } from "@ondemand-eks/testenv";
import { describe, expect, it } from "vitest";

describe("readToolVersions", () => {
  it("reads the pinned versions from tools/k8s/go.mod", async () => {
    const goMod = await readFile(new URL("../../../tools/k8s/go.mod", import.meta.url), "utf8");
    const versions = await readToolVersions();
    expect(goMod).toContain(`k8s.io/kubernetes ${versions.kubernetes}`);
    expect(goMod).toContain(`go.etcd.io/etcd/server/v3 ${versions.etcd}`);
    // Every staging module is replaced by the release with the same minor and patch.
    const staging = versions.kubernetes.replace(/^v1\./, "v0.");
    const replaced = [...goMod.matchAll(/^\s*(k8s\.io\/\S+) => \S+ (v\S+)$/gm)];
    expect(replaced.length).toBeGreaterThan(30);
    for (const [, module, version] of replaced)
      expect(`${module} ${version}`).toBe(`${module} ${staging}`);
  });
});

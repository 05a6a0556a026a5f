import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderEvent, resolveSettings } from "@ondemand-eks/core";
import { bundledLibraryDir, loadPodLibrary } from "@ondemand-eks/pod-library";
import { jobScheduledEvent } from "@ondemand-eks/testenv";

/**
 * Pure manifest builds per second on this one thread: distinct events, parsed, routed
 * and rendered with the bundled library, for `durationMs`.
 */
export async function renderPerSecond(durationMs: number): Promise<number> {
  const library = await loadPodLibrary(bundledLibraryDir());
  const settings = resolveSettings({});
  const pods = ["default", "node-postgres", "elastic-ci-stack"];
  const events = Array.from({ length: 1_000 }, (_, i) =>
    jobScheduledEvent({
      uuid: randomUUID(),
      rules: ["queue=default", `pod=${pods[i % pods.length]}`],
    }),
  );
  const options = { settings, lookup: (name: string) => library.get(name) };
  // Warm up first: the figure is for code the JIT has compiled, as in a running adapter.
  for (let i = 0; i < 5_000; i++) renderEvent(events[i % events.length], options);
  let built = 0;
  const started = performance.now();
  const until = started + durationMs;
  while (performance.now() < until) {
    for (let i = 0; i < 100; i++) {
      const rendered = renderEvent(events[built % events.length], options);
      if (rendered.kind !== "job") throw new Error(rendered.reason);
      built++;
    }
  }
  return built / ((performance.now() - started) / 1000);
}

/**
 * Milliseconds to load a library of `count` definitions from disk: one base and the
 * rest extending it, each with its own image and resources, as a large fleet's might be.
 */
export async function libraryLoadMs(count: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "ondemand-eks-bench-library-"));
  try {
    await writeFile(
      join(dir, "base.yaml"),
      "name: base\nmode: one-shot\nagent:\n  image: buildkite/agent:3\n",
    );
    for (let i = 1; i < count; i++) {
      await writeFile(
        join(dir, `team-${i}.yaml`),
        [
          `name: team-${i}`,
          "extends: base",
          "agent:",
          `  image: registry.example.com/team-${i}/agent:3`,
          "  resources:",
          "    requests:",
          `      cpu: ${(i % 8) + 1}`,
          `      memory: ${(i % 4) + 1}Gi`,
          "",
        ].join("\n"),
      );
    }
    const started = performance.now();
    const library = await loadPodLibrary(dir);
    const elapsed = performance.now() - started;
    if (library.size !== count) throw new Error(`loaded ${library.size} of ${count}`);
    return elapsed;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

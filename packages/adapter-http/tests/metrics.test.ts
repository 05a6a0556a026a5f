import { startOpsServer, startWebhookServer } from "@ondemand-eks/adapter-http";
import { createMetrics } from "@ondemand-eks/runtime/metrics";
import runtimePackage from "@ondemand-eks/runtime/package.json" with { type: "json" };
import { afterEach, describe, expect, it } from "vitest";
import { capturedLog, TOKEN } from "./helpers.js";

// What a Prometheus scrape of /metrics finds, on a live server as `serve http` and
// `consume sqs` wire it: the process's metrics under their standard names, ours under
// `ondemand_eks_`, no gauge named like a counter, and a build_info.

const PREFIX = "ondemand_eks_";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** Each metric family's name and type, from the `# TYPE` lines of an exposition. */
function familiesOf(text: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    families.set(match[1] as string, match[2] as string);
  }
  return families;
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return response.text();
}

const notCalled = async (): Promise<never> => {
  throw new Error("no event is scheduled in these tests");
};

describe.each([
  {
    entry: "serve http (its ops listener)",
    start: async () => {
      const { log } = capturedLog();
      const server = await startWebhookServer({
        port: 0,
        ops: { port: 0 },
        token: TOKEN,
        log,
        metrics: createMetrics(),
        ready: async () => true,
        schedule: notCalled,
      });
      closers.push(() => server.close(1_000));
      return server.opsUrl ?? "";
    },
  },
  {
    entry: "consume sqs and the controller (an operations server)",
    start: async () => {
      const ops = await startOpsServer({
        port: 0,
        metrics: createMetrics(),
        ready: async () => true,
      });
      closers.push(() => ops.close());
      return ops.url;
    },
  },
])("/metrics of $entry", ({ entry, start }) => {
  it("keeps the process's standard names, without our prefix", async () => {
    // Act
    const families = familiesOf(await scrape(await start()));
    // Assess
    expect(families.get("process_cpu_seconds_total")).toBe("counter");
    expect(families.get("process_resident_memory_bytes")).toBe("gauge");
    expect(families.get("nodejs_heap_size_used_bytes")).toBe("gauge");
    expect(families.get("nodejs_eventloop_lag_seconds")).toBe("gauge");
    for (const name of families.keys()) {
      expect(name, entry).not.toMatch(/^ondemand_eks_(process|nodejs)_/);
      // Ours carry the prefix; the process's are process_* and nodejs_*.
      expect(name, entry).toMatch(/^(ondemand_eks_|process_|nodejs_)/);
    }
  });

  it("names no gauge like a counter (…_total)", async () => {
    // Act
    const families = familiesOf(await scrape(await start()));
    // Assess
    const gauges = [...families].filter(([, type]) => type === "gauge").map(([name]) => name);
    expect(gauges.length).toBeGreaterThan(5);
    expect(gauges.filter((name) => name.endsWith("_total"))).toEqual([]);
    // Counters do end in _total.
    for (const [name, type] of families) {
      if (type === "counter") expect(name).toMatch(/_total$/);
    }
  });

  it("exports build_info: 1, labelled with our version and Node's", async () => {
    // Act
    const text = await scrape(await start());
    // Assess
    expect(familiesOf(text).get(`${PREFIX}build_info`)).toBe("gauge");
    const line = text.split("\n").find((each) => each.startsWith(`${PREFIX}build_info{`));
    expect(line).toBe(
      `${PREFIX}build_info{version="${runtimePackage.version}",node_version="${process.version}"} 1`,
    );
  });
});

it("counts the webhook's own traffic with the prefix, gauges without _total", async () => {
  // Prepare: the webhook's port serving /metrics itself, with its traffic counts.
  const { log } = capturedLog();
  const server = await startWebhookServer({
    port: 0,
    token: TOKEN,
    log,
    metrics: createMetrics(),
    ready: async () => true,
    schedule: notCalled,
  });
  closers.push(() => server.close(1_000));
  // Act
  const families = familiesOf(await scrape(server.url));
  // Assess
  expect(families.get(`${PREFIX}http_refused_total`)).toBe("counter");
  expect(families.get(`${PREFIX}http_connections`)).toBe("gauge");
  expect(families.get(`${PREFIX}http_bodies_in_flight`)).toBe("gauge");
  expect(families.get(`${PREFIX}http_body_bytes_in_flight`)).toBe("gauge");
  expect(families.get(`${PREFIX}events_total`)).toBe("counter");
});

import { loadPodLibrary, mergeValues } from "@ondemand-eks/pod-library";
import { describe, expect, it } from "vitest";
import { libraryDir } from "./helpers.js";

describe("extends", () => {
  it("merges containers, env and volumes by name, other lists and values by replacement", async () => {
    // Prepare
    const base = `
name: base
agent:
  image: buildkite/agent:3
  args: [start, --debug]
  env:
    - { name: A, value: "1" }
    - { name: B, value: "2" }
  tags: { os: linux }
pod:
  nodeSelector: { disk: ssd }
  tolerations: [{ key: ci, operator: Exists }]
  volumes: [{ name: cache, emptyDir: {} }]
services:
  - name: postgres
    image: postgres:15
    env: [{ name: POSTGRES_HOST_AUTH_METHOD, value: trust }]
`;
    const child = `
name: child
extends: base
agent:
  args: [start]
  env:
    - { name: B, value: "two" }
    - { name: C, value: "3" }
  tags: { arch: arm64 }
pod:
  tolerations: [{ key: gpu, operator: Exists }]
  volumes: [{ name: scratch, emptyDir: {} }]
services:
  - name: postgres
    image: postgres:16
  - name: redis
    image: redis:7
`;

    // Act
    const library = await loadPodLibrary(libraryDir({ "base.yaml": base, "child.yaml": child }));
    const merged = library.get("child");

    // Assess
    expect(merged.agent.image).toBe("buildkite/agent:3");
    expect(merged.agent.args).toEqual(["start"]);
    expect(merged.agent.env).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "two" },
      { name: "C", value: "3" },
    ]);
    expect(merged.agent.tags).toEqual({ os: "linux", arch: "arm64" });
    expect(merged.pod.nodeSelector).toEqual({ disk: "ssd" });
    expect(merged.pod.tolerations).toEqual([{ key: "gpu", operator: "Exists" }]);
    expect(merged.pod.volumes).toEqual([
      { name: "cache", emptyDir: {} },
      { name: "scratch", emptyDir: {} },
    ]);
    expect(merged.services).toEqual([
      {
        name: "postgres",
        image: "postgres:16",
        env: [{ name: "POSTGRES_HOST_AUTH_METHOD", value: "trust" }],
      },
      { name: "redis", image: "redis:7" },
    ]);
    expect(library.get("base").services[0]?.image).toBe("postgres:15");
  });

  it("resolves chains in any file order, and a child switching mode drops inherited longPolling", async () => {
    const library = await loadPodLibrary(
      libraryDir({
        "a-leaf.yaml": "name: a-leaf\nextends: m-middle\nmode: one-shot\n",
        "m-middle.yaml":
          "name: m-middle\nextends: z-root\nmode: long-polling\nlongPolling: { queue: q }\n",
        "z-root.yaml": "name: z-root\nagent: { image: img }\n",
      }),
    );
    expect(library.get("a-leaf").mode).toBe("one-shot");
    expect(library.get("a-leaf").longPolling).toBeUndefined();
    expect(library.get("m-middle").longPolling).toEqual({
      queue: "q",
      replicas: 1,
      stopGraceSeconds: 3600,
    });
    expect(library.get("a-leaf").agent.image).toBe("img");
  });

  it("does not share objects between parent and child", () => {
    // Prepare
    const parent = {
      list: [{ name: "a", x: { deep: 1 } }],
      resources: { limits: { memory: "1Gi" } },
    };

    // Act
    const merged = mergeValues(parent, { other: true }) as typeof parent;
    for (const item of merged.list) item.x.deep = 2;
    merged.resources.limits.memory = "2Gi";

    // Assess
    expect(parent).toEqual({
      list: [{ name: "a", x: { deep: 1 } }],
      resources: { limits: { memory: "1Gi" } },
    });
  });

  it("lets a child swap value for valueFrom, and one probe handler for another", () => {
    const merged = mergeValues(
      {
        env: [{ name: "TOKEN", value: "placeholder" }],
        startupProbe: { exec: { command: ["true"] }, periodSeconds: 1 },
      },
      {
        env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }],
        startupProbe: { tcpSocket: { port: 5432 } },
      },
    );
    expect(merged).toEqual({
      env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }],
      startupProbe: { tcpSocket: { port: 5432 }, periodSeconds: 1 },
    });
  });

  it("treats value, exec, grpc... as ordinary keys outside env items and probes", () => {
    const merged = mergeValues(
      { agent: { tags: { grpc: "true", value: "1" } } },
      { agent: { tags: { exec: "fast" } } },
    );
    expect(merged).toEqual({ agent: { tags: { grpc: "true", value: "1", exec: "fast" } } });
  });

  it("replaces valueFrom whole: it holds exactly one source", () => {
    const merged = mergeValues(
      { env: [{ name: "DB", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] },
      { env: [{ name: "DB", valueFrom: { configMapKeyRef: { name: "c", key: "k" } } }] },
    );
    expect(merged).toEqual({
      env: [{ name: "DB", valueFrom: { configMapKeyRef: { name: "c", key: "k" } } }],
    });
  });

  it("removes what the parent set when the child sets it to null", () => {
    const merged = mergeValues(
      { pod: { activeDeadlineSeconds: 3600, nodeSelector: { a: "b" } } },
      { pod: { activeDeadlineSeconds: null } },
    );
    expect(merged).toEqual({ pod: { nodeSelector: { a: "b" } } });
  });

  it("replaces a volume of the same name whole: a volume has one source", () => {
    const merged = mergeValues(
      { volumes: [{ name: "cache", emptyDir: {} }] },
      { volumes: [{ name: "cache", hostPath: { path: "/var/cache" } }] },
    );
    expect(merged).toEqual({ volumes: [{ name: "cache", hostPath: { path: "/var/cache" } }] });
  });
});

describe("keys that objects inherit", () => {
  it("merges keys named like Object.prototype members as plain data (found by the idempotence property)", () => {
    const value = { toString: {}, constructor: { a: 1 }, hasOwnProperty: [1] };
    expect(mergeValues(value, value)).toEqual(value);
    expect(mergeValues({ toString: { a: 1 } }, { toString: { b: 2 } })).toEqual({
      toString: { a: 1, b: 2 },
    });
    expect(mergeValues({}, { constructor: { a: 1 } })).toEqual({ constructor: { a: 1 } });
    expect(mergeValues({}, { toString: [1] })).toEqual({ toString: [1] });
  });

  it("keeps a __proto__ key (as YAML and JSON parse it) as data, in parent and child alike", () => {
    // Prepare: an own "__proto__" key, not a prototype.
    const parent = JSON.parse('{"pod": {"__proto__": {"hostNetwork": true}}}');
    const child = JSON.parse('{"pod": {"__proto__": {"hostPID": true}, "a": 1}}');

    // Act
    const merged = mergeValues(parent, child) as { pod: Record<string, unknown> };

    // Assess
    expect(Object.getPrototypeOf(merged.pod)).toBe(Object.prototype);
    expect(merged.pod.hostNetwork).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(merged.pod, "__proto__")?.value).toEqual({
      hostNetwork: true,
      hostPID: true,
    });
  });
});

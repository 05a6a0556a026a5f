import { randomUUID } from "node:crypto";
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo, Server as NetServer, Socket } from "node:net";
import { createServer as createTcpServer } from "node:net";
import {
  ClusterApi,
  ClusterApiError,
  type ClusterAuth,
  kubeconfigAuth,
} from "@ondemand-eks/submitter";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  adminApis,
  adminSubmitter,
  describeWithCluster,
  kubeconfigPath,
} from "./helpers/cluster.js";

/** What a failing call rejected with (the test fails when it resolves). */
async function failureOf(call: Promise<unknown>): Promise<ClusterApiError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ClusterApiError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

interface Metadata {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface ConfigMap {
  metadata: Metadata;
  data?: Record<string, string>;
}
interface Job {
  metadata: Metadata;
  spec: { suspend?: boolean };
}
interface Lease {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: Metadata;
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
}

/** A Lease's MicroTime: RFC 3339 with exactly six fractional digits. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function suspendedJob(name: string): Job & Record<string, unknown> {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name },
    spec: {
      suspend: false,
      template: {
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "main", image: "busybox:1.36", command: ["true"] }],
        },
      },
    },
  } as Job & Record<string, unknown>;
}

describeWithCluster("ClusterApi against a real API server", () => {
  let admin: ClusterAuth;
  let api: ClusterApi;
  const namespaces: string[] = [];

  /** A namespace of the test's own. */
  async function namespace(): Promise<string> {
    const name = `cluster-api-${randomUUID().slice(0, 8)}`;
    await api.create("/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name },
    });
    namespaces.push(name);
    return name;
  }

  beforeAll(async () => {
    admin = await kubeconfigAuth({ path: kubeconfigPath() });
    api = new ClusterApi({ auth: admin });
  });
  afterAll(async () => {
    for (const name of namespaces) await api.delete(`/api/v1/namespaces/${name}`);
    api.close();
  });

  it("lists every item over several pages, honouring the label selector", async () => {
    // Prepare: 7 labelled ConfigMaps and 2 others; a client that counts its requests.
    const ns = await namespace();
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    for (let i = 0; i < 9; i++) {
      await api.create(path, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `item-${i}`, labels: { group: i < 7 ? "paged" : "other" } },
      });
    }
    let requests = 0;
    const counting = new ClusterApi({
      auth: {
        ...admin,
        headers: () => {
          requests += 1;
          return admin.headers();
        },
      },
    });

    // Act
    const listed = await counting.list<ConfigMap>(path, {
      labelSelector: "group=paged",
      pageSize: 3,
    });
    counting.close();

    // Assess
    expect(requests).toBe(3);
    expect(listed.items.map((item) => item.metadata.name).sort()).toEqual(
      Array.from({ length: 7 }, (_, i) => `item-${i}`),
    );
    expect(listed.resourceVersion).toMatch(/^\d+$/);
    const named = await api.list<ConfigMap>(path, { fieldSelector: "metadata.name=item-8" });
    expect(named.items.map((item) => item.metadata.name)).toEqual(["item-8"]);
  });

  it("reports a missing object as rejected, reason NotFound", async () => {
    const ns = await namespace();
    const error = await failureOf(api.get(`/api/v1/namespaces/${ns}/configmaps/absent`));
    expect(error).toMatchObject({ kind: "rejected", status: 404, reason: "NotFound" });
    expect(error.message).toContain(`GET /api/v1/namespaces/${ns}/configmaps/absent`);
    expect(error.message).toContain('configmaps "absent" not found');
  });

  it("creates once, then reports AlreadyExists", async () => {
    const ns = await namespace();
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    const body = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "once" } };
    const created = await api.create<ConfigMap>(path, body);
    expect(created.metadata.uid).toBeTruthy();
    const error = await failureOf(api.create(path, body));
    expect(error).toMatchObject({
      kind: "rejected",
      status: 409,
      reason: "AlreadyExists",
      attempts: 1,
    });
  });

  it("merge-patches a Job's spec.suspend and an annotation", async () => {
    // Prepare
    const ns = await namespace();
    const path = `/apis/batch/v1/namespaces/${ns}/jobs`;
    await api.create(path, suspendedJob("patched"));

    // Act
    const patched = await api.patch<Job>(`${path}/patched`, {
      metadata: { annotations: { "ondemand-eks.io/why": "suspended by a test" } },
      spec: { suspend: true },
    });

    // Assess
    expect(patched.spec.suspend).toBe(true);
    const read = await api.get<Job>(`${path}/patched`);
    expect(read.spec.suspend).toBe(true);
    expect(read.metadata.annotations?.["ondemand-eks.io/why"]).toBe("suspended by a test");
  });

  it("deletes, then reports not-found; a wrong uid precondition is a Conflict", async () => {
    const ns = await namespace();
    const path = `/apis/batch/v1/namespaces/${ns}/jobs`;
    await api.create(path, suspendedJob("kept"));
    const error = await failureOf(
      api.delete(`${path}/kept`, { preconditions: { uid: randomUUID() } }),
    );
    expect(error).toMatchObject({ kind: "rejected", status: 409, reason: "Conflict" });
    expect(await api.get<Job>(`${path}/kept`)).toMatchObject({ metadata: { name: "kept" } });

    const job = await api.create<Job>(path, suspendedJob("gone"));
    const uid = job.metadata.uid ?? "";
    expect(await api.delete(`${path}/gone`, { preconditions: { uid } })).toBe("deleted");
    // Background propagation: the Job itself is gone at once.
    expect(await api.delete(`${path}/gone`)).toBe("not-found");
  });

  it("creates, reads and renews a Lease, and a stale renewal is a Conflict", async () => {
    // Prepare
    const ns = await namespace();
    const path = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
    const lease: Lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "controller" },
      spec: { holderIdentity: "a", leaseDurationSeconds: 15, renewTime: microTime(new Date()) },
    };

    // Act
    await api.create<Lease>(path, lease);
    const held = await api.get<Lease>(`${path}/controller`);
    const renewed = await api.replace<Lease>(`${path}/controller`, {
      ...held,
      spec: { ...held.spec, renewTime: microTime(new Date(Date.now() + 1_000)) },
    });
    const stale = await failureOf(
      api.replace(`${path}/controller`, { ...held, spec: { ...held.spec, holderIdentity: "b" } }),
    );

    // Assess
    expect(held.spec.holderIdentity).toBe("a");
    expect(renewed.metadata.resourceVersion).not.toBe(held.metadata.resourceVersion);
    expect(stale).toMatchObject({ kind: "rejected", status: 409, reason: "Conflict" });
    const after = await api.get<Lease>(`${path}/controller`);
    expect(after.spec.holderIdentity).toBe("a");
  });

  it("server-side applies: creates, leaves an unchanged object alone, updates a changed field", async () => {
    // Prepare
    const ns = await namespace();
    const path = `/api/v1/namespaces/${ns}/configmaps/applied`;
    const body = (value: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "applied", labels: { owner: "ondemand-eks" } },
      data: { value },
    });

    // Act
    const created = await api.apply<ConfigMap>(path, body("one"));
    const again = await api.apply<ConfigMap>(path, body("one"));
    const changed = await api.apply<ConfigMap>(path, body("two"));

    // Assess: the same object throughout; a repeat writes nothing (same resourceVersion).
    expect(created.metadata.uid).toBeTruthy();
    expect(created.data).toEqual({ value: "one" });
    expect(again.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(changed.metadata.uid).toBe(created.metadata.uid);
    expect(changed.data).toEqual({ value: "two" });
    const stored = await api.get<ConfigMap & { metadata: { managedFields?: unknown[] } }>(path);
    expect(stored.data).toEqual({ value: "two" });
    expect(stored.metadata.managedFields).toContainEqual(
      expect.objectContaining({ manager: "ondemand-eks", operation: "Apply" }),
    );
  });

  it("fails Conflict applying a field another manager owns, unless forced", async () => {
    // Prepare: the field set by someone else's apply.
    const ns = await namespace();
    const path = `/api/v1/namespaces/${ns}/configmaps/contested`;
    const body = (value: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "contested" },
      data: { value },
    });
    const other = new ClusterApi({ auth: admin, fieldManager: "someone-else" });
    await other.apply(path, body("theirs"));
    other.close();

    // Act
    const refused = await failureOf(api.apply(path, body("ours")));
    const kept = await api.get<ConfigMap>(path);
    const forced = await api.apply<ConfigMap>(path, body("ours"), { force: true });

    // Assess
    expect(refused).toMatchObject({ kind: "rejected", status: 409, reason: "Conflict" });
    expect(kept.data).toEqual({ value: "theirs" });
    expect(forced.data).toEqual({ value: "ours" });
  });

  it("changes nothing on a dry run of apply, create, patch or delete", async () => {
    // Prepare
    const ns = await namespace();
    const collection = `/api/v1/namespaces/${ns}/configmaps`;
    const body = (name: string, value: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name },
      data: { value },
    });
    const kept = await api.create<ConfigMap>(collection, body("kept", "before"));
    const dryRun = { dryRun: true };

    // Act
    const applied = await api.apply<ConfigMap>(
      `${collection}/applied`,
      body("applied", "x"),
      dryRun,
    );
    const created = await api.create<ConfigMap>(collection, body("created", "x"), dryRun);
    const patched = await api.patch<ConfigMap>(
      `${collection}/kept`,
      { data: { value: "after" } },
      dryRun,
    );
    const reapplied = await api.apply<ConfigMap>(`${collection}/kept`, body("kept", "after"), {
      ...dryRun,
      force: true,
    });
    const deleted = await api.delete(`${collection}/kept`, dryRun);

    // Assess: each answered as if done; the namespace holds only the untouched object.
    expect(applied.data).toEqual({ value: "x" });
    expect(created.data).toEqual({ value: "x" });
    expect(patched.data).toEqual({ value: "after" });
    expect(reapplied.data).toEqual({ value: "after" });
    expect(deleted).toBe("deleted");
    const { items } = await api.list<ConfigMap>(collection);
    const ours = items.filter((item) => item.metadata.name !== "kube-root-ca.crt");
    expect(ours).toHaveLength(1);
    expect(ours[0]?.metadata.resourceVersion).toBe(kept.metadata.resourceVersion);
    expect(ours[0]?.data).toEqual({ value: "before" });
  });

  it("refreshes the auth once after a 401 and succeeds", async () => {
    // Prepare: a token auth (no client certificate) whose first token is refused.
    const token = await schedulerToken();
    let current = "not-a-valid-token";
    let refreshes = 0;
    const auth: ClusterAuth = {
      server: admin.server,
      tls: { ...(admin.tls.ca === undefined ? {} : { ca: admin.tls.ca }) },
      description: "a test token",
      headers: async () => ({ authorization: `Bearer ${current}` }),
      refresh: async () => {
        refreshes += 1;
        current = token;
        return true;
      },
    };
    const client = new ClusterApi({ auth });

    // Act
    const version = await client.get<{ gitVersion?: string }>("/version");
    client.close();

    // Assess
    expect(version.gitVersion).toMatch(/^v\d/);
    expect(refreshes).toBe(1);
  });

  it("reports refused credentials as unauthorized, without the token", async () => {
    const client = new ClusterApi({
      auth: {
        server: admin.server,
        tls: { ...(admin.tls.ca === undefined ? {} : { ca: admin.tls.ca }) },
        description: "a test token",
        headers: async () => ({ authorization: "Bearer not-a-valid-token" }),
        refresh: async () => false,
      },
    });
    const error = await failureOf(client.get("/version"));
    client.close();
    expect(error).toMatchObject({ kind: "unauthorized", status: 401, attempts: 1 });
    expect(error.message).toContain("a test token");
    expect(error.message).not.toContain("not-a-valid-token");
  });

  it("reports a call its RBAC forbids as rejected, reason Forbidden", async () => {
    const token = await schedulerToken();
    const client = new ClusterApi({
      auth: {
        server: admin.server,
        tls: { ...(admin.tls.ca === undefined ? {} : { ca: admin.tls.ca }) },
        description: "the scheduler's ServiceAccount",
        headers: async () => ({ authorization: `Bearer ${token}` }),
      },
    });
    const error = await failureOf(client.list("/api/v1/namespaces/buildkite/secrets"));
    client.close();
    expect(error).toMatchObject({ kind: "rejected", status: 403, reason: "Forbidden" });
    expect(error.message).toContain("ondemand-eks-scheduler");
    expect(error.message).not.toContain(token);
  });

  it("shares the Submitter's connections and credentials through submitter.api()", async () => {
    const submitter = await adminSubmitter();
    try {
      const ns = await namespace();
      const listed = await submitter.api().list(`/apis/batch/v1/namespaces/${ns}/jobs`);
      expect(listed.items).toEqual([]);
      expect(submitter.api()).toBe(submitter.api());
    } finally {
      submitter.close();
    }
  });
});

/** A token for the scheduler's ServiceAccount (its Role: create and get Jobs only). */
async function schedulerToken(): Promise<string> {
  const { core } = adminApis();
  const request = await core.createNamespacedServiceAccountToken({
    name: "ondemand-eks-scheduler",
    namespace: "ondemand-eks",
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = request.status?.token;
  if (!token) throw new Error("TokenRequest returned no token");
  return token;
}

describe("ClusterApi without a usable answer", () => {
  let silent: NetServer;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections and never says a word (not even the TLS handshake).
    silent = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("ends unavailable when the deadline cannot be met", async () => {
    const { port } = silent.address() as AddressInfo;
    const client = new ClusterApi({
      auth: {
        server: `https://127.0.0.1:${port}`,
        tls: {},
        description: "nobody",
        headers: async () => ({}),
      },
      attemptTimeoutMs: 300,
      random: () => 0,
    });
    const error = await failureOf(client.get("/version", { timeoutMs: 1_000 }));
    client.close();
    expect(error.kind).toBe("unavailable");
    expect(error.message).toMatch(/^GET \/version: no success within 1000 ms: request timed out/);
    expect(error.attempts).toBeGreaterThan(1);
  });

  it("ends unavailable when the caller cancels", async () => {
    const { port } = silent.address() as AddressInfo;
    const client = new ClusterApi({
      auth: {
        server: `https://127.0.0.1:${port}`,
        tls: {},
        description: "nobody",
        headers: async () => ({}),
      },
    });
    const controller = new AbortController();
    const call = failureOf(client.get("/version", { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    const error = await call;
    client.close();
    expect(error.kind).toBe("unavailable");
    expect(error.message).toContain("cancelled by the caller");
  });
});

/**
 * What the real API server cannot be made to answer on demand (503, an expired continue
 * token), from a plain HTTP server playing one: one scripted answer per request.
 */
describe("ClusterApi against a scripted server", () => {
  interface Scripted {
    status: number;
    body: unknown;
    headers?: Record<string, string>;
  }
  let server: Server;
  let script: Scripted[] = [];
  let requests: { method: string; url: string; contentType?: string; body: string }[] = [];

  function status(code: number, reason: string) {
    return { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message: reason };
  }
  function page(names: string[], token?: string) {
    return {
      kind: "ConfigMapList",
      metadata: { resourceVersion: "42", ...(token ? { continue: token } : {}) },
      items: names.map((name) => ({ metadata: { name } })),
    };
  }
  function client(): ClusterApi {
    const { port } = server.address() as AddressInfo;
    return new ClusterApi({
      auth: {
        server: `http://127.0.0.1:${port}`,
        tls: {},
        description: "a scripted server",
        headers: async () => ({}),
      },
      random: () => 0,
    });
  }

  beforeAll(async () => {
    server = createHttpServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        requests.push({
          method: request.method ?? "",
          url: request.url ?? "",
          ...(request.headers["content-type"]
            ? { contentType: request.headers["content-type"] }
            : {}),
          body: Buffer.concat(chunks).toString(),
        });
        const next = script.shift() ?? { status: 503, body: status(503, "ServiceUnavailable") };
        response.writeHead(next.status, { "content-type": "application/json", ...next.headers });
        response.end(JSON.stringify(next.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  afterEach(() => {
    script = [];
    requests = [];
  });

  it("retries 429 and 5xx, then returns the answer", async () => {
    script = [
      { status: 429, body: status(429, "TooManyRequests"), headers: { "retry-after": "0" } },
      { status: 500, body: status(500, "InternalError") },
      { status: 503, body: status(503, "ServiceUnavailable") },
      { status: 200, body: { metadata: { name: "x" } } },
    ];
    const api = client();
    expect(await api.get("/api/v1/namespaces/a/configmaps/x")).toEqual({ metadata: { name: "x" } });
    api.close();
    expect(requests).toHaveLength(4);
  });

  it("restarts a list once from the beginning when its continue token expired", async () => {
    script = [
      { status: 200, body: page(["a", "b"], "token-1") },
      { status: 410, body: status(410, "Expired") },
      { status: 200, body: page(["a", "b"], "token-2") },
      { status: 200, body: page(["c"]) },
    ];
    const api = client();
    const listed = await api.list<{ metadata: { name: string } }>("/api/v1/configmaps", {
      pageSize: 2,
      labelSelector: "x=y",
    });
    api.close();
    expect(listed).toEqual({
      items: [
        { metadata: { name: "a" } },
        { metadata: { name: "b" } },
        { metadata: { name: "c" } },
      ],
      resourceVersion: "42",
    });
    expect(requests.map((request) => request.url)).toEqual([
      "/api/v1/configmaps?limit=2&labelSelector=x%3Dy",
      "/api/v1/configmaps?limit=2&labelSelector=x%3Dy&continue=token-1",
      "/api/v1/configmaps?limit=2&labelSelector=x%3Dy",
      "/api/v1/configmaps?limit=2&labelSelector=x%3Dy&continue=token-2",
    ]);
  });

  it("gives up when the restarted list's token expires too", async () => {
    script = [
      { status: 200, body: page(["a"], "token-1") },
      { status: 410, body: status(410, "Expired") },
      { status: 200, body: page(["a"], "token-2") },
      { status: 410, body: status(410, "Expired") },
    ];
    const api = client();
    const error = await failureOf(api.list("/api/v1/configmaps", { pageSize: 1 }));
    api.close();
    expect(error).toMatchObject({ kind: "rejected", status: 410, reason: "Expired", attempts: 4 });
  });

  it("sends a merge patch, a replace and a delete with their content and options", async () => {
    script = [
      { status: 200, body: {} },
      { status: 200, body: {} },
      { status: 200, body: status(200, "") },
    ];
    const api = client();
    await api.patch("/apis/batch/v1/namespaces/a/jobs/j", { spec: { suspend: true } });
    await api.replace("/apis/batch/v1/namespaces/a/jobs/j", { metadata: { name: "j" } });
    const deleted = await api.delete("/apis/batch/v1/namespaces/a/jobs/j", {
      propagationPolicy: "Foreground",
      preconditions: { uid: "u-1" },
    });
    api.close();
    expect(deleted).toBe("deleted");
    expect(requests.map(({ method, url, contentType }) => [method, url, contentType])).toEqual([
      [
        "PATCH",
        "/apis/batch/v1/namespaces/a/jobs/j?fieldManager=ondemand-eks&fieldValidation=Strict",
        "application/merge-patch+json",
      ],
      [
        "PUT",
        "/apis/batch/v1/namespaces/a/jobs/j?fieldManager=ondemand-eks&fieldValidation=Strict",
        "application/json",
      ],
      ["DELETE", "/apis/batch/v1/namespaces/a/jobs/j", "application/json"],
    ]);
    expect(JSON.parse(requests[2]?.body ?? "")).toEqual({
      kind: "DeleteOptions",
      apiVersion: "v1",
      propagationPolicy: "Foreground",
      preconditions: { uid: "u-1" },
    });
  });

  it("sends an apply as an apply patch, with force and dry run when asked", async () => {
    script = [
      { status: 200, body: {} },
      { status: 200, body: {} },
      { status: 200, body: status(200, "") },
    ];
    const api = client();
    const path = "/apis/apps/v1/namespaces/a/deployments/d";
    const body = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" } };
    await api.apply(path, body);
    await api.apply(path, body, { force: true, dryRun: true });
    await api.delete(path, { dryRun: true });
    api.close();
    expect(requests.map(({ method, url, contentType }) => [method, url, contentType])).toEqual([
      [
        "PATCH",
        `${path}?fieldManager=ondemand-eks&fieldValidation=Strict`,
        "application/apply-patch+yaml",
      ],
      [
        "PATCH",
        `${path}?fieldManager=ondemand-eks&fieldValidation=Strict&dryRun=All&force=true`,
        "application/apply-patch+yaml",
      ],
      ["DELETE", path, "application/json"],
    ]);
    expect(JSON.parse(requests[0]?.body ?? "")).toEqual(body);
    expect(JSON.parse(requests[2]?.body ?? "")).toMatchObject({ dryRun: ["All"] });
  });

  it("reports a 2xx answer that is not JSON as unavailable", async () => {
    script = [{ status: 200, body: undefined }];
    const api = client();
    const error = await failureOf(api.get("/version"));
    api.close();
    expect(error.kind).toBe("unavailable");
    expect(error.message).toContain("is it a Kubernetes API server?");
  });
});

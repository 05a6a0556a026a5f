import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { LogFields, Logger } from "@ondemand-eks/core";
import { PodLibraryUnavailableError } from "@ondemand-eks/pod-library";
import { s3Library } from "@ondemand-eks/pod-library/s3";
import { skipUnlessCi, startMoto } from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";

// A moto of this file's own: without Python it is reported as skipped (an error under CI=true).
const aws = await skipUnlessCi(() => startMoto("s3-library"));
afterAll(() => aws.value?.stop());

const definition = (name: string, image = "buildkite/agent:3") =>
  `name: ${name}\nmode: one-shot\nagent:\n  image: ${image}\n`;

/** An S3 client that counts the requests of each command, to tell a reload from a re-read. */
function countingClient() {
  const calls: string[] = [];
  const client = new S3Client({
    region: "us-east-1",
    endpoint: aws.value?.endpoint ?? "http://127.0.0.1:1",
    forcePathStyle: true,
    credentials: { accessKeyId: "AKIDS3LIBRARY", secretAccessKey: "s3-library-test" },
  });
  client.middlewareStack.add(
    (next, context) => (args) => {
      calls.push(String(context.commandName));
      return next(args);
    },
    { step: "initialize" },
  );
  return { client, calls };
}

/** A logger writing to a list: each line as an object, its level and message with its fields. */
function recordingLogger(): { log: Logger; logged: Record<string, unknown>[] } {
  const logged: Record<string, unknown>[] = [];
  const at =
    (level: string, bound: LogFields = {}) =>
    (msg: string, fields: LogFields = {}) =>
      logged.push({ level, msg, ...bound, ...fields });
  const make = (bound: LogFields): Logger => ({
    debug: at("debug", bound),
    info: at("info", bound),
    warn: at("warn", bound),
    error: at("error", bound),
    child: (fields) => make({ ...bound, ...fields }),
  });
  return { log: make({}), logged };
}

let bucket = 0;
async function bucketWith(
  objects: Record<string, string>,
): Promise<{ s3: S3Client; name: string }> {
  const { client: s3 } = countingClient();
  const name = `pods-${process.pid}-${++bucket}`;
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  for (const [key, body] of Object.entries(objects)) {
    await s3.send(new PutObjectCommand({ Bucket: name, Key: key, Body: body }));
  }
  return { s3, name };
}

describeWith(aws, "pod library from an S3 prefix (moto)", () => {
  let clock = 0;
  const now = () => clock;
  beforeAll(() => {
    clock = 1_000_000;
  });

  it("loads the definitions directly under the prefix, like a directory", async () => {
    const { name } = await bucketWith({
      "pods/default.yaml": definition("default"),
      "pods/big.yml":
        "name: big\nextends: default\nagent:\n  resources:\n    requests:\n      cpu: '2'\n",
      "pods/README.md": "not a definition",
      "pods/old/default.yaml": definition("default", "buildkite/agent:2"),
      "other/x.yaml": definition("x"),
    });
    const { client } = countingClient();
    const source = await s3Library({ client, bucket: name, prefix: "pods/", ttlMs: 60_000, now });
    const library = await source.get();
    expect(library.names()).toEqual(["big", "default"]);
    expect(library.get("big").agent.image).toBe("buildkite/agent:3");
  });

  it("within the TTL makes no call; after it, one listing, and no reads when nothing changed", async () => {
    const { name } = await bucketWith({ "p/default.yaml": definition("default") });
    const { client, calls } = countingClient();
    const source = await s3Library({ client, bucket: name, prefix: "p/", ttlMs: 60_000, now });
    calls.length = 0;
    await source.get();
    clock += 59_999;
    await source.get();
    expect(calls).toEqual([]);
    clock += 1;
    await Promise.all([source.get(), source.get(), source.get()]);
    expect(calls).toEqual(["ListObjectsV2Command"]);
  });

  it("picks up a changed, added or removed definition after the TTL", async () => {
    const { s3, name } = await bucketWith({ "p/default.yaml": definition("default") });
    const { client } = countingClient();
    const source = await s3Library({ client, bucket: name, prefix: "p/", ttlMs: 1_000, now });
    await s3.send(
      new PutObjectCommand({
        Bucket: name,
        Key: "p/default.yaml",
        Body: definition("default", "buildkite/agent:3.90"),
      }),
    );
    await s3.send(
      new PutObjectCommand({ Bucket: name, Key: "p/extra.yaml", Body: definition("extra") }),
    );
    expect((await source.get()).get("default").agent.image).toBe("buildkite/agent:3");
    clock += 1_000;
    const reloaded = await source.get();
    expect(reloaded.get("default").agent.image).toBe("buildkite/agent:3.90");
    expect(reloaded.names()).toEqual(["default", "extra"]);
    await s3.send(new DeleteObjectCommand({ Bucket: name, Key: "p/extra.yaml" }));
    clock += 1_000;
    expect((await source.get()).names()).toEqual(["default"]);
  });

  it("keeps the previous library, and says so, when a broken definition is pushed", async () => {
    const { s3, name } = await bucketWith({ "p/default.yaml": definition("default") });
    const { client } = countingClient();
    const { log, logged } = recordingLogger();
    const source = await s3Library({
      client,
      bucket: name,
      prefix: "p/",
      ttlMs: 1_000,
      now,
      log,
    });
    await s3.send(
      new PutObjectCommand({
        Bucket: name,
        Key: "p/default.yaml",
        Body: "name: default\nagent: [",
      }),
    );
    clock += 1_000;
    expect((await source.get()).get("default").agent.image).toBe("buildkite/agent:3");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: "warn",
      msg: "pod library reload failed; keeping the previous one",
      library: `s3://${name}/p/`,
    });
    expect(logged[0]?.error).toContain("default.yaml");
    // Not asked again until another TTL has passed.
    await source.get();
    expect(logged).toHaveLength(1);
  });

  it("keeps the previous library when S3 cannot be reached", async () => {
    const { name } = await bucketWith({ "p/default.yaml": definition("default") });
    const { client } = countingClient();
    const { log, logged } = recordingLogger();
    const source = await s3Library({
      client,
      bucket: name,
      prefix: "p/",
      ttlMs: 1_000,
      now,
      log,
    });
    client.config.endpoint = async () => ({
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 1,
      path: "/",
    });
    clock += 1_000;
    expect((await source.get()).names()).toEqual(["default"]);
    expect(logged.map((entry) => entry.msg)).toEqual([
      "pod library reload failed; keeping the previous one",
    ]);
  });

  it("keeps the previous library when a reload misses its deadline (S3 accepts, never answers)", async () => {
    const { name } = await bucketWith({ "p/default.yaml": definition("default") });
    const { client } = countingClient();
    const { log, logged } = recordingLogger();
    const source = await s3Library({
      client,
      bucket: name,
      prefix: "p/",
      ttlMs: 1_000,
      reloadTimeoutMs: 300,
      now,
      log,
    });
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      client.config.endpoint = async () => ({
        protocol: "http:",
        hostname: "127.0.0.1",
        port,
        path: "/",
      });
      clock += 1_000;
      expect((await source.get()).names()).toEqual(["default"]);
      expect(logged).toHaveLength(1);
      expect(String(logged[0]?.error)).toMatch(/abort/i);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it("reads every page of a long listing", async () => {
    const names = ["a", "b", "c", "d", "e"];
    const { name } = await bucketWith(
      Object.fromEntries(names.map((n) => [`p/${n}.yaml`, definition(n)])),
    );
    const { client, calls } = countingClient();
    const source = await s3Library({
      client,
      bucket: name,
      prefix: "p/",
      ttlMs: 1_000,
      pageSize: 2,
      now,
    });
    expect((await source.get()).names()).toEqual(names);
    expect(calls.filter((c) => c === "ListObjectsV2Command")).toHaveLength(3);
  });

  it("refuses more definitions than its limit", async () => {
    const { name } = await bucketWith({
      "p/a.yaml": definition("a"),
      "p/b.yaml": definition("b"),
      "p/c.yaml": definition("c"),
    });
    const { client } = countingClient();
    await expect(
      s3Library({ client, bucket: name, prefix: "p/", ttlMs: 1_000, maxDefinitions: 2, now }),
    ).rejects.toThrow("more than 2 definition files");
  });

  it("with a TTL of 0, lists on every event", async () => {
    const { name } = await bucketWith({ "p/default.yaml": definition("default") });
    const { client, calls } = countingClient();
    const source = await s3Library({ client, bucket: name, prefix: "p/", ttlMs: 0, now });
    calls.length = 0;
    await source.get();
    await source.get();
    expect(calls).toEqual(["ListObjectsV2Command", "ListObjectsV2Command"]);
  });

  it("concurrent events after a change share one reload", async () => {
    const { s3, name } = await bucketWith({
      "p/default.yaml": definition("default"),
      "p/other.yaml": definition("other"),
    });
    const { client, calls } = countingClient();
    const source = await s3Library({ client, bucket: name, prefix: "p/", ttlMs: 1_000, now });
    await s3.send(
      new PutObjectCommand({ Bucket: name, Key: "p/other.yaml", Body: definition("other", "x:1") }),
    );
    calls.length = 0;
    clock += 1_000;
    const libraries = await Promise.all([source.get(), source.get(), source.get()]);
    expect(libraries.map((l) => l.get("other").agent.image)).toEqual(["x:1", "x:1", "x:1"]);
    expect(calls.sort()).toEqual(["GetObjectCommand", "GetObjectCommand", "ListObjectsV2Command"]);
  });

  it.each([
    [{}, "no *.yaml or *.yml definitions"],
    [
      { "p/default.yaml": "name: other\nagent:\n  image: x\n" },
      'default.yaml: name: expected "default"',
    ],
    [{ "p/a.yaml": definition("a"), "p/b.yaml": "name: b\nextends: nowhere\n" }, "b.yaml: extends"],
  ])("refuses to start on a bad library: %j", async (objects, message) => {
    const { name } = await bucketWith(objects);
    const { client } = countingClient();
    const started = s3Library({ client, bucket: name, prefix: "p/", ttlMs: 1_000, now });
    await expect(started).rejects.toBeInstanceOf(PodLibraryUnavailableError);
    await expect(started).rejects.toThrow(message);
  });

  it("names the bucket when it does not exist", async () => {
    const { client } = countingClient();
    const started = s3Library({
      client,
      bucket: "no-such-bucket-here",
      prefix: "",
      ttlMs: 1_000,
      now,
    });
    await expect(started).rejects.toBeInstanceOf(PodLibraryUnavailableError);
    await expect(started).rejects.toMatchObject({ code: "POD_LIBRARY_UNAVAILABLE" });
    await expect(started).rejects.toThrow(
      "s3://no-such-bucket-here/: cannot be read: NoSuchBucket",
    );
  });
});

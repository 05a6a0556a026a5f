import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type EmulatedLambda,
  type LambdaOptions,
  RieToolchainMissingError,
  skipUnlessCi,
  startLambda,
} from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, describe, expect, it } from "vitest";

// A handler module as a bundle would ship it: one file, several exports.
const HANDLER_MODULE = `
export const echo = async (event, context) => {
  console.log("echo handler called");
  return {
    ok: true,
    echo: event,
    greeting: process.env.GREETING,
    cwd: process.cwd(),
    functionName: context.functionName,
    requestId: context.awsRequestId,
    arn: context.invokedFunctionArn,
    remainingMs: context.getRemainingTimeInMillis(),
  };
};
export const fail = async () => {
  throw new RangeError("the queue is full");
};
`;

/** Processes whose command line names `dir` (the emulator, and the runtime it started). */
async function processesIn(dir: string): Promise<string[]> {
  const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  const lines = await Promise.all(
    pids.map((pid) => readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")),
  );
  return lines.filter((line) => line.includes(dir));
}

/** Starts another function from the same module, once the first has shown Go is there. */
const start = (name: string, handler: string) => startLambda(name, { handlerDir, handler });

const handlerDir = await mkdtemp(join(tmpdir(), "lambda-rie-test-"));
await writeFile(join(handlerDir, "index.mjs"), HANDLER_MODULE);
afterAll(() => rm(handlerDir, { recursive: true, force: true }));

// Started here, so that without Go the tests are reported as skipped (never under CI).
const echo = await skipUnlessCi(() =>
  startLambda("rie-echo", {
    handlerDir,
    handler: "index.echo",
    env: { GREETING: "hello from the test" },
  }),
);
afterAll(() => echo.value?.stop());

describeWith(echo, "a handler under the Lambda Runtime Interface Emulator", () => {
  const lambda = () => echo.value as EmulatedLambda;

  it("returns the handler's result, with Lambda's context and the function's env", async () => {
    expect(lambda().initDurationMs()).toBeUndefined();
    const { status, body } = await lambda().invoke({ hello: "world" });
    expect(status).toBe(200);
    expect(body).toEqual({
      ok: true,
      echo: { hello: "world" },
      greeting: "hello from the test",
      cwd: handlerDir,
      functionName: "rie-echo",
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      arn: "arn:aws:lambda:us-east-1:012345678912:function:rie-echo",
      remainingMs: expect.any(Number),
    });
    expect((body as { remainingMs: number }).remainingMs).toBeGreaterThan(200_000);
  });

  it("reports the cold start's init duration and keeps the function's output", () => {
    expect(lambda().initDurationMs()).toBeGreaterThan(0);
    expect(lambda().logs()).toContain("echo handler called");
    expect(lambda().logs()).toMatch(/REPORT RequestId: /);
  });

  it("takes invocations one at a time, as one Lambda instance does", async () => {
    const results = await Promise.all([1, 2, 3].map((n) => lambda().invoke({ n })));
    expect(results.map((r) => [r.status, (r.body as { echo: unknown }).echo])).toEqual([
      [200, { n: 1 }],
      [200, { n: 2 }],
      [200, { n: 3 }],
    ]);
  });

  it("returns a thrown error as Lambda does: its type and message", async () => {
    const failing = await start("rie-fail", "index.fail");
    try {
      const { status, body } = await failing.invoke({});
      expect(status).toBe(200);
      expect(body).toMatchObject({ errorType: "RangeError", errorMessage: "the queue is full" });
    } finally {
      await failing.stop();
    }
  });

  it("fails every invocation when the handler cannot be loaded", async () => {
    const missing = await start("rie-missing", "index.nope");
    try {
      const { status, body } = await missing.invoke({});
      expect(status).toBe(502);
      expect(body).toMatchObject({
        errorType: "Runtime.HandlerNotFound",
        errorMessage: "index.nope is undefined or not exported",
      });
    } finally {
      await missing.stop();
    }
  });

  it("keeps its logs after stopping, and stops its runtime", async () => {
    const short = await start("rie-stop", "index.echo");
    await short.invoke({});
    expect(await processesIn(short.dir)).toHaveLength(2);
    await short.stop();
    expect(await processesIn(short.dir)).toEqual([]);
    expect(short.logs()).toContain("echo handler called");
    await expect(fetch(short.invokeUrl, { method: "POST", body: "{}" })).rejects.toThrow();
  });
});

describe("a Lambda without Go, and nothing cached", () => {
  const noGo = async (extra: LambdaOptions["buildEnv"]) => {
    const cache = await mkdtemp(join(tmpdir(), "lambda-rie-cache-"));
    const env = { PATH: "/nonexistent", HOME: cache, ONDEMAND_EKS_CACHE_DIR: cache, ...extra };
    try {
      return await skipUnlessCi(
        () => startLambda("rie-no-go", { handlerDir, handler: "index.echo", buildEnv: env }),
        env,
      );
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  };

  it("is skipped, with the reason, outside CI", async () => {
    const result = await noGo({});
    expect(result.reason).toContain("no usable `go` was found (`go` is not on PATH)");
  });

  it("fails under CI=true, so Lambda tests can never be skipped there", async () => {
    await expect(noGo({ CI: "true" })).rejects.toThrow(RieToolchainMissingError);
  });
});

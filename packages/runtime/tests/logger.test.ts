import { createLogger, type LoggerOptions, silentLogger } from "@ondemand-eks/runtime";
import { describe, expect, it } from "vitest";

const TIME = new Date("2026-11-28T10:01:14.000Z");

/** A logger at `level` writing to a list, with a fixed clock: each line and its object. */
function recording(options: Omit<LoggerOptions, "write" | "now"> = {}) {
  const lines: string[] = [];
  const log = createLogger({ ...options, write: (line) => lines.push(line), now: () => TIME });
  const objects = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, lines, objects };
}

describe("createLogger", () => {
  it("writes one JSON object per line: time, level, msg first, then the fields", () => {
    // Prepare
    const { log, lines } = recording();
    // Act
    log.info("event", { outcome: "created", attempts: 1, dryRun: false, job: null });
    // Assess
    expect(lines).toEqual([
      '{"time":"2026-11-28T10:01:14.000Z","level":"info","msg":"event","outcome":"created","attempts":1,"dryRun":false,"job":null}',
    ]);
  });

  it.each([
    ["debug", ["debug", "info", "warn", "error"]],
    ["info", ["info", "warn", "error"]],
    ["warn", ["warn", "error"]],
    ["error", ["error"]],
  ] as const)("at level %s writes %j", (level, written) => {
    const { log, objects } = recording({ level });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(objects().map((line) => line.level)).toEqual(written);
  });

  it("defaults to info", () => {
    const { log, objects } = recording();
    log.debug("hidden");
    log.info("shown");
    expect(objects().map((line) => line.msg)).toEqual(["shown"]);
  });

  it("a child carries its fields on every line, and its own children add theirs", () => {
    const { log, objects } = recording({ base: { service: "webhook" } });
    const request = log.child({ requestId: "r-1" });
    const job = request.child({ job: "j-1" });
    job.info("event", { outcome: "exists" });
    request.warn("slow");
    log.info("plain");
    expect(objects()).toEqual([
      expect.objectContaining({
        service: "webhook",
        requestId: "r-1",
        job: "j-1",
        outcome: "exists",
      }),
      expect.objectContaining({ service: "webhook", requestId: "r-1", msg: "slow" }),
      expect.not.objectContaining({ requestId: expect.anything() }),
    ]);
    expect(objects()[2]).toMatchObject({ service: "webhook", msg: "plain" });
  });

  it("a line's fields win over a child's fields of the same name", () => {
    const { log, objects } = recording();
    log.child({ outcome: "from-child" }).info("event", { outcome: "from-line" });
    expect(objects()[0]?.outcome).toBe("from-line");
  });

  it("time, level and msg cannot be overwritten by fields, a child's or a base's", () => {
    const { log, objects } = recording({ base: { level: "base" } });
    log
      .child({ time: "child", msg: "child" })
      .warn("real", { level: "error", msg: "fake", time: 0 });
    expect(objects()).toEqual([{ time: TIME.toISOString(), level: "warn", msg: "real" }]);
  });

  it("redacts fields named like credentials, whatever they hold", () => {
    const { log, lines, objects } = recording();
    log.child({ authorization: "Bearer abc" }).info("event", {
      token: "t0k3n",
      webhookToken: "w3bh00k",
      clientSecret: "s3cr3t",
      password: "hunter2",
      Cookie: "c00kie",
      awsCredentials: { key: "x" },
      apiKey: "k3y",
      "x-api-key": "k3y2",
      job: "0190a3c2",
    });
    const line = objects()[0];
    for (const key of [
      "authorization",
      "token",
      "webhookToken",
      "clientSecret",
      "password",
      "Cookie",
      "awsCredentials",
      "apiKey",
      "x-api-key",
    ]) {
      expect(line?.[key]).toBe("[redacted]");
    }
    expect(line?.job).toBe("0190a3c2");
    for (const secret of ["Bearer abc", "t0k3n", "w3bh00k", "s3cr3t", "hunter2", "c00kie", "k3y"]) {
      expect(lines[0]).not.toContain(secret);
    }
  });

  it("writes an object, an array or a function as its type only, and an Error as its name and message", () => {
    const { log, objects } = recording();
    log.info("event", {
      body: { job: { command: "curl evil" } },
      manifest: [1, 2],
      callback: () => 1,
      big: 10n,
      error: new TypeError("socket closed"),
      notFinite: Number.POSITIVE_INFINITY,
      nan: Number.NaN,
      missing: undefined,
    });
    expect(objects()[0]).toEqual({
      time: TIME.toISOString(),
      level: "info",
      msg: "event",
      body: "[object]",
      manifest: "[object]",
      callback: "[function]",
      big: "[bigint]",
      error: "TypeError: socket closed",
      notFinite: "Infinity",
      nan: "NaN",
    });
  });

  it("cuts a long message or field short", () => {
    const { log, objects } = recording();
    log.info("m".repeat(5_000), { reason: "r".repeat(5_000) });
    const [line] = objects();
    expect(line?.msg).toBe(`${"m".repeat(1_024)}...`);
    expect(line?.reason).toBe(`${"r".repeat(1_024)}...`);
  });

  it("never throws: not when writing fails, nor when a field cannot be read", () => {
    const log = createLogger({
      write: () => {
        throw new Error("EPIPE");
      },
    });
    expect(() => log.error("event", { outcome: "failed" })).not.toThrow();
    const fine = recording();
    const hostile = {
      get reason(): string {
        throw new Error("getter");
      },
    };
    expect(() => fine.log.info("event", hostile)).not.toThrow();
    expect(() => fine.log.child(hostile).info("event")).not.toThrow();
    expect(fine.objects().map((line) => line.msg)).toEqual(["event"]);
    expect(() =>
      createLogger({
        now: () => {
          throw new Error("clock");
        },
        write: () => {},
      }).info("event"),
    ).not.toThrow();
  });

  it("writes to standard output by default, one line per call", () => {
    const written: string[] = [];
    const original = process.stdout.write;
    process.stdout.write = ((chunk: string) => {
      written.push(chunk);
      return true;
    }) as typeof process.stdout.write;
    try {
      createLogger().info("event", { outcome: "created" });
    } finally {
      process.stdout.write = original;
    }
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(
      /^\{"time":"[^"]+","level":"info","msg":"event","outcome":"created"\}\n$/,
    );
  });
});

describe("silentLogger", () => {
  it("writes nothing, and its children are silent too", () => {
    const original = process.stdout.write;
    let written = 0;
    process.stdout.write = (() => {
      written++;
      return true;
    }) as typeof process.stdout.write;
    try {
      silentLogger.error("event", { outcome: "failed" });
      silentLogger.child({ job: "j" }).info("event");
    } finally {
      process.stdout.write = original;
    }
    expect(written).toBe(0);
    expect(silentLogger.child({ job: "j" })).toBe(silentLogger);
  });
});

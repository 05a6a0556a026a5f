import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { networkInterfaces } from "node:os";
import {
  DEFAULT_HOST,
  IPV4_ANY,
  listen,
  startOpsServer,
  startWebhookServer,
  urlOf,
} from "@ondemand-eks/adapter-http";
import { afterEach, describe, expect, it } from "vitest";
import { capturedLog, TOKEN } from "./helpers.js";

// Every server listens on all addresses, IPv6 included, unless told otherwise: a probe
// from an IPv6-only cluster's kubelet reaches it as surely as one in IPv4.

/** Whether this machine has an IPv6 loopback (`ip -6 addr` shows ::1 on lo). */
const HAS_IPV6_LOOPBACK = Object.values(networkInterfaces()).some((addresses) =>
  (addresses ?? []).some((address) => address.family === "IPv6" && address.address === "::1"),
);
// Under CI the ::1 checks never skip: a runner without IPv6 loopback fails them, and says so.
const checkIpv6 = HAS_IPV6_LOOPBACK || process.env.CI === "true";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** GET `path` from `port` at `address` (an IP, bracketed for IPv6), its status. */
async function statusAt(address: string, port: number, path: string): Promise<number> {
  const response = await fetch(`http://${address}:${port}${path}`);
  await response.arrayBuffer();
  return response.status;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

const ready = async () => true;
/** No webhook is sent here: only the operations endpoints are asked. */
const notCalled = async (): Promise<never> => {
  throw new Error("no event is scheduled in these tests");
};

describe("the default address", () => {
  it("is every address, IPv6 and IPv4", () => {
    expect(DEFAULT_HOST).toBe("::");
  });

  it("serves the webhook's port, with its operations endpoints, on 127.0.0.1 and on ::1", async () => {
    // Prepare
    const { log } = capturedLog();
    const server = await startWebhookServer({
      port: 0,
      token: TOKEN,
      log,
      ready,
      schedule: notCalled,
    });
    closers.push(() => server.close(1_000));
    const port = portOf(server.url);
    // Act, Assess
    expect(server.server.address()).toMatchObject({ address: "::" });
    expect(await statusAt("127.0.0.1", port, "/healthz")).toBe(200);
    if (checkIpv6) expect(await statusAt("[::1]", port, "/healthz")).toBe(200);
  });

  it("serves a separate operations listener on 127.0.0.1 and on ::1", async () => {
    // Prepare
    const { log } = capturedLog();
    const server = await startWebhookServer({
      port: 0,
      ops: { port: 0 },
      token: TOKEN,
      log,
      ready,
      schedule: notCalled,
    });
    closers.push(() => server.close(1_000));
    const opsPort = portOf(server.opsUrl ?? "");
    // Act, Assess
    expect(await statusAt("127.0.0.1", opsPort, "/readyz")).toBe(200);
    if (checkIpv6) expect(await statusAt("[::1]", opsPort, "/readyz")).toBe(200);
    expect(await statusAt("127.0.0.1", portOf(server.url), "/healthz")).toBe(404);
    if (checkIpv6) expect(await statusAt("[::1]", portOf(server.url), "/healthz")).toBe(404);
  });

  it("serves the SQS consumer's and the controller's operations server on 127.0.0.1 and on ::1", async () => {
    // Prepare
    const ops = await startOpsServer({ port: 0, ready });
    closers.push(() => ops.close());
    const port = portOf(ops.url);
    // Act, Assess
    expect(ops.url).toBe(`http://127.0.0.1:${port}`);
    expect(await statusAt("127.0.0.1", port, "/healthz")).toBe(200);
    if (checkIpv6) expect(await statusAt("[::1]", port, "/healthz")).toBe(200);
  });

  it.runIf(checkIpv6)("keeps an address it is given: ::1 alone, not 127.0.0.1", async () => {
    // Prepare
    const ops = await startOpsServer({ port: 0, host: "::1", ready });
    closers.push(() => ops.close());
    const port = portOf(ops.url);
    // Act, Assess
    expect(ops.url).toBe(`http://[::1]:${port}`);
    expect(await statusAt("[::1]", port, "/healthz")).toBe(200);
    await expect(statusAt("127.0.0.1", port, "/healthz")).rejects.toThrow();
  });
});

/** A server on a machine without IPv6: listening on an IPv6 address fails as the kernel does. */
class NoIpv6Server {
  readonly server: Server = createServer((_request, response) => response.end("ok"));
  readonly hosts: string[] = [];

  constructor(readonly code: string) {
    const real = this.server.listen.bind(this.server);
    // Node's listen emits `error` asynchronously; so does this one.
    this.server.listen = ((port: number, host: string, callback: () => void) => {
      this.hosts.push(host);
      if (host.includes(":")) {
        const error = Object.assign(new Error(`listen ${code} ${host}`), { code });
        setImmediate(() => this.server.emit("error", error));
        return this.server;
      }
      return real(port, host, callback);
    }) as Server["listen"];
  }
}

describe("a machine without IPv6", () => {
  it.each(["EAFNOSUPPORT", "EADDRNOTAVAIL"])(
    "listens on every IPv4 address instead when :: fails with %s, and says so once",
    async (code) => {
      // Prepare
      const fake = new NoIpv6Server(code);
      const { log, lines } = capturedLog();
      closers.push(() => new Promise((resolve) => fake.server.close(() => resolve())));
      // Act
      await listen(fake.server, { port: 0, log });
      // Assess
      expect(fake.hosts).toEqual([DEFAULT_HOST, IPV4_ANY]);
      expect(fake.server.address()).toMatchObject({ address: IPV4_ANY });
      expect(await statusAt("127.0.0.1", portOf(urlOf(fake.server)), "/")).toBe(200);
      expect(lines).toEqual([
        expect.objectContaining({
          level: "warn",
          msg: expect.stringContaining("IPv4 addresses only"),
          error: code,
        }),
      ]);
    },
  );

  it("does not fall back from an address it was given", async () => {
    // Prepare
    const fake = new NoIpv6Server("EADDRNOTAVAIL");
    // Act, Assess
    await expect(listen(fake.server, { port: 0, host: "fd00::1" })).rejects.toMatchObject({
      code: "EADDRNOTAVAIL",
    });
    expect(fake.hosts).toEqual(["fd00::1"]);
  });
});

it("sees the IPv6 loopback this machine reports (ip -6 addr), so the ::1 checks above ran", () => {
  let shown = "";
  try {
    shown = execFileSync("ip", ["-6", "addr", "show", "dev", "lo"], { encoding: "utf8" });
  } catch {
    return; // No `ip` here: networkInterfaces() alone decides.
  }
  expect(HAS_IPV6_LOOPBACK).toBe(shown.includes("::1/128"));
});

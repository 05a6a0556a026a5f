import {
  DEFAULT_BODY_LIMIT,
  type HttpLimits,
  startWebhookServer,
  type WebhookServer,
} from "@ondemand-eks/adapter-http";
import type { ScheduleOutcome } from "@ondemand-eks/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  capturedLog,
  forgedSignature,
  head,
  post,
  type RawClient,
  rawClient,
  sign,
  TOKEN,
  until,
} from "./helpers.js";

// Issue 13: a hostile client must not cost memory, time or API calls. Each test sends
// what a hostile client would, on bare sockets, and checks what the server held.

const JOB = "0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70";
const BODY = JSON.stringify({ event: "job.scheduled", job: { id: JOB } });

let running: WebhookServer | undefined;
let clients: RawClient[] = [];
afterEach(async () => {
  for (const client of clients) client.socket.destroy();
  clients = [];
  await running?.close(1_000);
  running = undefined;
});

async function start(limits: HttpLimits & { requireSignature?: boolean } = {}, delayMs = 0) {
  const { log } = capturedLog();
  running = await startWebhookServer({
    port: 0,
    host: "127.0.0.1",
    token: TOKEN,
    ...limits,
    schedule: async (): Promise<ScheduleOutcome> => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return { outcome: "ignored", reason: "test", durationMs: 0 };
    },
    ready: async () => true,
    log,
  });
  return running;
}

async function client(url: string): Promise<RawClient> {
  const opened = await rawClient(url);
  clients.push(opened);
  return opened;
}

describe("authentication headers are judged before any body byte is read", () => {
  it.each([
    ["no credentials", {}],
    ["a malformed signature", { "x-buildkite-signature": "timestamp=1,signature=zz" }],
    [
      "a stale signature",
      { "x-buildkite-signature": sign(BODY, Math.floor(Date.now() / 1000) - 3600) },
    ],
    ["a wrong token", { "x-buildkite-token": "x".repeat(40) }],
  ])("answers %s 401 and closes, with the body unsent", async (_, auth) => {
    // Prepare
    const server = await start();
    const raw = await client(server.url);
    // Act: the headers promise a body that never comes.
    raw.socket.write(head({ "content-length": "400000", ...auth }));
    // Assess
    expect(await raw.status()).toBe(401);
    await raw.closed;
    expect(server.stats()).toMatchObject({ peakBodyBytesInFlight: 0, bodiesInFlight: 0 });
    expect(server.stats().refused.unauthorized).toBe(1);
  });

  it("answers a token where a signature is required 401, with the body unsent", async () => {
    const server = await start({ requireSignature: true });
    const raw = await client(server.url);
    raw.socket.write(head({ "content-length": "400000", "x-buildkite-token": TOKEN }));
    expect(await raw.status()).toBe(401);
  });

  it("does not invite the body of a request it refuses (Expect: 100-continue)", async () => {
    const server = await start();
    const raw = await client(server.url);
    raw.socket.write(head({ "content-length": "1000", expect: "100-continue" }));
    expect(await raw.status()).toBe(401);
    expect(raw.received()).not.toContain("100 Continue");
  });

  it("still checks a signature over the body, once read", async () => {
    const server = await start();
    const wrong = await post(server.url, BODY, { "x-buildkite-signature": forgedSignature() });
    expect(wrong.status).toBe(401);
    const right = await post(server.url, BODY, { "x-buildkite-signature": sign(BODY) });
    expect(right.status).toBe(200);
  });
});

describe("bounds on what is held at once", () => {
  it("answers 503 with Retry-After beyond the bodies in flight, with the body unread", async () => {
    // Prepare: two requests that pass the headers' check hold both slots, body half sent.
    const server = await start({ maxBodiesInFlight: 2, slowBodyMs: 60_000, idleBodyMs: 60_000 });
    for (let i = 0; i < 2; i++) {
      const holder = await client(server.url);
      holder.socket.write(
        head({ "content-length": "1000", "x-buildkite-signature": forgedSignature() }),
      );
      holder.socket.write("x".repeat(10));
    }
    await until(() => server.stats().bodyBytesInFlight === 20, 5_000, "both bodies begun");
    // Act
    const third = await client(server.url);
    third.socket.write(
      head({ "content-length": "1000", "x-buildkite-signature": forgedSignature() }),
    );
    // Assess
    expect(await third.status()).toBe(503);
    expect(third.received()).toMatch(/\r\nretry-after: 1\r\n/i);
    await third.closed;
    expect(server.stats()).toMatchObject({ bodiesInFlight: 2, bodyBytesInFlight: 20 });
    expect(server.stats().refused["bodies-in-flight"]).toBe(1);
  });

  it("gives a stalled body's slot to a real webhook once every slot is taken", async () => {
    // Prepare: forged signatures pass the headers' check; their bodies stall in both slots.
    const server = await start({ maxBodiesInFlight: 2, slowBodyMs: 60_000, idleBodyMs: 200 });
    const holders: RawClient[] = [];
    for (let i = 0; i < 2; i++) {
      const holder = await client(server.url);
      holder.socket.write(
        head({ "content-length": "1000", "x-buildkite-signature": forgedSignature() }),
      );
      holder.socket.write("x".repeat(10));
      holders.push(holder);
    }
    await until(() => server.stats().bodyBytesInFlight === 20, 5_000, "both bodies begun");
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Act: a real webhook takes the slot of the oldest stalled body; the next, that slot
    // again once the first is answered.
    const first = await post(server.url, BODY, { "x-buildkite-signature": sign(BODY) });
    const second = await post(server.url, BODY, { "x-buildkite-signature": sign(BODY) });

    // Assess
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(server.stats().refused).toMatchObject({ "slow-body": 1, "bodies-in-flight": 0 });
    await holders[0]?.closed;
    expect(server.stats().bodiesInFlight).toBe(1);
  });

  it("cuts off a body that trickles to stay awake, once it is older than slowBodyMs", async () => {
    // Prepare: one slot, held by a forged upload sending a byte every 50 ms
    const server = await start({ maxBodiesInFlight: 1, slowBodyMs: 300, idleBodyMs: 60_000 });
    const holder = await client(server.url);
    holder.socket.write(
      head({ "content-length": "1000", "x-buildkite-signature": forgedSignature() }),
    );
    const trickle = setInterval(() => holder.socket.write("x"), 50);
    try {
      await until(() => server.stats().bodyBytesInFlight > 0, 5_000, "the body begun");
      await new Promise((resolve) => setTimeout(resolve, 400));

      // Act
      const response = await post(server.url, BODY, { "x-buildkite-signature": sign(BODY) });

      // Assess
      expect(response.status).toBe(200);
      expect(server.stats().refused["slow-body"]).toBe(1);
      await holder.closed;
    } finally {
      clearInterval(trickle);
    }
  });

  it("keeps a body that is neither old nor silent for long: a new request is refused instead", async () => {
    const server = await start({ maxBodiesInFlight: 1, slowBodyMs: 60_000, idleBodyMs: 60_000 });
    const holder = await client(server.url);
    holder.socket.write(
      head({ "content-length": "1000", "x-buildkite-signature": forgedSignature() }),
    );
    holder.socket.write("x".repeat(10));
    await until(() => server.stats().bodyBytesInFlight === 10, 5_000, "the body begun");
    const refused = await post(server.url, BODY, { "x-buildkite-signature": sign(BODY) });
    expect(refused.status).toBe(503);
    expect(server.stats().refused["slow-body"]).toBe(0);
  });

  it("answers 503 to a connection beyond the bound, reading nothing of it", async () => {
    // Prepare
    const server = await start({ maxConnections: 3 });
    for (let i = 0; i < 3; i++) await client(server.url);
    await until(() => server.stats().connections === 3, 5_000, "three connections");
    // Act
    const fourth = await client(server.url);
    // Assess: answered before it sent anything.
    expect(await fourth.status()).toBe(503);
    expect(fourth.received()).toMatch(/\r\nRetry-After: 1\r\n/);
    await fourth.closed;
    expect(server.stats().refused.connections).toBe(1);
    // A slot freed is a slot taken again.
    clients[0]?.socket.destroy();
    await until(() => server.stats().connections === 2, 5_000, "a connection closed");
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("answers 413 to a chunked body over the limit, keeping no more than the limit", async () => {
    const server = await start({ bodyLimit: 4_096 });
    const raw = await client(server.url);
    raw.socket.write(
      head({ "transfer-encoding": "chunked", "x-buildkite-signature": forgedSignature() }),
    );
    const chunk = "y".repeat(1_024);
    for (let i = 0; i < 64; i++) raw.socket.write(`400\r\n${chunk}\r\n`);
    expect(await raw.status()).toBe(413);
    await raw.closed;
    expect(server.stats().peakBodyBytesInFlight).toBeLessThanOrEqual(4_096);
    expect(server.stats().refused["too-large"]).toBe(1);
  });

  it("holds at most limit x bodies in flight while 200 clients start ~1 MiB uploads and stall", async () => {
    // Prepare
    const maxBodiesInFlight = 8;
    // No eviction here: this measures what the bounds alone hold.
    const server = await start({ maxBodiesInFlight, slowBodyMs: 60_000, idleBodyMs: 60_000 });
    const before = process.memoryUsage().arrayBuffers;
    let peakArrayBuffers = before;
    const sample = setInterval(() => {
      peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers);
    }, 20);
    // One chunk for every write, so the clients themselves allocate next to nothing.
    const chunk = Buffer.alloc(16 * 1024, "z");
    const frame = Buffer.concat([Buffer.from("4000\r\n"), chunk, Buffer.from("\r\n")]);
    const stalled = DEFAULT_BODY_LIMIT - chunk.length;
    /** Writes `piece` until `total` bytes are written or the server stops reading. */
    const upload = (raw: RawClient, piece: Buffer, total: number) => {
      let sent = 0;
      const more = () => {
        while (sent < total && !raw.socket.destroyed) {
          sent += piece.length;
          if (!raw.socket.write(piece)) return;
        }
      };
      raw.socket.on("drain", more);
      more();
    };
    // Act: 100 without credentials, declaring 1 MiB and sending all but its last bytes;
    // 100 with a signature that passes the headers' check, chunked, stalling short of the limit.
    for (let i = 0; i < 100; i++) {
      const raw = await client(server.url);
      raw.socket.write(head({ "content-length": String(1024 * 1024) }));
      upload(raw, chunk, 1024 * 1024 - chunk.length);
      const signed = await client(server.url);
      signed.socket.write(
        head({ "transfer-encoding": "chunked", "x-buildkite-signature": forgedSignature() }),
      );
      upload(signed, frame, (stalled / chunk.length) * frame.length);
    }
    await until(
      () => {
        const { refused, bodyBytesInFlight } = server.stats();
        // The server counts a refusal as it answers; the client reads the answer a moment
        // later, so both are waited for.
        const answered = clients.filter((raw) => raw.received().length >= 12).length;
        return (
          refused.unauthorized + refused["bodies-in-flight"] === 200 - maxBodiesInFlight &&
          bodyBytesInFlight === maxBodiesInFlight * stalled &&
          answered === 200 - maxBodiesInFlight
        );
      },
      20_000,
      "every client answered or its body held",
    );
    const statuses = clients.map((raw) => Number(raw.received().slice(9, 12)));
    clearInterval(sample);
    // Assess: 8 bodies held, each short of the limit; the other 192 refused unread.
    const stats = server.stats();
    expect(stats.bodiesInFlight).toBe(maxBodiesInFlight);
    expect(stats.peakBodyBytesInFlight).toBeLessThanOrEqual(maxBodiesInFlight * DEFAULT_BODY_LIMIT);
    expect(statuses.filter((status) => status === 401)).toHaveLength(100);
    expect(statuses.filter((status) => status === 503)).toHaveLength(100 - maxBodiesInFlight);
    expect(stats.refused).toMatchObject({ unauthorized: 100, "bodies-in-flight": 92 });
    // And the process agrees: far less than the 200 MiB the uploads would have cost.
    expect(peakArrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });
});

describe("deadlines hold to within a second", () => {
  it("cuts off a client that sends its headers slowly at the header timeout", async () => {
    // Prepare
    const server = await start({ headersTimeoutMs: 2_000, requestTimeoutMs: 5_000 });
    const raw = await client(server.url);
    const started = Date.now();
    // Act: a header line every 200 ms, never the blank line that ends them.
    raw.socket.write("POST /webhook HTTP/1.1\r\nhost: localhost\r\n");
    const trickle = setInterval(() => raw.socket.write(`x-pad: ${Date.now()}\r\n`), 200);
    const closedAt = await raw.closed;
    clearInterval(trickle);
    // Assess
    expect(closedAt - started).toBeGreaterThanOrEqual(1_900);
    expect(closedAt - started).toBeLessThan(3_500);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(server.stats().refused.timeout).toBe(1);
  });

  it("cuts off slow headers of a second request on a kept-alive connection too", async () => {
    // Prepare: one whole request, answered, on a connection kept alive.
    const server = await start({ headersTimeoutMs: 2_000, requestTimeoutMs: 5_000 });
    const again = await client(server.url);
    const first = `${head({ "content-length": String(BODY.length), "x-buildkite-token": TOKEN })}${BODY}`;
    again.socket.write(first);
    await until(() => again.received().includes("\r\n\r\n"), 5_000, "the first answer");
    // Act: the next request's headers, a line every 200 ms.
    const started = Date.now();
    again.socket.write("POST /webhook HTTP/1.1\r\nhost: localhost\r\n");
    const trickle = setInterval(() => again.socket.write(`x-pad: ${Date.now()}\r\n`), 200);
    const closedAt = await again.closed;
    clearInterval(trickle);
    // Assess
    expect(closedAt - started).toBeGreaterThanOrEqual(1_900);
    expect(closedAt - started).toBeLessThan(3_500);
  });

  it("cuts off a client that connects and sends nothing at the header timeout", async () => {
    const server = await start({ headersTimeoutMs: 2_000, requestTimeoutMs: 5_000 });
    const started = Date.now();
    const raw = await client(server.url);
    const closedAt = await raw.closed;
    expect(closedAt - started).toBeGreaterThanOrEqual(1_900);
    expect(closedAt - started).toBeLessThan(3_500);
  });

  it("cuts off a client that sends its body slowly at the request timeout", async () => {
    // Prepare
    const server = await start({ headersTimeoutMs: 1_000, requestTimeoutMs: 2_000 });
    const raw = await client(server.url);
    const started = Date.now();
    // Act: headers that pass, then a byte of the body every 100 ms.
    raw.socket.write(
      head({ "content-length": "100000", "x-buildkite-signature": forgedSignature() }),
    );
    const trickle = setInterval(() => raw.socket.writable && raw.socket.write("x"), 100);
    const closedAt = await raw.closed;
    clearInterval(trickle);
    // Assess
    expect(closedAt - started).toBeGreaterThanOrEqual(1_900);
    expect(closedAt - started).toBeLessThan(3_500);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 /);
    await until(() => server.stats().bodiesInFlight === 0, 1_000, "the slot given back");
    expect(server.stats().bodyBytesInFlight).toBe(0);
  });

  it("does not cut off a request whose handling outlasts the request timeout", async () => {
    const server = await start({ headersTimeoutMs: 1_000, requestTimeoutMs: 1_000 }, 1_500);
    const response = await post(server.url, BODY, { "x-buildkite-token": TOKEN });
    expect(response.status).toBe(200);
  });
});

describe("limits and tokens checked at start", () => {
  it("refuses a webhook token too short to be secret", async () => {
    const { log } = capturedLog();
    const starting = startWebhookServer({
      port: 0,
      host: "127.0.0.1",
      token: "hunter2-hunter2",
      schedule: async () => ({ outcome: "ignored", reason: "", durationMs: 0 }),
      ready: async () => true,
      log,
    });
    await expect(starting).rejects.toThrow(
      /^the webhook token is 15 characters; at least 32 are needed to be secret/,
    );
  });

  it("refuses a header timeout longer than the request timeout", async () => {
    await expect(start({ headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 })).rejects.toThrow(
      RangeError,
    );
  });
});

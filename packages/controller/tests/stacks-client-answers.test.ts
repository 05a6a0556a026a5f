import { describe, expect, it } from "vitest";
import { StacksApiError, StacksClient } from "../src/index.js";

/**
 * The client against servers that misbehave in ways the emulator does not: paging that
 * never ends, answers that are not the Stacks API's, a Retry-After given as an HTTP date.
 */

const ENDPOINT = "https://agent.example.test/v3/";
const TOKEN = "fake-cluster-token-s3cr3t";

/** A JSON answer with `status` and optional headers. */
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

/** A client over `answer` (called per request), whose waits are recorded and take no time. */
function clientOver(answer: (url: URL, count: number) => Response, now = () => 0) {
  const urls: URL[] = [];
  const sleeps: number[] = [];
  const client = new StacksClient({
    endpoint: ENDPOINT,
    token: TOKEN,
    random: () => 0,
    now,
    sleep: async (ms) => void sleeps.push(ms),
    fetch: async (input) => {
      const url = new URL(String(input));
      urls.push(url);
      return answer(url, urls.length);
    },
  });
  return { client, urls, sleeps };
}

const page = (cursor: string, hasNext = true) => ({
  jobs: [{ id: `job-${cursor}`, priority: 0 }],
  cluster_queue: { id: "q", paused: false },
  page_info: { has_next_page: hasNext, end_cursor: cursor },
});

async function failure(promise: Promise<unknown>): Promise<StacksApiError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StacksApiError);
  return error as StacksApiError;
}

describe("StacksClient against a misbehaving server", () => {
  it("stops paging when a cursor comes back, with a clear error", async () => {
    // Prepare
    const { client, urls } = clientOver((_url, count) =>
      json(200, page(count < 3 ? `c${count}` : "c1")),
    );

    // Act
    const error = await failure(client.scheduledJobs("k", "linux", { pageSize: 10 }));

    // Assess
    expect(error).toMatchObject({ kind: "unavailable", call: "scheduledJobs" });
    expect(error.message).toMatch(/paging .* never ended \(page 3 repeated the end_cursor/);
    expect(urls.map((url) => url.searchParams.get("after"))).toEqual([null, "c1", "c2"]);
    expect(urls[0]?.pathname).toBe("/v3/stacks/k/scheduled-jobs");
    expect(urls[0]?.searchParams.get("limit")).toBe("10");
  });

  it("stops paging after 1000 pages", async () => {
    // Prepare
    const { client, urls } = clientOver((_url, count) => json(200, page(`c${count}`)));

    // Act
    const error = await failure(client.scheduledJobs("k", "linux"));

    // Assess
    expect(error.message).toMatch(/still had more after 1000 pages/);
    expect(urls).toHaveLength(1000);
  });

  it("says `unavailable` for an answer that is not the Stacks API's, naming the field", async () => {
    // Prepare
    const { client } = clientOver(() => json(200, { jobs: [{ priority: 1 }], page_info: {} }));
    const html = clientOver(() => new Response("<html>login</html>", { status: 200 }));

    // Act
    const shape = await failure(client.scheduledJobs("k", "linux"));
    const notJson = await failure(html.client.whoami());

    // Assess
    expect(shape).toMatchObject({ kind: "unavailable", status: 200 });
    expect(shape.message).toMatch(/not the Stacks API's \(jobs\.0\.id: /);
    expect(notJson.message).toMatch(/^whoami: .*not JSON.*check the endpoint/);
  });

  it("honours a Retry-After given as an HTTP date", async () => {
    // Prepare
    const now = Date.parse("2026-08-21T10:00:00.000Z");
    const later = new Date(now + 3_000).toUTCString();
    const { client, sleeps } = clientOver(
      (_url, count) =>
        count === 1
          ? json(429, { message: "slow down" }, { "retry-after": later })
          : json(200, { states: { a: "running" } }),
      () => now,
    );

    // Act
    const states = await client.states("k", ["a"]);

    // Assess
    expect(states).toEqual(new Map([["a", "running"]]));
    expect(sleeps).toEqual([3_000]);
  });

  it("reads a 204 without a body as success, and sends what stacksapi sends", async () => {
    // Prepare
    const bodies: unknown[] = [];
    const client = new StacksClient({
      endpoint: ENDPOINT,
      token: TOKEN,
      fetch: async (_input, init) => {
        bodies.push(JSON.parse(String(init?.body)));
        expect(new Headers(init?.headers).get("authorization")).toBe(`Token ${TOKEN}`);
        return new Response(null, { status: 204 });
      },
    });

    // Act
    const result = await client.finish("k", "job-1", { exitStatus: 1, detail: "no node" });
    await client.register({ key: "k", queueKey: "linux", metadata: { version: "1" } });

    // Assess
    expect(result).toBe("finished");
    expect(bodies).toEqual([
      { exit_status: 1, detail: "no node" },
      { key: "k", type: "custom", queue_key: "linux", metadata: { version: "1" } },
    ]);
  });

  it("keeps the token out of a refusal that echoes it", async () => {
    // Prepare
    const { client } = clientOver(() => json(400, { message: `bad token ${TOKEN} in request` }));

    // Act
    const error = await failure(client.deregister("k"));

    // Assess
    expect(error).toMatchObject({ kind: "rejected", status: 400, call: "deregister" });
    expect(error.message).toContain("[redacted]");
    expect(error.message).not.toContain(TOKEN);
  });
});

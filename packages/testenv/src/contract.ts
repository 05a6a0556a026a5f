import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startApiserver, stopApiserver } from "./control-plane.js";
import type { TestRun } from "./test-run.js";

/**
 * The contract every entry point keeps, run against each adapter with the same cases.
 * An adapter under test turns one event body into what its transport reports, read
 * back as the core's outcome names.
 */
export type Observed = "created" | "exists" | "ignored" | "invalid" | "failed";

export interface AdapterUnderTest {
  /** Delivers one event (the transport's own body) and reports the outcome it showed. */
  deliver(body: string): Promise<Observed>;
  stop(): Promise<void>;
}

export interface ContractSetup {
  /** The adapter, on a control plane of its own (the cases stop its API server). */
  start(run: TestRun, libraryWithBrokenDefinition: string): Promise<AdapterUnderTest>;
  /** An event body of this transport for a job. */
  body(job: { uuid: string; rules: string[] }): string;
  /** A body of this transport for another event type. */
  otherEventType(): string;
  run: () => TestRun;
  library: string;
}

export function adapterContract(setup: ContractSetup): void {
  let adapter: AdapterUnderTest;
  beforeAll(async () => {
    adapter = await setup.start(setup.run(), setup.library);
  });
  afterAll(() => adapter?.stop());

  const job = (rules = ["queue=default", "pod=default"]) => ({ uuid: randomUUID(), rules });

  it("valid event: created", async () => {
    expect(await adapter.deliver(setup.body(job()))).toBe("created");
  });

  it("duplicate: exists, and still one Job", async () => {
    const body = setup.body(job());
    expect(await adapter.deliver(body)).toBe("created");
    expect(await adapter.deliver(body)).toBe("exists");
  });

  it("other queue: ignored", async () => {
    expect(await adapter.deliver(setup.body(job(["queue=elsewhere"])))).toBe("ignored");
  });

  it("other event type: ignored", async () => {
    expect(await adapter.deliver(setup.otherEventType())).toBe("ignored");
  });

  it("malformed body: invalid", async () => {
    expect(await adapter.deliver("{not json")).toBe("invalid");
  });

  it("unknown pod definition: invalid", async () => {
    expect(await adapter.deliver(setup.body(job(["queue=default", "pod=gpu"])))).toBe("invalid");
  });

  it("API server rejecting the manifest: invalid", async () => {
    expect(await adapter.deliver(setup.body(job(["queue=default", "pod=broken"])))).toBe("invalid");
  });

  it("API server down, then back within the deadline: created", async () => {
    const state = setup.run().state;
    if (!state) throw new Error("no control plane");
    await stopApiserver(state, 0);
    const delivered = adapter.deliver(setup.body(job()));
    await startApiserver(state);
    expect(await delivered).toBe("created");
  });
}

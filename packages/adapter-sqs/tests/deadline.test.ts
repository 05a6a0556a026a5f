import { getEventListeners, setMaxListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { deadline } from "../src/deadline.js";

describe("deadline", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("aborts with a TimeoutError once its time is up", () => {
    // Prepare
    const call = deadline(1_000);
    // Act
    vi.advanceTimersByTime(999);
    const before = call.signal.aborted;
    vi.advanceTimersByTime(1);
    // Assess
    expect(before).toBe(false);
    expect(call.signal.aborted).toBe(true);
    expect((call.signal.reason as DOMException).name).toBe("TimeoutError");
  });

  it("aborts when its parent does, with the parent's reason", () => {
    const parent = new AbortController();
    const call = deadline(1_000, parent.signal);
    parent.abort(new Error("stopping"));
    expect(call.signal.reason).toEqual(new Error("stopping"));
  });

  it("is aborted at once under a parent already aborted", () => {
    const parent = new AbortController();
    parent.abort();
    expect(deadline(1_000, parent.signal).signal.aborted).toBe(true);
  });

  it("holds nothing once ended: no listener on a long-lived parent, no timer", () => {
    // Prepare: the consumer's pattern, one receive after another under one stopping signal.
    const stopping = new AbortController();
    setMaxListeners(2_000, stopping.signal);
    const calls = Array.from({ length: 1_000 }, () => deadline(30_000, stopping.signal));
    // Act
    for (const call of calls) call.end();
    // Assess
    expect(getEventListeners(stopping.signal, "abort")).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(calls.some((call) => call.signal.aborted)).toBe(false);
  });
});

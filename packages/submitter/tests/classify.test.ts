import { hasErrorCode } from "@ondemand-eks/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classify, isAlreadyExists } from "../src/classify.js";
import { ApiError } from "../src/errors.js";

const now = Date.parse("2026-11-28T10:00:00Z");
const reasons = fc.constantFrom("", "AlreadyExists", "Conflict", "Invalid", "Forbidden", "Timeout");

function apiError(status: number, reason: string, headers: Record<string, string> = {}) {
  return new ApiError(
    status,
    JSON.stringify({ kind: "Status", code: status, reason, message: "m" }),
    headers,
  );
}

describe("classify", () => {
  it("retries exactly 429 and 5xx; 401 has its own path; the rest is refused, 409 AlreadyExists told apart", () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), reasons, (status, reason) => {
        const failure = classify(apiError(status, reason), now);
        expect(isAlreadyExists(failure)).toBe(status === 409 && reason === "AlreadyExists");
        if (status === 401) expect(failure.kind).toBe("unauthorized");
        else if (status === 429 || status >= 500) expect(failure.kind).toBe("transient");
        else expect(failure).toMatchObject({ kind: "rejected", status, message: "m" });
      }),
    );
  });

  it("ApiError carries the HTTP status in status, and API_STATUS in code", () => {
    const error = apiError(503, "ServiceUnavailable");
    expect(error).toMatchObject({ name: "ApiError", code: "API_STATUS", status: 503 });
    expect(hasErrorCode(error, "API_STATUS")).toBe(true);
  });

  it("carries Retry-After of a 429 or 503 as milliseconds", () => {
    fc.assert(
      fc.property(fc.constantFrom(429, 503), fc.nat(3600), (code, seconds) => {
        expect(classify(apiError(code, "", { "retry-after": String(seconds) }), now)).toMatchObject(
          {
            kind: "transient",
            retryAfterMs: seconds * 1000,
          },
        );
      }),
    );
  });

  it("retries connection failures and timeouts, and nothing else from the network", () => {
    const system = (code: string) => Object.assign(new Error(`connect ${code}`), { code });
    for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE"]) {
      expect(classify(system(code), now).kind).toBe("transient");
    }
    const aborted = Object.assign(new Error("aborted"), { name: "AbortError" });
    expect(classify(aborted, now)).toEqual({
      kind: "transient",
      message: "request timed out",
      timedOut: true,
    });
    expect(classify(system("ETIMEDOUT"), now)).toMatchObject({ timedOut: false });
    for (const code of [
      "ENOTFOUND",
      "DEPTH_ZERO_SELF_SIGNED_CERT",
      "ERR_TLS_CERT_ALTNAME_INVALID",
    ]) {
      expect(classify(system(code), now).kind).toBe("fatal");
    }
    expect(classify("something odd", now).kind).toBe("fatal");
    // An auth that could not get credentials for now says so with retryable: true.
    const noCredentials = Object.assign(new Error("no AWS credentials"), { retryable: true });
    expect(classify(noCredentials, now)).toEqual({
      kind: "transient",
      message: "no AWS credentials",
      timedOut: false,
    });
    expect(classify(Object.assign(new Error("bad"), { retryable: false }), now).kind).toBe("fatal");
  });

  it("keeps the server's message and reason, whatever shape the body has", () => {
    expect(
      classify(new ApiError(422, JSON.stringify({ reason: "Invalid", message: "bad" }), {}), now),
    ).toMatchObject({ kind: "rejected", reason: "Invalid", message: "bad" });
    expect(classify(new ApiError(403, "plain text", {}), now)).toMatchObject({
      kind: "rejected",
      reason: "HTTP403",
      message: "plain text",
    });
    expect(classify(new ApiError(404, "", {}), now)).toMatchObject({
      message: "HTTP 404",
    });
  });
});

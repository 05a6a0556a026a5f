import type { EKSClient } from "@aws-sdk/client-eks";
import { hasErrorCode, isOndemandEksError } from "@ondemand-eks/core";
import {
  describeCluster,
  EksAuthError,
  eksAuth,
  execCredential,
  execCredentialApiVersion,
  TOKEN_PREFIX,
  TokenSource,
} from "@ondemand-eks/eks-auth";
import type { AwsCredentialIdentity } from "@smithy/types";
import { describe, expect, it } from "vitest";

const start = Date.parse("2026-11-28T10:00:00Z");
const minutes = (n: number) => n * 60_000;

function accessKeyOf(token: string): string {
  const url = new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), "base64url").toString());
  return (url.searchParams.get("X-Amz-Credential") ?? "").split("/")[0] ?? "";
}

/** A clock and a credentials provider the test moves by hand. */
function harness(initial: AwsCredentialIdentity = { accessKeyId: "AKID1", secretAccessKey: "s1" }) {
  let now = start;
  let credentials = initial;
  const calls: (boolean | undefined)[] = [];
  const source = new TokenSource({
    clusterName: "ci",
    region: "us-east-1",
    now: () => now,
    credentials: async (options) => {
      calls.push(options?.forceRefresh);
      return credentials;
    },
  });
  return {
    source,
    calls,
    advance: (ms: number) => {
      now += ms;
    },
    rotate: (next: AwsCredentialIdentity) => {
      credentials = next;
    },
  };
}

describe("TokenSource", () => {
  it("reuses a token until 14 minutes after signing, then signs a new one", async () => {
    const h = harness();
    const first = await h.source.get();
    h.advance(minutes(13) + 59_000);
    expect((await h.source.get()).token).toBe(first.token);
    h.advance(1_000);
    const second = await h.source.get();
    expect(second.token).not.toBe(first.token);
    expect(second.signedAt.getTime()).toBe(start + minutes(14));
    expect(h.calls).toHaveLength(2);
  });

  it("refreshes earlier when the credentials expire before the token would", async () => {
    const h = harness({
      accessKeyId: "ASIA1",
      secretAccessKey: "s",
      sessionToken: "t",
      expiration: new Date(start + minutes(5)),
    });
    const token = await h.source.get();
    expect(token.refreshAt.getTime()).toBe(start + minutes(4));
    h.advance(minutes(4));
    expect((await h.source.get()).token).not.toBe(token.token);
  });

  it("shares one signing among concurrent callers", async () => {
    const h = harness();
    const tokens = await Promise.all(Array.from({ length: 50 }, () => h.source.get()));
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    expect(h.calls).toHaveLength(1);
  });

  it("picks up rotated credentials at the next refresh, and a forced refresh asks for fresh ones", async () => {
    const h = harness();
    expect(accessKeyOf((await h.source.get()).token)).toBe("AKID1");
    h.rotate({ accessKeyId: "AKID2", secretAccessKey: "s2" });
    h.advance(minutes(14));
    expect(accessKeyOf((await h.source.get()).token)).toBe("AKID2");
    h.rotate({ accessKeyId: "AKID3", secretAccessKey: "s3" });
    expect(accessKeyOf((await h.source.refresh()).token)).toBe("AKID3");
    expect(h.calls.at(-1)).toBe(true);
  });

  it("reports missing credentials as an EksAuthError", async () => {
    const source = new TokenSource({
      clusterName: "ci",
      region: "us-east-1",
      credentials: async () => {
        throw new Error("Could not load credentials from any providers");
      },
    });
    await expect(source.get()).rejects.toMatchObject({
      code: "EKS_CREDENTIALS",
      message:
        "no AWS credentials to sign an EKS token with: Could not load credentials from any providers",
    });
  });
});

describe("execCredential", () => {
  it("is what kubectl expects from an exec plugin", async () => {
    const token = await harness().source.get();
    expect(JSON.parse(execCredential(token))).toEqual({
      kind: "ExecCredential",
      apiVersion: "client.authentication.k8s.io/v1beta1",
      spec: {},
      status: { expirationTimestamp: "2026-11-28T10:14:00Z", token: token.token },
    });
    expect(
      JSON.parse(execCredential(token, { apiVersion: "client.authentication.k8s.io/v1" })),
    ).toMatchObject({
      apiVersion: "client.authentication.k8s.io/v1",
      status: { token: token.token },
    });
  });
});

describe("execCredentialApiVersion", () => {
  it("is the apiVersion KUBERNETES_EXEC_INFO asks for, v1beta1 when it asks for none", () => {
    const info = (apiVersion: string) =>
      JSON.stringify({ kind: "ExecCredential", apiVersion, spec: { interactive: false } });
    expect(execCredentialApiVersion(info("client.authentication.k8s.io/v1"))).toBe(
      "client.authentication.k8s.io/v1",
    );
    expect(execCredentialApiVersion(info("client.authentication.k8s.io/v1beta1"))).toBe(
      "client.authentication.k8s.io/v1beta1",
    );
    expect(execCredentialApiVersion(undefined)).toBe("client.authentication.k8s.io/v1beta1");
    expect(execCredentialApiVersion("")).toBe("client.authentication.k8s.io/v1beta1");
    expect(execCredentialApiVersion("{}")).toBe("client.authentication.k8s.io/v1beta1");
  });

  it("names the variable when it is not JSON or asks for a version there is no answer in", () => {
    expect(() => execCredentialApiVersion("{")).toThrow(
      "KUBERNETES_EXEC_INFO: expected an ExecCredential as JSON",
    );
    expect(() =>
      execCredentialApiVersion('{"apiVersion":"client.authentication.k8s.io/v1alpha1"}'),
    ).toThrow(
      expect.objectContaining({
        code: "EKS_INVALID_OPTIONS",
        message:
          'KUBERNETES_EXEC_INFO: expected apiVersion client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1, received "client.authentication.k8s.io/v1alpha1"',
      }),
    );
  });
});

describe("describeCluster: a cluster that is not ACTIVE", () => {
  it("says its state", async () => {
    const client = {
      send: async () => ({ cluster: { status: "CREATING" } }),
    } as unknown as EKSClient;
    await expect(describeCluster(client, "new", "us-east-1")).rejects.toMatchObject({
      code: "EKS_CLUSTER_NOT_ACTIVE",
      message:
        'EKS cluster "new" in us-east-1 is CREATING, not ACTIVE: its API server cannot take Jobs',
    });
  });
});

describe("describeCluster: what each answer means", () => {
  const client = (send: () => Promise<unknown>) => ({ send }) as unknown as EKSClient;
  it("accepts an UPDATING cluster, which keeps serving during an upgrade", async () => {
    const cluster = await describeCluster(
      client(async () => ({
        cluster: {
          status: "UPDATING",
          endpoint: "https://x.eks",
          certificateAuthority: { data: "UEVN" },
        },
      })),
      "ci",
      "us-east-1",
    );
    expect(cluster).toEqual({ endpoint: "https://x.eks", caPem: "PEM" });
  });

  it("tells refused credentials from a missing permission", async () => {
    const failing = (name: string, status: number) =>
      client(async () => {
        throw Object.assign(new Error(`${name} happened`), {
          name,
          $metadata: { httpStatusCode: status },
        });
      });
    await expect(
      describeCluster(failing("InvalidSignatureException", 403), "ci", "us-east-1"),
    ).rejects.toMatchObject({
      code: "EKS_CREDENTIALS",
    });
    await expect(
      describeCluster(failing("ExpiredTokenException", 403), "ci", "us-east-1"),
    ).rejects.toMatchObject({
      code: "EKS_CREDENTIALS",
    });
    await expect(
      describeCluster(failing("AccessDeniedException", 403), "ci", "us-east-1"),
    ).rejects.toMatchObject({
      code: "EKS_ACCESS_DENIED",
      message: expect.stringContaining("(AccessDeniedException: AccessDeniedException happened)"),
    });
  });

  it("gives up at its deadline", async () => {
    const hung = client(
      (...args: unknown[]) =>
        new Promise((_, reject) => {
          const signal = (args[1] as { abortSignal: AbortSignal }).abortSignal;
          signal.addEventListener("abort", () =>
            reject(Object.assign(new Error("aborted"), { name: "AbortError" })),
          );
        }),
    );
    await expect(describeCluster(hung, "ci", "us-east-1", 50)).rejects.toMatchObject({
      code: "EKS_DESCRIBE_FAILED",
      message: 'DescribeCluster for "ci" in us-east-1 did not answer within 50 ms',
    });
  });
});

describe("TokenSource under trouble", () => {
  it("gives up on a hung credential provider, and recovers when it answers again", async () => {
    let hang = true;
    const source = new TokenSource({
      clusterName: "ci",
      region: "us-east-1",
      credentialsTimeoutMs: 50,
      credentials: async () => {
        if (hang) return new Promise<AwsCredentialIdentity>(() => {});
        return { accessKeyId: "AKID", secretAccessKey: "s" };
      },
    });
    await expect(source.get()).rejects.toMatchObject({ code: "EKS_CREDENTIALS" });
    hang = false;
    expect((await source.get()).token).toMatch(/^k8s-aws-v1\./);
  });

  it("hands out the cached token while it is valid if signing a new one fails", async () => {
    let now = start;
    let fail = false;
    const source = new TokenSource({
      clusterName: "ci",
      region: "us-east-1",
      now: () => now,
      credentials: async () => {
        if (fail) throw new Error("IMDS timeout");
        return { accessKeyId: "AKID", secretAccessKey: "s" };
      },
    });
    const first = await source.get();
    fail = true;
    now += minutes(14) + 10_000;
    expect((await source.get()).token).toBe(first.token);
    now += minutes(1);
    await expect(source.get()).rejects.toMatchObject({ code: "EKS_CREDENTIALS" });
  });

  it("a forced refresh gets fresh credentials even while a normal one runs, and nobody gets the refused token", async () => {
    const h = harness();
    const refused = await h.source.get();
    h.advance(minutes(14));
    const normal = h.source.get();
    const forced = h.source.refresh();
    const during = h.source.get();
    const [a, b, c] = await Promise.all([normal, forced, during]);
    expect(h.calls).toEqual([undefined, undefined, true]);
    expect(b.token).not.toBe(refused.token);
    expect(c.token).toBe(b.token);
    expect(a.token).not.toBe(refused.token);
  });

  it("never schedules a refresh in the past, even for credentials in their last seconds", async () => {
    const h = harness({
      accessKeyId: "ASIA",
      secretAccessKey: "s",
      sessionToken: "t",
      expiration: new Date(start + 30_000),
    });
    const token = await h.source.get();
    expect(h.calls).toEqual([undefined, true]);
    expect(token.refreshAt.getTime()).toBeGreaterThanOrEqual(start + 5_000);
    for (let i = 0; i < 10; i++) await h.source.get();
    expect(h.calls).toHaveLength(2);
  });
});

describe("EksAuthError", () => {
  it("is an OndemandEksError matched by its code, retryable only for credentials", () => {
    // Prepare
    const credentials = new EksAuthError("EKS_CREDENTIALS", "no AWS credentials");
    const denied = new EksAuthError("EKS_ACCESS_DENIED", "not allowed");

    // Assess
    expect(isOndemandEksError(credentials)).toBe(true);
    expect(hasErrorCode(denied, "EKS_ACCESS_DENIED")).toBe(true);
    expect(credentials).toMatchObject({ name: "EksAuthError", retryable: true, issues: [] });
    expect(denied.retryable).toBe(false);
  });

  it("names the option at fault in its issues", async () => {
    // Act
    const halfGiven = await eksAuth({
      clusterName: "ci",
      region: "us-east-1",
      caPem: "PEM",
    }).catch((error: unknown) => error);
    const notHttps = await eksAuth({
      clusterName: "ci",
      region: "us-east-1",
      endpoint: "http://10.0.0.1",
      caPem: "PEM",
    }).catch((error: unknown) => error);

    // Assess
    expect(halfGiven).toMatchObject({
      code: "EKS_INVALID_OPTIONS",
      retryable: false,
      issues: [{ path: "endpoint", message: expect.stringContaining("required when caPem") }],
      message:
        "endpoint: required when caPem is given (give both, or neither to use DescribeCluster)",
    });
    expect(notHttps).toMatchObject({
      code: "EKS_INVALID_OPTIONS",
      issues: [
        { path: "endpoint", message: 'expected an https:// URL, received "http://10.0.0.1"' },
      ],
    });
  });
});

import { readFileSync } from "node:fs";
import { createToken, partitionOf, TOKEN_PREFIX } from "@ondemand-eks/eks-auth";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyToken } from "./helpers/verifier.js";

interface Vector {
  name: string;
  region: string;
  clusterName: string;
  signingDate: string;
  sessionToken: string | null;
  accessKeyId: string;
  secretAccessKey: string;
  url: string;
  token: string;
}

/** Derived with botocore (the library behind `aws eks get-token`): see vectors/derive.py. */
const { vectors } = JSON.parse(
  readFileSync(new URL("./vectors/vectors.json", import.meta.url), "utf8"),
) as { vectors: Vector[] };

const credentials = (v: Vector) => ({
  accessKeyId: v.accessKeyId,
  secretAccessKey: v.secretAccessKey,
  ...(v.sessionToken ? { sessionToken: v.sessionToken } : {}),
});

describe("createToken: known answers", () => {
  it.each(vectors.map((v) => [v.name, v] as const))(
    "%s: exactly botocore's token",
    async (_, v) => {
      const token = await createToken({
        clusterName: v.clusterName,
        region: v.region,
        credentials: credentials(v),
        signingDate: new Date(v.signingDate),
      });
      expect(token.token).toBe(v.token);
      expect(token.signedAt.toISOString()).toBe(new Date(v.signingDate).toISOString());
      expect(token.expiresAt.getTime() - token.signedAt.getTime()).toBe(15 * 60_000);
    },
  );
});

describe("aws-iam-authenticator's checks, on our tokens", () => {
  it.each(vectors.map((v) => [v.name, v] as const))(
    "%s passes every check and the signature",
    async (_, v) => {
      const { token } = await createToken({
        clusterName: v.clusterName,
        region: v.region,
        credentials: credentials(v),
        signingDate: new Date(v.signingDate),
      });
      const verified = verifyToken(token, {
        clusterName: v.clusterName,
        partition: partitionOf(v.region).id as "aws",
        now: new Date(new Date(v.signingDate).getTime() + 14 * 60_000),
        secrets: { [v.accessKeyId]: v.secretAccessKey },
      });
      expect(verified.accessKeyId).toBe(v.accessKeyId);
      const url = new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), "base64url").toString());
      expect(url.searchParams.get("X-Amz-Expires")).toBe("60");
      expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("host;x-k8s-aws-id");
      expect(url.searchParams.get("X-Amz-Security-Token")).toBe(v.sessionToken);
      expect(url.searchParams.has("x-k8s-aws-id")).toBe(false);
      expect(token).not.toMatch(/=/);
    },
  );

  const base = vectors[0]!;
  const baseToken = base.token;
  const options = {
    clusterName: base.clusterName,
    partition: "aws" as const,
    now: new Date(new Date(base.signingDate).getTime() + 60_000),
    secrets: { [base.accessKeyId]: base.secretAccessKey },
  };
  const reencode = (edit: (url: URL) => void) => {
    const url = new URL(Buffer.from(baseToken.slice(TOKEN_PREFIX.length), "base64url").toString());
    edit(url);
    return TOKEN_PREFIX + Buffer.from(url.toString()).toString("base64url");
  };

  const set = (key: string, value: string) => reencode((u) => u.searchParams.set(key, value));
  // Each case breaks one rule and must be refused by that rule: the checks run without the
  // signature check, so no case passes only because its signature broke.
  it.each([
    ["too long", `${baseToken}${"A".repeat(4096)}`, "token is too large"],
    ["no prefix", baseToken.slice(TOKEN_PREFIX.length), "missing the k8s-aws-v1. prefix"],
    ["padded base64", `${baseToken}=`, "not unpadded base64url"],
    [
      "http",
      reencode((u) => {
        u.protocol = "http:";
      }),
      "unexpected scheme",
    ],
    [
      "another host",
      reencode((u) => {
        u.hostname = "sts.example.com";
      }),
      "unexpected host",
    ],
    [
      "another partition's host",
      reencode((u) => {
        u.hostname = "sts.cn-north-1.amazonaws.com.cn";
      }),
      "unexpected host",
    ],
    [
      "a port",
      reencode((u) => {
        u.port = "8443";
      }),
      "unexpected host",
    ],
    [
      "another path",
      reencode((u) => {
        u.pathname = "/x";
      }),
      "unexpected path",
    ],
    [
      "an extra query key",
      reencode((u) => u.searchParams.append("Foo", "1")),
      "non-whitelisted query parameter Foo",
    ],
    [
      "a repeated key",
      reencode((u) => u.searchParams.append("Action", "GetCallerIdentity")),
      "multiple values",
    ],
    ["another action", set("Action", "AssumeRole"), "unexpected action"],
    [
      "cluster id not signed",
      set("X-Amz-SignedHeaders", "host"),
      "x-k8s-aws-id is not a signed header",
    ],
    ["expires over 900", set("X-Amz-Expires", "901"), "invalid X-Amz-Expires"],
    ["negative expires", set("X-Amz-Expires", "-1"), "invalid X-Amz-Expires"],
    [
      "no date",
      reencode((u) => u.searchParams.delete("X-Amz-Date")),
      "X-Amz-Date missing or malformed",
    ],
  ])("rejects a token with %s", (_, token, reason) => {
    const { secrets: _secrets, ...withoutSignature } = options;
    expect(() => verifyToken(token, withoutSignature)).toThrow(reason);
  });

  it("rejects a tampered signature, and a date moved after signing", () => {
    expect(() => verifyToken(set("X-Amz-Signature", "0".repeat(64)), options)).toThrow(
      "signature does not match",
    );
    expect(() => verifyToken(set("X-Amz-Date", "20261128T100115Z"), options)).toThrow(
      "signature does not match",
    );
  });

  it("rejects a token older than 15 minutes, and one for another cluster", () => {
    const late = new Date(new Date(base.signingDate).getTime() + 15 * 60_000 + 1_000);
    expect(() => verifyToken(baseToken, { ...options, now: late })).toThrow("expired");
    expect(() => verifyToken(baseToken, { ...options, clusterName: "other" })).toThrow("signature");
  });

  it("holds for any cluster name, region of each partition, time and session token", async () => {
    const region = fc.constantFrom(
      "us-east-1",
      "eu-central-2",
      "ap-southeast-4",
      "cn-northwest-1",
      "us-gov-east-1",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/),
        region,
        fc.date({ min: new Date("2020-01-01"), max: new Date("2040-01-01"), noInvalidDate: true }),
        fc.option(fc.base64String({ minLength: 16, maxLength: 1200 }), { nil: undefined }),
        async (clusterName, region, date, sessionToken) => {
          const { token } = await createToken({
            clusterName,
            region,
            credentials: {
              accessKeyId: "AKIDPROPERTY",
              secretAccessKey: "secret/+=",
              ...(sessionToken ? { sessionToken } : {}),
            },
            signingDate: date,
          });
          expect(token.length).toBeLessThanOrEqual(4096);
          verifyToken(token, {
            clusterName,
            partition: partitionOf(region).id as "aws",
            now: new Date(date.getTime() + 60_000),
            secrets: { AKIDPROPERTY: "secret/+=" },
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("partitions", () => {
  it("come from the AWS SDK's partition table: each partition's STS host, new ones included", async () => {
    // Prepare
    const { stsHostname } = await import("@ondemand-eks/eks-auth");

    // Assess
    expect(stsHostname("us-east-1")).toBe("sts.us-east-1.amazonaws.com");
    expect(stsHostname("cn-northwest-1")).toBe("sts.cn-northwest-1.amazonaws.com.cn");
    expect(stsHostname("us-gov-east-1")).toBe("sts.us-gov-east-1.amazonaws.com");
    expect(stsHostname("us-iso-east-1")).toBe("sts.us-iso-east-1.c2s.ic.gov");
    expect(stsHostname("us-isob-east-1")).toBe("sts.us-isob-east-1.sc2s.sgov.gov");
    // Refused by the hand-written table this replaced.
    expect(stsHostname("eusc-de-east-1")).toBe("sts.eusc-de-east-1.amazonaws.eu");
    expect(stsHostname("us-isof-south-1")).toBe("sts.us-isof-south-1.csp.hci.ic.gov");
    expect(partitionOf("eusc-de-east-1")).toEqual({ id: "aws-eusc", dnsSuffix: "amazonaws.eu" });
    expect(partitionOf("eu-isoe-west-1").id).toBe("aws-iso-e");
    // A region the table does not list yet goes by its name's pattern, as in the SDK.
    expect(partitionOf("cn-south-9")).toEqual({ id: "aws-cn", dnsSuffix: "amazonaws.com.cn" });
  });
});

describe("createToken: bad options", () => {
  const creds = { accessKeyId: "a", secretAccessKey: "b" };
  it("names the option, in the message and in the issue's path", async () => {
    await expect(
      createToken({
        clusterName: "bad name",
        region: "us-east-1",
        credentials: creds,
        signingDate: new Date(),
      }),
    ).rejects.toThrow("clusterName: expected an EKS cluster name");
    await expect(
      createToken({
        clusterName: "ok",
        region: "mars-1",
        credentials: creds,
        signingDate: new Date(),
      }),
    ).rejects.toThrow('region: expected an AWS region such as us-east-1, received "mars-1"');
    expect(() => partitionOf("mars-1")).toThrow(
      expect.objectContaining({
        code: "EKS_INVALID_OPTIONS",
        issues: [{ path: "region", message: expect.stringContaining("expected an AWS region") }],
      }),
    );
  });
});

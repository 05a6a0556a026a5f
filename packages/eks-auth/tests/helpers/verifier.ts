import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * A test-side verifier of EKS tokens, written from aws-iam-authenticator's
 * pkg/token Verify (the checks the API server's authenticator applies before it asks
 * STS) plus a SigV4 signature check with a known secret, which stands in for STS. It
 * uses node:crypto only, so it checks our signer rather than repeating it.
 */
export interface Verified {
  accessKeyId: string;
  clusterName: string;
  signedAt: Date;
}

export class TokenRejected extends Error {}

const PREFIX = "k8s-aws-v1.";
const MAX_TOKEN_BYTES = 4096;
const LIFETIME_MS = 15 * 60_000;
const WHITELIST = new Set([
  "action",
  "version",
  "x-amz-algorithm",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-expires",
  "x-amz-security-token",
  "x-amz-signature",
  "x-amz-signedheaders",
]);

function stsHosts(partition: string): (host: string) => boolean {
  const suffix = {
    aws: "amazonaws.com",
    "aws-us-gov": "amazonaws.com",
    "aws-cn": "amazonaws.com.cn",
  }[partition];
  const region =
    partition === "aws-us-gov"
      ? /^us-gov-[a-z]+-\d$/
      : partition === "aws-cn"
        ? /^cn-[a-z]+-\d$/
        : /^(?!us-gov-|cn-)[a-z]{2}(-[a-z]+)+-\d$/;
  return (host) => {
    const match = /^sts\.([a-z0-9-]+)\.(.+)$/.exec(host);
    return Boolean(match && match[2] === suffix && region.test(match[1] ?? ""));
  };
}

export interface VerifyOptions {
  clusterName: string;
  partition: "aws" | "aws-cn" | "aws-us-gov";
  now: Date;
  /** Secret access keys by access key id; without it the signature is not checked. */
  secrets?: Record<string, string>;
}

function fail(message: string): never {
  throw new TokenRejected(message);
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function verifyToken(token: string, options: VerifyOptions): Verified {
  if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) fail("token is too large");
  if (!token.startsWith(PREFIX)) fail(`token is missing the ${PREFIX} prefix`);
  const encoded = token.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) fail("token is not unpadded base64url");
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, "base64url").toString("utf8"));
  } catch {
    return fail("token does not hold a URL");
  }
  if (url.protocol !== "https:") fail(`unexpected scheme ${url.protocol}`);
  if (url.port !== "" || !stsHosts(options.partition)(url.hostname))
    fail(`unexpected host ${url.host}`);
  if (url.pathname !== "/") fail("unexpected path");
  const params = new Map<string, string>();
  const seen = new Set<string>();
  for (const [key, value] of url.searchParams) {
    const lower = key.toLowerCase();
    if (!WHITELIST.has(lower)) fail(`non-whitelisted query parameter ${key}`);
    if (seen.has(lower)) fail("query parameter with multiple values");
    seen.add(lower);
    params.set(lower, value);
  }
  if (params.get("action") !== "GetCallerIdentity") fail("unexpected action");
  const signed = (params.get("x-amz-signedheaders") ?? "").split(";").map((h) => h.toLowerCase());
  if (!signed.includes("x-k8s-aws-id")) fail("x-k8s-aws-id is not a signed header");
  const expires = Number(params.get("x-amz-expires"));
  if (!/^\d+$/.test(params.get("x-amz-expires") ?? "") || expires < 0 || expires > 900)
    fail("invalid X-Amz-Expires");
  const date = params.get("x-amz-date") ?? "";
  const parsed = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (!parsed) fail("X-Amz-Date missing or malformed");
  const [, y, mo, d, h, mi, s] = parsed;
  const signedAt = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!));
  if (options.now.getTime() > signedAt.getTime() + LIFETIME_MS)
    fail("X-Amz-Date is expired (15 minute expiration)");
  if (signedAt.getTime() > options.now.getTime() + 5 * 60_000) fail("X-Amz-Date is in the future");
  const credential = (params.get("x-amz-credential") ?? "").split("/");
  const [accessKeyId = "", day = "", region = "", service = "", terminator = ""] = credential;
  if (service !== "sts" || terminator !== "aws4_request" || day !== date.slice(0, 8))
    fail("bad credential scope");
  if (!url.hostname.startsWith(`sts.${region}.`)) fail("credential region differs from the host");

  if (options.secrets) {
    const secret = options.secrets[accessKeyId];
    if (secret === undefined) fail(`unknown access key ${accessKeyId}`);
    const query = [...url.searchParams]
      .filter(([key]) => key !== "X-Amz-Signature")
      .map(([key, value]) => `${rfc3986(key)}=${rfc3986(value)}`)
      .sort()
      .join("&");
    const headers: Record<string, string> = { host: url.host, "x-k8s-aws-id": options.clusterName };
    const canonical = [
      "GET",
      "/",
      query,
      ...signed.map((name) => `${name}:${headers[name] ?? ""}`),
      "",
      signed.join(";"),
      createHash("sha256").update("").digest("hex"),
    ].join("\n");
    const scope = `${day}/${region}/sts/aws4_request`;
    const toSign = [
      "AWS4-HMAC-SHA256",
      date,
      scope,
      createHash("sha256").update(canonical).digest("hex"),
    ].join("\n");
    let key: Buffer = createHmac("sha256", `AWS4${secret}`).update(day).digest();
    for (const part of [region, "sts", "aws4_request"])
      key = createHmac("sha256", key).update(part).digest();
    const expected = createHmac("sha256", key).update(toSign).digest();
    const given = Buffer.from(params.get("x-amz-signature") ?? "", "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      fail("signature does not match");
  }
  return { accessKeyId, clusterName: options.clusterName, signedAt };
}

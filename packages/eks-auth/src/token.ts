import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import { EksAuthError } from "./errors.js";
import { stsHostname } from "./partition.js";

export const TOKEN_PREFIX = "k8s-aws-v1.";
/** How long the API server accepts a token after its X-Amz-Date. */
export const TOKEN_LIFETIME_MS = 15 * 60_000;
/** The presigned URL's own expiry, as aws-iam-authenticator and `aws eks get-token` set it. */
export const PRESIGN_EXPIRES_SECONDS = 60;

const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;

export interface TokenRequest {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentity;
  /** When the token is signed; its 15 minutes start here. */
  signingDate: Date;
}

export interface EksToken {
  /** `k8s-aws-v1.` + base64url (no padding) of the presigned URL. A secret. */
  token: string;
  signedAt: Date;
  /** When the API server stops accepting it. */
  expiresAt: Date;
}

/** Query keys in the order `aws eks get-token` (botocore) writes them. */
const QUERY_ORDER = [
  "Action",
  "Version",
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Security-Token",
  "X-Amz-Signature",
];

/** RFC 3986 percent-encoding, as SigV4 wants it. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Throws an EksAuthError (`EKS_INVALID_OPTIONS`, path `clusterName`) unless this is a valid EKS cluster name. */
export function checkClusterName(clusterName: string): void {
  if (!CLUSTER_NAME.test(clusterName)) {
    throw new EksAuthError("EKS_INVALID_OPTIONS", [
      {
        path: "clusterName",
        message: `expected an EKS cluster name (letters, digits, - and _, up to 100), received ${JSON.stringify(clusterName)}`,
      },
    ]);
  }
}

/**
 * An EKS bearer token, as aws-iam-authenticator and `aws eks get-token` make it: a
 * presigned STS GetCallerIdentity URL for the cluster's regional endpoint, with the
 * cluster name in the signed header `x-k8s-aws-id`. The API server (through the
 * authenticator) replays the URL to STS to learn who signed it.
 */
export async function createToken(request: TokenRequest): Promise<EksToken> {
  checkClusterName(request.clusterName);
  const hostname = stsHostname(request.region);
  const signer = new SignatureV4({
    credentials: request.credentials,
    region: request.region,
    service: "sts",
    sha256: Sha256,
  });
  const presigned = await signer.presign(
    {
      method: "GET",
      protocol: "https:",
      hostname,
      path: "/",
      query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
      headers: { host: hostname, "x-k8s-aws-id": request.clusterName },
    },
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: request.signingDate },
  );
  const query = presigned.query ?? {};
  const keys = Object.keys(query).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const search = keys
    .map((key) => {
      const value = query[key];
      return `${encode(key)}=${encode(Array.isArray(value) ? (value[0] ?? "") : (value ?? ""))}`;
    })
    .join("&");
  const url = `https://${hostname}/?${search}`;
  const signedAt = new Date(Math.floor(request.signingDate.getTime() / 1000) * 1000);
  return {
    token: TOKEN_PREFIX + Buffer.from(url).toString("base64url"),
    signedAt,
    expiresAt: new Date(signedAt.getTime() + TOKEN_LIFETIME_MS),
  };
}

function rank(key: string): number {
  const index = QUERY_ORDER.indexOf(key);
  return index === -1 ? QUERY_ORDER.length : index;
}

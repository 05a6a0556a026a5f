import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { TokenRejected, verifyToken } from "./verifier.js";

/**
 * A test-only TokenReview webhook standing in for aws-iam-authenticator on EKS: it checks
 * an EKS token with the verifier (aws-iam-authenticator's rules, then the SigV4 signature
 * against the known test secret, which is what STS would do) and maps the access key to
 * a Kubernetes user in the group the scheduler's RoleBinding names.
 */
export interface TokenWebhook {
  /** The kubeconfig file kube-apiserver's --authentication-token-webhook-config-file needs. */
  configFile: string;
  /** Access key ids it authenticated, in order. */
  authenticated: string[];
  /** Why it refused tokens, in order. */
  refused: string[];
  close(): Promise<void>;
}

export async function startTokenWebhook(options: {
  dir: string;
  clusterName: string;
  secrets: Record<string, string>;
  now: () => number;
}): Promise<TokenWebhook> {
  const authenticated: string[] = [];
  const refused: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const review = JSON.parse(Buffer.concat(chunks).toString()) as {
        apiVersion: string;
        spec: { token: string };
      };
      let status: Record<string, unknown>;
      try {
        const verified = verifyToken(review.spec.token, {
          clusterName: options.clusterName,
          partition: "aws",
          now: new Date(options.now()),
          secrets: options.secrets,
        });
        authenticated.push(verified.accessKeyId);
        status = {
          authenticated: true,
          user: {
            username: `arn:aws:iam::123456789012:user/${verified.accessKeyId}`,
            uid: `aws-iam-authenticator:123456789012:${verified.accessKeyId}`,
            groups: ["ondemand-eks:scheduler"],
          },
        };
      } catch (error) {
        if (!(error instanceof TokenRejected)) throw error;
        refused.push(error.message);
        status = { authenticated: false, error: error.message };
      }
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ apiVersion: review.apiVersion, kind: "TokenReview", status }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const configFile = join(options.dir, "token-webhook.kubeconfig");
  await writeFile(
    configFile,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "webhook", cluster: { server: `http://127.0.0.1:${port}/authenticate` } }],
      users: [{ name: "kube-apiserver", user: {} }],
      contexts: [{ name: "webhook", context: { cluster: "webhook", user: "kube-apiserver" } }],
      "current-context": "webhook",
    }),
  );
  return {
    configFile,
    authenticated,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

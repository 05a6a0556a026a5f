import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestLambda } from "@ondemand-eks/testenv";

/** The deployable function, as `npm run build` leaves it. */
export const BUNDLE_DIR = fileURLToPath(
  new URL("../../packages/adapter-lambda/dist/lambda", import.meta.url),
);

/** Size of the function's one file, in bytes. */
export async function bundleBytes(): Promise<number> {
  return (await stat(join(BUNDLE_DIR, "index.mjs"))).size;
}

/**
 * Cold starts under the Lambda Runtime Interface Emulator: the init duration it reports
 * (runtime start to its first request for an event) for the bundle and, alternately,
 * for an empty handler module, the floor our own runtime loop and Node set.
 */
export async function coldStarts(
  runs: number,
  kubeconfig: string,
): Promise<{ bundle: number[]; empty: number[] }> {
  const emptyDir = await mkdtemp(join(tmpdir(), "ondemand-eks-bench-empty-"));
  await writeFile(
    join(emptyDir, "index.mjs"),
    "export const sqs = async () => ({ batchItemFailures: [] });\n",
  );
  const result = { bundle: [] as number[], empty: [] as number[] };
  try {
    for (let run = 0; run < runs; run++) {
      for (const [side, dir] of [
        ["bundle", BUNDLE_DIR],
        ["empty", emptyDir],
      ] as const) {
        const started = await startTestLambda(`bench-cold-${side}`, {
          handlerDir: dir,
          handler: "index.sqs",
          env: { ONDEMAND_EKS_KUBECONFIG: kubeconfig },
        });
        if (!started.lambda) throw new Error(started.skipReason);
        try {
          const { status } = await started.lambda.invoke({ Records: [] });
          const init = started.lambda.initDurationMs();
          if (status !== 200 || init === undefined) {
            throw new Error(`cold start of ${side} failed:\n${started.lambda.logs()}`);
          }
          result[side].push(init);
        } finally {
          await started.lambda.stop();
        }
      }
    }
    return result;
  } finally {
    await rm(emptyDir, { recursive: true, force: true });
  }
}

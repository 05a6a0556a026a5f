import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cfnLint, cfnLintAvailable } from "@ondemand-eks/testenv";
import { describeUnless } from "@ondemand-eks/testenv/vitest";
import { describe, expect, it } from "vitest";
import { parse, type Tags } from "yaml";

const DEPLOY = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "deploy", "lambda");
const TEMPLATES = ["eventbridge.yaml", "sqs.yaml"].map((name) => join(DEPLOY, name));

/** CloudFormation's short forms (!Ref, !Sub, ...) read as their long forms. */
const CFN_TAGS: Tags = ["Ref", "Sub", "GetAtt", "If", "Equals", "Not", "And", "Or"].flatMap(
  (name) => {
    const key = name === "Ref" ? "Ref" : `Fn::${name}`;
    return [
      { tag: `!${name}`, resolve: (value: unknown) => ({ [key]: value }) },
      {
        tag: `!${name}`,
        collection: "seq" as const,
        resolve: (value: { toJSON(): unknown }) => ({ [key]: value.toJSON() }),
      },
    ];
  },
);

type Node = Record<string, any>;
async function template(path: string): Promise<Node> {
  return parse(await readFile(path, "utf8"), { customTags: CFN_TAGS }) as Node;
}

const lint = await cfnLintAvailable();

describeUnless(lint.skipReason, "Lambda templates pass cfn-lint", () => {
  it("has no finding, warnings included, in either template", async () => {
    const result = await cfnLint(TEMPLATES);
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("would report a retired runtime (the check is live)", async () => {
    const { writeFile, mkdtemp } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(join(tmpdir(), "cfn-"));
    const old = join(dir, "old.yaml");
    const text = await readFile(TEMPLATES[0] as string, "utf8");
    await writeFile(old, text.replace(/Runtime: nodejs\d+\.x/, "Runtime: nodejs18.x"));
    const result = await cfnLint([old]);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("nodejs18.x");
  });
});

describe("Lambda templates say what the handlers need", () => {
  it.each(TEMPLATES)(
    "%s: a supported Node runtime, the bundle, and a handler it exports",
    async (path) => {
      const fn = (await template(path)).Resources.Scheduler.Properties;
      expect(Number(/^nodejs(\d+)\.x$/.exec(fn.Runtime)?.[1])).toBeGreaterThanOrEqual(22);
      expect(fn.CodeUri).toBe("../../packages/adapter-lambda/dist/lambda");
      const entry = await readFile(
        join(DEPLOY, "..", "..", "packages/adapter-lambda/src/lambda-entry.ts"),
        "utf8",
      );
      const exported = fn.Handler.replace(/^index\./, "");
      expect(entry).toContain(`export const ${exported} =`);
      expect(fn.Timeout * 1000).toBeGreaterThan(20_000);
    },
  );

  it("EventBridge -> Lambda: Lambda's default two retries, then the on-failure destination", async () => {
    const fn = (await template(TEMPLATES[0] as string)).Resources.Scheduler.Properties;
    expect(fn.EventInvokeConfig.MaximumRetryAttempts).toBe(2);
    expect(fn.EventInvokeConfig.DestinationConfig.OnFailure).toEqual({
      Type: "SQS",
      Destination: { "Fn::GetAtt": "FailedEvents.Arn" },
    });
    expect(fn.Events.JobScheduled.Properties.Pattern).toEqual({ "detail-type": ["Job Scheduled"] });
  });

  it("EventBridge -> SQS -> Lambda: partial batch failures, and a redrive after five receives", async () => {
    const resources = (await template(TEMPLATES[1] as string)).Resources;
    const source = resources.Scheduler.Properties.Events.Jobs.Properties;
    expect(source.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    expect(resources.JobsQueue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
    // At least the function's timeout, so a batch in progress is not handed out twice.
    expect(resources.JobsQueue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      resources.Scheduler.Properties.Timeout,
    );
  });

  it("points at a built bundle, when one is built", async () => {
    const built = await stat(
      join(DEPLOY, "..", "..", "packages/adapter-lambda/dist/lambda/index.mjs"),
    ).catch(() => undefined);
    // turbo builds before it tests; run alone, the build may not exist yet.
    if (process.env.CI === "true") expect(built?.isFile()).toBe(true);
  });
});

import { readFile } from "node:fs/promises";
import { parse, type Tags } from "yaml";

/**
 * A CloudFormation template as plain JSON, its short forms read as long ones: tests walk
 * it freely (`t.Resources.Queue.Properties`), so its nodes are untyped.
 */
// biome-ignore lint/suspicious/noExplicitAny: a template is arbitrary JSON that tests walk.
export type CfnTemplate = Record<string, any>;

/** Each intrinsic's short form (`!Sub`) and the long form it stands for. */
const INTRINSICS = [
  "Ref",
  "Condition",
  "Sub",
  "GetAtt",
  "If",
  "Equals",
  "Not",
  "And",
  "Or",
  "Select",
  "Split",
  "Join",
  "FindInMap",
  "ImportValue",
  "Base64",
  "GetAZs",
  "Cidr",
];

/** CloudFormation's short forms read as their long forms, scalar or sequence alike. */
const CFN_TAGS: Tags = INTRINSICS.flatMap((name) => {
  const key = name === "Ref" || name === "Condition" ? name : `Fn::${name}`;
  return [
    { tag: `!${name}`, resolve: (value: unknown) => ({ [key]: value }) },
    {
      tag: `!${name}`,
      collection: "seq" as const,
      resolve: (value: { toJSON(): unknown }) => ({ [key]: value.toJSON() }),
    },
  ];
});

/**
 * Reads a CloudFormation YAML template, its short forms (`!Ref X`, `!Sub [...]`) as long
 * ones (`{Ref: "X"}`, `{"Fn::Sub": [...]}`); `!GetAtt A.B` stays the string `"A.B"`.
 *
 * @example
 * const t = await readCfnTemplate("deploy/lambda/sqs.yaml");
 * t.Resources.JobsQueue.Properties.RedrivePolicy.maxReceiveCount; // 5
 */
export async function readCfnTemplate(path: string): Promise<CfnTemplate> {
  return parse(await readFile(path, "utf8"), { customTags: CFN_TAGS }) as CfnTemplate;
}

/** Where a rendered template is deployed: CloudFormation's pseudo parameters. */
export interface CfnRenderOptions {
  /** Parameter values; a parameter without one takes its Default. */
  readonly parameters?: Readonly<Record<string, string>>;
  readonly region?: string;
  readonly accountId?: string;
  readonly stackName?: string;
}

/** What `AWS::NoValue` resolves to until its property or list item is dropped. */
const NO_VALUE = Symbol("AWS::NoValue");

/**
 * A template as CloudFormation would create it from some parameters: conditions decided,
 * resources and outputs whose condition is false left out, `Fn::If`, `Fn::Sub`,
 * `Fn::Select`, `Fn::Split`, `Fn::Join` and `Ref` to parameters and pseudo parameters
 * resolved, `AWS::NoValue` dropped. What only exists once deployed stays as written:
 * `{Ref: "Queue"}`, `{"Fn::GetAtt": "Queue.Arn"}`, `${Queue.Arn}` inside a `Fn::Sub`.
 *
 * @example
 * const t = renderCfnTemplate(await readCfnTemplate("pod-role.yaml"), {
 *   parameters: { Identity: "pod-identity", ClusterName: "ci", SecretsBucket: "b" },
 * });
 * t.Resources.PodIdentityAssociation.Properties.Namespace; // "buildkite-privileged"
 */
export function renderCfnTemplate(
  template: CfnTemplate,
  options: CfnRenderOptions = {},
): CfnTemplate {
  const refs: Record<string, string> = {
    "AWS::Region": options.region ?? "us-east-1",
    "AWS::AccountId": options.accountId ?? "123456789012",
    "AWS::StackName": options.stackName ?? "test",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
  };
  for (const [name, parameter] of Object.entries<CfnTemplate>(template.Parameters ?? {})) {
    const value = options.parameters?.[name] ?? parameter.Default;
    if (value === undefined) throw new Error(`parameter ${name}: no value given and no Default`);
    refs[name] = String(value);
  }
  const decided: Record<string, boolean> = {};
  const condition = (name: string): boolean => {
    if (!(name in decided)) {
      if (!template.Conditions?.[name]) throw new Error(`no condition ${name}`);
      decided[name] = resolve(template.Conditions[name]) === true;
    }
    return decided[name] as boolean;
  };
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolve).filter((item) => item !== NO_VALUE);
    if (node === null || typeof node !== "object") return node;
    const entries = Object.entries(node);
    const [key, arg] = entries[0] ?? [];
    if (entries.length === 1 && key !== undefined) {
      const intrinsic = resolveIntrinsic(key, arg);
      if (intrinsic !== undefined) return intrinsic.value;
    }
    const out: Record<string, unknown> = {};
    for (const [name, value] of entries) {
      const resolved = resolve(value);
      if (resolved !== NO_VALUE) out[name] = resolved;
    }
    return out;
  };
  // biome-ignore lint/suspicious/noExplicitAny: intrinsics' arguments are as written.
  const resolveIntrinsic = (key: string, arg: any): { value: unknown } | undefined => {
    switch (key) {
      case "Ref":
        if (arg === "AWS::NoValue") return { value: NO_VALUE };
        return { value: arg in refs ? refs[arg] : { Ref: arg } };
      case "Condition":
        return { value: condition(arg) };
      case "Fn::If":
        return { value: resolve(condition(arg[0]) ? arg[1] : arg[2]) };
      case "Fn::Equals":
        return { value: JSON.stringify(resolve(arg[0])) === JSON.stringify(resolve(arg[1])) };
      case "Fn::Not":
        return { value: resolve(arg[0]) !== true };
      case "Fn::And":
        return { value: arg.every((item: unknown) => resolve(item) === true) };
      case "Fn::Or":
        return { value: arg.some((item: unknown) => resolve(item) === true) };
      case "Fn::Select":
        return { value: (resolve(arg[1]) as unknown[])[Number(resolve(arg[0]))] };
      case "Fn::Split":
        return { value: String(resolve(arg[1])).split(arg[0]) };
      case "Fn::Join":
        return { value: (resolve(arg[1]) as unknown[]).join(arg[0]) };
      case "Fn::Sub": {
        const [text, variables] = typeof arg === "string" ? [arg, {}] : arg;
        const local: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(variables)) local[name] = resolve(value);
        const substituted = (text as string).replace(/\$\{([^!}]+)\}/g, (whole, name: string) => {
          const value = name in local ? local[name] : refs[name];
          return typeof value === "string" ? value : whole;
        });
        return { value: substituted };
      }
      default:
        return undefined;
    }
  };
  const kept = (section: CfnTemplate | undefined) => {
    const out: CfnTemplate = {};
    for (const [id, item] of Object.entries<CfnTemplate>(section ?? {})) {
      if (item.Condition === undefined || condition(item.Condition)) out[id] = resolve(item);
    }
    return out;
  };
  return { ...template, Resources: kept(template.Resources), Outputs: kept(template.Outputs) };
}

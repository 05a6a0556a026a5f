/**
 * Installable as a user installs it: every publishable package is packed, installed alone
 * (with the tarballs of its own `@ondemand-eks` dependencies) into an empty project, and
 * imported there as ES modules, as CommonJS, and from TypeScript under
 * `moduleResolution: node16` and `node10`; the core's README example runs as written.
 * publint (strict) and `@arethetypeswrong/cli` check every tarball. No cluster needed.
 *
 * Packed with `--ignore-scripts`: turbo built every package before this test (it depends
 * on them), and rebuilding in place would empty `dist/` under the other packages' tests
 * running beside it. The `prepack` script that builds a clean clone is checked instead.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = new URL("../../../", import.meta.url).pathname;
const BIN = join(ROOT, "node_modules/.bin");

interface Manifest {
  name: string;
  private?: boolean;
  scripts?: Record<string, string>;
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  files?: string[];
  bin?: Record<string, string>;
}

interface Packed {
  dir: string;
  manifest: Manifest;
  /** Subpaths other than "." and "./package.json", e.g. "events". */
  subpaths: string[];
  tarball: string;
}

const packed = new Map<string, Packed>();
let work = "";

/** At most `limit` of `tasks` at once: the machine has two cores. */
async function pool<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await (tasks[index] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

/** The package's own `@ondemand-eks` dependencies and peers, and theirs. */
function closure(name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  seen.add(name);
  const { manifest } = packed.get(name) as Packed;
  for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    if (dep.startsWith("@ondemand-eks/")) closure(dep, seen);
  }
  return seen;
}

async function sh(cwd: string, file: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(" ")} (in ${cwd}) failed:\n${stdout}\n${stderr}`);
  }
}

/** The README's first ```ts block. */
async function readmeExample(dir: string): Promise<string> {
  const readme = await readFile(join(ROOT, dir, "README.md"), "utf8");
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!match?.[1]) throw new Error(`${dir}/README.md has no ts example`);
  return match[1];
}

const TSC_NODE16 = ["--module", "node16", "--moduleResolution", "node16"];
const TSC_NODE10 = ["--module", "commonjs", "--moduleResolution", "node10"];
/**
 * A user's usual options. `skipLibCheck` as most projects have it: what is checked is
 * that every entry resolves and types the user's code; the declarations themselves are
 * checked by the build (tsup's dts) and by are-the-types-wrong.
 */
const TSC_USER = [
  "--strict",
  "--target",
  "es2022",
  "--esModuleInterop",
  "--skipLibCheck",
  "--types",
  "node",
  "--typeRoots",
  join(ROOT, "node_modules/@types"),
];
/** Each test's budget on a busy two-core machine; it takes about a minute on an idle one. */
const BUDGET_MS = 600_000;

/** Installs `name` alone into a new project and checks every entry point there. */
async function tryPackage(name: string): Promise<void> {
  const pkg = packed.get(name) as Packed;
  const project = join(work, name.replace("@ondemand-eks/", ""));
  await mkdir(project, { recursive: true });
  await writeFile(
    join(project, "package.json"),
    `${JSON.stringify({ name: "try-it", version: "1.0.0", private: true })}\n`,
  );
  const own = [...closure(name)].map((n) => packed.get(n) as Packed);
  // Other peers (optional ones: fast-check for core/testing, the AWS SDK clients of
  // adapter-lambda/runtime) as a user of every subpath would install them.
  const peers = own.flatMap(({ manifest }) =>
    Object.entries(manifest.peerDependencies ?? {})
      .filter(([peer]) => !peer.startsWith("@ondemand-eks/"))
      .map(([peer, range]) => `${peer}@${range}`),
  );
  await sh(project, "npm", [
    "install",
    ...own.map((p) => p.tarball),
    ...peers,
    "--prefer-offline",
    "--no-audit",
    "--no-fund",
    "--ignore-scripts",
    "--loglevel=error",
  ]);

  const specifiers = [name, ...pkg.subpaths.map((s) => `${name}/${s}`)];
  const esm = specifiers
    .map(
      (s, i) =>
        `import * as m${i} from "${s}";\nif (Object.keys(m${i}).length === 0) throw new Error("${s}: no exports");`,
    )
    .join("\n");
  // A name two entries of the package both export is one value (one class, so
  // `instanceof` holds across subpaths), in CommonJS as in ESM.
  const sameValues = (loaded: string) =>
    `const all = ${loaded};\nfor (const [a, ea] of all) for (const [b, eb] of all) for (const k of Object.keys(ea)) if (a < b && k in eb && ea[k] !== eb[k]) throw new Error(\`\${k}: \${a} and \${b} export different values\`);`;
  const cjs = [
    ...specifiers.map(
      (s) => `if (Object.keys(require("${s}")).length === 0) throw new Error("${s}: no exports");`,
    ),
    sameValues(`[${specifiers.map((s) => `["${s}", require("${s}")]`).join(", ")}]`),
  ].join("\n");
  const esmSame = sameValues(`[${specifiers.map((s, i) => `["${s}", m${i}]`).join(", ")}]`);
  await writeFile(join(project, "smoke.mjs"), `${esm}\n${esmSame}\n`);
  await writeFile(join(project, "smoke.cjs"), `${cjs}\n`);
  await sh(project, process.execPath, ["smoke.mjs"]);
  await sh(project, process.execPath, ["smoke.cjs"]);

  // Types: ESM (.mts) and CommonJS (.cts) under node16, and plain .ts under node10.
  const typed = specifiers
    .map((s, i) => `import * as m${i} from "${s}";\nexport const e${i}: object = m${i};`)
    .join("\n");
  await writeFile(join(project, "types.mts"), `${typed}\n`);
  await writeFile(join(project, "types.cts"), `${typed}\n`);
  await writeFile(join(project, "types10.ts"), `${typed}\n`);
  const strict = ["--noEmit", ...TSC_USER];
  await sh(project, join(BIN, "tsc"), [...strict, ...TSC_NODE16, "types.mts", "types.cts"]);
  await sh(project, join(BIN, "tsc"), [...strict, ...TSC_NODE10, "types10.ts"]);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ondemand-eks-packaging-"));
  const dirs: string[] = [];
  for (const entry of await readdir(join(ROOT, "packages"))) {
    const manifest = JSON.parse(
      await readFile(join(ROOT, "packages", entry, "package.json"), "utf8"),
    ) as Manifest;
    if (manifest.private) continue;
    dirs.push(`packages/${entry}`);
    const subpaths = Object.keys(manifest.exports ?? {})
      .filter((p) => p !== "." && p !== "./package.json")
      .map((p) => p.slice(2));
    packed.set(manifest.name, { dir: `packages/${entry}`, manifest, subpaths, tarball: "" });
  }
  const tarballs = join(work, "tarballs");
  await mkdir(tarballs);
  const out = await sh(ROOT, "npm", [
    "pack",
    "--ignore-scripts",
    "--json",
    "--pack-destination",
    tarballs,
    ...dirs.flatMap((d) => ["--workspace", d]),
  ]);
  for (const { name, filename } of JSON.parse(out) as { name: string; filename: string }[]) {
    (packed.get(name) as Packed).tarball = join(tarballs, filename);
  }
}, BUDGET_MS);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true, maxRetries: 3 });
});

describe("every publishable package", () => {
  it("is packed, and builds itself when packed from a clean clone", async () => {
    // Prepare
    const names = [...packed.keys()];

    // Assess
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const { manifest, tarball } of packed.values()) {
      expect(tarball, manifest.name).not.toBe("");
      expect(manifest.scripts?.prepack, manifest.name).toContain(
        `turbo run build --filter=${manifest.name}`,
      );
    }
  });

  it("ships what it says: pod-library its pods, adapter-lambda no deploy bundle, a LICENSE each", async () => {
    // Act
    const list = async (name: string): Promise<string[]> =>
      (await sh(work, "tar", ["-tzf", (packed.get(name) as Packed).tarball])).split("\n");
    const [podLibrary, lambda] = await Promise.all([
      list("@ondemand-eks/pod-library"),
      list("@ondemand-eks/adapter-lambda"),
    ]);
    const licensed = await Promise.all(
      [...packed.keys()].map(async (n) => (await list(n)).includes("package/LICENSE")),
    );

    // Assess
    expect(podLibrary).toContain("package/pods/default.yaml");
    expect(lambda.filter((f) => f.startsWith("package/dist/lambda/"))).toEqual([]);
    expect(lambda).toContain("package/dist/runtime/index.js");
    expect(licensed.every(Boolean)).toBe(true);
    for (const { manifest } of packed.values()) {
      const files = await list(manifest.name);
      for (const bin of Object.values(manifest.bin ?? {})) {
        expect(files, `${manifest.name} bin ${bin}`).toContain(
          `package/${bin.replace(/^\.\//, "")}`,
        );
      }
    }
  });

  it(
    "passes publint --strict and are-the-types-wrong, installs alone, and imports as ESM, as CommonJS and from TypeScript (node16 and node10)",
    async () => {
      // Act: one pool, so the linters run while npm waits on the disk.
      const lint = [...packed.values()].flatMap(({ tarball, manifest }) =>
        [
          [join(BIN, "publint"), ["run", "--strict", tarball]],
          [join(BIN, "attw"), [tarball, "--format", "ascii"]],
        ].map(
          ([file, args]) =>
            async () =>
              sh(work, file as string, args as string[]).then(
                () => [],
                (error: Error) => [`${manifest.name}: ${error.message}`],
              ),
        ),
      );
      const install = [...packed.keys()].map(
        (name) => async () =>
          tryPackage(name).then(
            () => [],
            (error: Error) => [error.message],
          ),
      );
      const failures = (await pool(3, [...install, ...lint])).flat();

      // Assess
      expect(failures).toEqual([]);
    },
    BUDGET_MS,
  );
});

describe("@ondemand-eks/core's README example", () => {
  it(
    "runs as written on the repository's sample event, as ESM and as CommonJS, type-checked",
    async () => {
      // Prepare: core's project was installed by the test above.
      const project = join(work, "core");
      const example = await readmeExample("packages/core");
      await copyFile(
        join(ROOT, "examples/job-scheduled.json"),
        join(project, "job-scheduled.json"),
      );
      await writeFile(join(project, "example.mts"), example);
      await writeFile(join(project, "example.cts"), example);
      await writeFile(join(project, "example10.ts"), example);

      // Act
      await sh(project, join(BIN, "tsc"), [
        ...TSC_USER,
        ...TSC_NODE16,
        "example.mts",
        "example.cts",
      ]);
      await sh(project, join(BIN, "tsc"), [...TSC_USER, ...TSC_NODE10, "--noEmit", "example10.ts"]);
      const esm = await sh(project, process.execPath, ["example.mjs"]);
      const cjs = await sh(project, process.execPath, ["example.cjs"]);

      // Assess
      expect(esm.trim()).toBe("buildkite-0190a3c2-7d1e-4c55-9a7b-2f3c4d5e6f70");
      expect(cjs).toBe(esm);
    },
    BUDGET_MS,
  );
});

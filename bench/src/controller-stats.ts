import type { Target } from "./report.js";
import { type Figure, figure } from "./stats.js";

/**
 * The `controller` section's figures, made from what controller.ts measured: one
 * reconcile pass over N scheduled jobs with no Jobs yet, then passes with every Job there
 * (nothing to do), each against a bare paged list of the same Jobs in the same round; and
 * the `ondemand-eks controller` process's peak memory with the largest N in the cluster.
 *
 * @module
 */

/** Items per page of the controller's lists (ClusterApi's default). */
export const LIST_PAGE = 500;

/** What one pass cost: its time and the requests it sent to each API. */
export interface PassCost {
  readonly seconds: number;
  readonly stacks_calls: number;
  readonly kube_calls: number;
}

/** Everything measured at one number of scheduled jobs. */
export interface ControllerSize {
  readonly jobs: number;
  /** The pass that found every job without a Job. */
  readonly first_pass: PassCost & {
    readonly jobs_created: number;
    /** Kubernetes calls beyond one create per Job made: the lists. */
    readonly kube_calls_beyond_creates: number;
    readonly ms_per_job: number;
  };
  /** Passes that found every Job there, one per round. */
  readonly second_pass: {
    readonly seconds: Figure;
    readonly stacks_calls: Figure;
    readonly kube_calls: Figure;
    /** Requests two paged lists (Jobs, pods) per namespace need for these Jobs. */
    readonly list_pages: number;
    /** A bare `ClusterApi.list` of the same Jobs (every namespace, every page), per round. */
    readonly bare_list_seconds: Figure;
    /** The pass's seconds / the bare list's, per round. */
    readonly ratio_to_bare_list: Figure;
  };
}

export interface ControllerResults {
  readonly sizes: readonly ControllerSize[];
  readonly namespaces: readonly string[];
  /** Passes with nothing to do, per size. */
  readonly rounds: number;
  /** `ondemand-eks controller` as a process, with the largest size's Jobs in the cluster. */
  readonly process: {
    readonly jobs: number;
    readonly passes: number;
    /** Peak resident set (VmHWM), MiB, reaching the cluster as `auth` says. */
    readonly rss_mb: number;
    /**
     * How `rss_mb`'s process reached the cluster: `in-cluster` as deployed (its own
     * ServiceAccount's token), or `kubeconfig` (the admin's) where the bench cannot build a
     * pod's view; a kubeconfig loads client-node, about 50 MB more.
     */
    readonly auth: "in-cluster" | "kubeconfig";
    /** With `auth` in-cluster, the same process's peak by the admin kubeconfig, MiB. */
    readonly kubeconfig_rss_mb?: number;
  };
}

/** One measured pass with nothing to do, and the bare list beside it. */
export interface QuietRound {
  readonly pass: PassCost;
  readonly bareListSeconds: number;
}

/**
 * Requests for two paged lists (Jobs and pods) in each namespace: what a pass with
 * nothing to do needs. A namespace with no Jobs still costs a page of each.
 *
 * @example
 * listPages([10_000, 0]); // 2 * 20 + 2 * 1 = 42
 */
export function listPages(jobsPerNamespace: readonly number[], pods = 0): number {
  const pages = (items: number) => Math.max(1, Math.ceil(items / LIST_PAGE));
  return jobsPerNamespace.reduce((sum, jobs) => sum + pages(jobs) + pages(pods), 0);
}

/** The figures of one size from its first pass and its quiet rounds. */
export function controllerSize(
  jobs: number,
  first: PassCost & { jobsCreated: number },
  quiet: readonly QuietRound[],
  listPageCount: number,
): ControllerSize {
  const round = (value: number) => Math.round(value * 1000) / 1000;
  return {
    jobs,
    first_pass: {
      seconds: round(first.seconds),
      stacks_calls: first.stacks_calls,
      kube_calls: first.kube_calls,
      jobs_created: first.jobsCreated,
      kube_calls_beyond_creates: first.kube_calls - first.jobsCreated,
      ms_per_job: round((first.seconds * 1000) / jobs),
    },
    second_pass: {
      seconds: figure(quiet.map((q) => q.pass.seconds)),
      stacks_calls: figure(quiet.map((q) => q.pass.stacks_calls)),
      kube_calls: figure(quiet.map((q) => q.pass.kube_calls)),
      list_pages: listPageCount,
      bare_list_seconds: figure(quiet.map((q) => q.bareListSeconds)),
      ratio_to_bare_list: figure(quiet.map((q) => q.pass.seconds / q.bareListSeconds)),
    },
  };
}

/**
 * The issue's targets: a pass with nothing to do costs Kubernetes no more than its list
 * pages at every size, a first pass no more than one create per Job beyond them, and the
 * controller's process stays under 200 MB with the largest size's Jobs.
 */
export function controllerTargets(c: ControllerResults): Target[] {
  const checks: Target[] = [];
  for (const size of c.sizes) {
    const pages = size.second_pass.list_pages;
    const quiet = size.second_pass.kube_calls.max;
    checks.push({
      key: `controller.${size.jobs}.second_pass.kube_calls`,
      value: quiet,
      limit: `<= ${pages} (list pages)`,
      met: quiet <= pages,
    });
    const beyond = size.first_pass.kube_calls_beyond_creates;
    checks.push({
      key: `controller.${size.jobs}.first_pass.kube_calls_beyond_creates`,
      value: beyond,
      limit: `<= ${pages} (list pages)`,
      met: beyond <= pages && size.first_pass.jobs_created === size.jobs,
    });
  }
  checks.push({
    key: "controller.process.rss_mb",
    value: c.process.rss_mb,
    limit: "< 200",
    met: c.process.rss_mb < 200,
  });
  return checks;
}

const number = (value: number) =>
  Math.abs(value) >= 100
    ? value.toFixed(0)
    : Math.abs(value) >= 10
      ? value.toFixed(1)
      : value.toFixed(2);

const cell = (f: Figure) =>
  f.runs > 1 ? `${number(f.median)} (${number(f.min)}-${number(f.max)})` : number(f.median);

/** The section's rows, key and value, for its own table and the bench's. */
export function controllerRows(c: ControllerResults): [string, string][] {
  const rows: [string, string][] = [];
  for (const s of c.sizes) {
    const k = `controller.${s.jobs}`;
    const f = s.first_pass;
    const q = s.second_pass;
    rows.push(
      [
        `${k}.first_pass`,
        `${number(f.seconds)} s, ${number(f.ms_per_job)} ms/job; stacks ${f.stacks_calls}, kube ${f.kube_calls} (${f.kube_calls_beyond_creates} beyond ${f.jobs_created} creates)`,
      ],
      [
        `${k}.second_pass`,
        `${cell(q.seconds)} s; stacks ${cell(q.stacks_calls)}, kube ${cell(q.kube_calls)} (list pages ${q.list_pages})`,
      ],
      [
        `${k}.second_pass.ratio_to_bare_list`,
        `${cell(q.ratio_to_bare_list)} (bare list ${cell(q.bare_list_seconds)} s)`,
      ],
    );
  }
  const p = c.process;
  rows.push([
    "controller.process.rss_mb",
    `${number(p.rss_mb)} (${p.jobs} Jobs, ${p.passes} passes, ${p.auth})`,
  ]);
  if (p.kubeconfig_rss_mb !== undefined) {
    rows.push(["controller.process.kubeconfig_rss_mb", number(p.kubeconfig_rss_mb)]);
  }
  return rows;
}

/**
 * The `controller` section as plain text: its figures, then its targets.
 *
 * @example
 * process.stderr.write(controllerTable(results.controller));
 */
export function controllerTable(c: ControllerResults): string {
  const rows = controllerRows(c);
  const checks = controllerTargets(c);
  const width = Math.max(...rows.map(([key]) => key.length), ...checks.map((t) => t.key.length));
  return `${[
    `controller: one pass over N scheduled jobs without Jobs, then ${c.rounds} passes with every Job there; namespaces ${c.namespaces.join(", ")}`,
    ...rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`),
    "targets:",
    ...checks.map(
      (t) =>
        `${t.met ? "  met   " : "  MISSED"} ${t.key.padEnd(width)}  ${number(t.value)} ${t.limit}`,
    ),
  ].join("\n")}\n`;
}

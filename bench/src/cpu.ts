import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Clock ticks per second, the unit of /proc/<pid>/stat's CPU times. */
const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** User plus system CPU time a process has used so far, in milliseconds. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) are counted from its ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** The pid a testenv daemon recorded in `<dir>/pids/<name>.pid`. */
export function daemonPid(dir: string, name: string): number {
  return Number(readFileSync(join(dir, "pids", `${name}.pid`), "utf8").trim());
}

/**
 * CPU milliseconds per Job, by process, over a run of `jobs` Jobs: where a path's work
 * goes (this process, the adapter's, kube-apiserver, etcd, moto).
 */
export async function cpuPerJob(
  pids: Readonly<Record<string, number>>,
  jobs: number,
  run: () => Promise<void>,
): Promise<Record<string, number>> {
  const before = Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)] as const);
  await run();
  return Object.fromEntries(
    before.map(([name, start]) => [name, (cpuMs(pids[name] as number) - start) / jobs]),
  );
}

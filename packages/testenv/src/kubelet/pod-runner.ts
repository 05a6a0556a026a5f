import { randomUUID } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Container,
  type V1Pod,
} from "@kubernetes/client-node";
import { type ContainerProcess, startProcess } from "./container-process.js";
import {
  type ConfigSource,
  ContainerConfigError,
  expand,
  resolveEnvironment,
} from "./environment.js";
import { mapPaths, pathMap, prepareVolumes, rootfsDir } from "./filesystem.js";
import { describeImage, pullFailure } from "./images.js";
import {
  type ContainerKind,
  type ContainerRecord,
  exitOf,
  type PodRecord,
  statusOf,
} from "./pod-status.js";

/**
 * Runs one pod bound to a test node, as a kubelet would: volumes, then init containers in
 * order (native sidecars, `restartPolicy: Always`, start and keep running), then the main
 * containers; when the main containers have ended (restartPolicy Never), the sidecars are
 * stopped in reverse order and the pod ends Succeeded or Failed. Image pull failures and
 * missing configuration hold a container waiting with the kubelet's reasons. Every change
 * is written to the pod's status; a deleted pod is stopped within its grace period, and
 * then removed, as a kubelet confirms a graceful deletion.
 *
 * @module
 */

export interface PodRunnerContext {
  readonly core: CoreV1Api;
  readonly source: ConfigSource;
  /** The real buildkite-agent, standing for the agent image's binary. */
  readonly agentPath: string;
  /** The kubelet's directory: one directory per pod in it. */
  readonly dir: string;
  readonly unpullable?: (image: string) => boolean;
  readonly log: (line: string) => void;
}

/** When the kubelet saw the pod bound, and when it started each container (ms epoch). */
export interface PodTimes {
  readonly boundSeenAt: number;
  readonly started: Record<string, number>;
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
/** A service whose image cannot run here: idles, and stops cleanly on SIGTERM as servers do. */
const IDLE_STAND_IN = ["sh", "-c", "trap 'exit 0' TERM; sleep infinity & wait"];
/** The longest a stop waits before SIGKILL, whatever the pod's grace period says. */
const MAX_GRACE_MS = 10_000;

export class PodRunner {
  readonly times: PodTimes = { boundSeenAt: Date.now(), started: {} };
  private readonly record: PodRecord;
  private readonly processes = new Map<string, ContainerProcess>();
  private readonly oomKilled = new Set<string>();
  private readonly stop = new AbortController();
  private readonly endings = new Map<string, Promise<number>>();
  private silenced = false;
  private sidecarsStopping = false;
  private writes: Promise<void> = Promise.resolve();
  readonly podDir: string;

  constructor(
    private pod: V1Pod,
    private readonly context: PodRunnerContext,
  ) {
    // Short: the agent's job API socket lives under HOME, and a socket path has 108 bytes.
    this.podDir = join(context.dir, (pod.metadata?.uid ?? randomUUID()).slice(0, 8));
    const record = (c: V1Container, kind: ContainerKind): ContainerRecord => ({
      name: c.name,
      image: c.image ?? "",
      kind,
      state: { waiting: { reason: "PodInitializing" } },
      restartCount: 0,
    });
    this.record = {
      phase: "Pending",
      startTime: new Date(),
      sandboxReady: false,
      containers: [
        ...(pod.spec?.initContainers ?? []).map((c) =>
          record(c, c.restartPolicy === "Always" ? "sidecar" : "init"),
        ),
        ...(pod.spec?.containers ?? []).map((c) => record(c, "main")),
      ],
    };
  }

  get uid(): string | undefined {
    return this.pod.metadata?.uid;
  }

  get nodeName(): string | undefined {
    return this.pod.spec?.nodeName;
  }

  get key(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`;
  }

  /** The pod as last seen; a deletion starts the graceful stop. */
  update(pod: V1Pod): void {
    this.pod = pod;
    if (pod.metadata?.deletionTimestamp) void this.terminate();
  }

  /**
   * Runs the pod to its end (or until stopped). Never throws: an error the kubelet cannot
   * get past stops the pod's processes and fails it, rather than leaving it running.
   */
  async run(): Promise<void> {
    try {
      await this.lifecycle();
    } catch (error) {
      if (this.stop.signal.aborted) return;
      this.context.log(`${this.key}: ${String(error)}`);
      this.sidecarsStopping = true;
      this.stop.abort();
      await this.signalAll([...this.processes.keys()].reverse(), 0);
      this.record.message = String(error);
      await this.finish("Failed");
    }
  }

  /** Kills `container` as the kernel's OOM killer would; false if it is not running. */
  oomKill(container: string): boolean {
    const process = this.processes.get(container);
    if (!process) return false;
    this.oomKilled.add(container);
    process.signal("SIGKILL");
    return true;
  }

  /** Stops everything at once and writes nothing more (the node is gone, or the kubelet). */
  async abandon(): Promise<void> {
    this.killNow();
    await Promise.all([...this.processes.values()].map((p) => p.exited));
  }

  /** SIGKILL to every process at once, for a process about to exit; writes nothing more. */
  killNow(): void {
    this.silenced = true;
    this.sidecarsStopping = true;
    this.stop.abort();
    for (const process of this.processes.values()) process.signal("SIGKILL");
  }

  /** The output of `container` so far. */
  logOf(container: string): Promise<string> {
    return readFile(join(this.podDir, "logs", `${container}.log`), "utf8").catch(() => "");
  }

  private async lifecycle(): Promise<void> {
    const spec = this.pod.spec;
    await mkdir(join(this.podDir, "logs"), { recursive: true });
    await this.write();
    // A volume whose Secret or ConfigMap is missing holds the pod in ContainerCreating
    // (a real node says why in a FailedMount event).
    const volumes = await this.untilConfigured(
      this.record.containers,
      () => prepareVolumes(this.pod, this.podDir, this.context.source).then(() => true),
      "ContainerCreating",
    );
    if (!volumes) return;
    this.record.sandboxReady = true;
    for (const container of spec?.initContainers ?? []) {
      const record = this.recordOf(container.name);
      if (record.kind === "sidecar") {
        const started = await this.start(container, record);
        if (!started) return;
        this.keepRunning(container, record, started.ending).catch((error) =>
          this.context.log(`${this.key}/${container.name}: ${String(error)}`),
        );
        continue;
      }
      const exit = await this.runToEnd(container, record);
      if (exit === undefined) return;
      if (exit !== 0) {
        await this.stopSidecars();
        return this.finish("Failed");
      }
    }
    this.record.initialized = true;
    const mains = spec?.containers ?? [];
    const exits = await Promise.all(mains.map((c) => this.runToEnd(c, this.recordOf(c.name))));
    if (exits.some((exit) => exit === undefined) || this.stop.signal.aborted) return;
    await this.stopSidecars();
    await this.finish(exits.every((exit) => exit === 0) ? "Succeeded" : "Failed");
  }

  /** Restarts a native sidecar that ends while the pod runs, as its restartPolicy says. */
  private async keepRunning(
    container: V1Container,
    record: ContainerRecord,
    ending: Promise<number>,
  ) {
    for (let current: Promise<number> | undefined = ending; current; ) {
      await current;
      if (this.sidecarsStopping || this.stop.signal.aborted) return;
      record.lastState = record.state;
      record.restartCount++;
      if (!(await this.pause(1000)) || this.sidecarsStopping) return;
      current = (await this.start(container, record))?.ending;
    }
  }

  /** Starts a container and waits for its end; restarts it as the restart policy says. */
  private async runToEnd(container: V1Container, record: ContainerRecord) {
    // Init containers are retried on failure unless the pod never restarts anything.
    const podPolicy = this.pod.spec?.restartPolicy ?? "Always";
    const policy = record.kind === "main" || podPolicy === "Never" ? podPolicy : "OnFailure";
    for (;;) {
      const started = await this.start(container, record);
      if (!started) return undefined;
      const exitCode = await started.ending;
      const again = policy === "Always" || (policy === "OnFailure" && exitCode !== 0);
      if (!again || this.stop.signal.aborted) return exitCode;
      record.lastState = record.state;
      record.restartCount++;
      if (!(await this.pause(1000))) return undefined;
    }
  }

  /**
   * Pulls, configures and starts `container`; returns its exit code to come, or undefined
   * when the pod stopped first.
   */
  private async start(
    container: V1Container,
    record: ContainerRecord,
  ): Promise<{ ending: Promise<number> } | undefined> {
    if (!(await this.pulled(container, record))) return undefined;
    const image = describeImage(container.image ?? "", this.context.agentPath);
    const env = await this.untilConfigured(
      [record],
      () => resolveEnvironment(this.pod, container, this.context.source),
      "CreateContainerConfigError",
    );
    if (env === undefined) return undefined;
    const map = pathMap(this.podDir, container, image);
    const command = container.command ?? image.entrypoint;
    const args = container.args ?? (container.command ? [] : (image.cmd ?? []));
    const argv = command ? [...command, ...args].map((a) => expand(a, env)) : IDLE_STAND_IN;
    if (!command) this.context.log(`${this.key}/${container.name}: stands in as an idle process`);
    const rootfs = rootfsDir(this.podDir, container.name);
    for (const dir of image.dirs ?? []) await mkdir(join(rootfs, dir), { recursive: true });
    await mkdir(rootfs, { recursive: true });
    const mapped = Object.fromEntries(
      Object.entries({ ...image.env, ...env }).map(([k, v]) => [
        k,
        mapPaths([v], map)[0] as string,
      ]),
    );
    // Stopped while it was being prepared: a stopped pod starts nothing.
    const sidecarLate = record.kind === "sidecar" && this.sidecarsStopping;
    if (this.stop.signal.aborted || sidecarLate) return undefined;
    const process = startProcess(mapPaths(argv, map), {
      env: {
        PATH: globalThis.process.env.PATH ?? "",
        HOSTNAME: this.pod.metadata?.name ?? "",
        HOME: rootfs,
        ...mapped,
      },
      cwd: container.workingDir ? map(container.workingDir) : rootfs,
      logFile: join(this.podDir, "logs", `${container.name}.log`),
    });
    this.processes.set(container.name, process);
    const ending = this.ended(process, record);
    this.endings.set(container.name, ending);
    record.containerID = `testenv://${randomUUID()}`;
    record.state = { running: { startedAt: new Date() } };
    this.times.started[container.name] ??= Date.now();
    if (this.record.phase === "Pending" && record.kind === "main") this.record.phase = "Running";
    await this.write();
    return { ending };
  }

  /** Waits for `process` to end and records how; returns its exit code. */
  private async ended(process: ContainerProcess, record: ContainerRecord): Promise<number> {
    const exit = await process.exited;
    this.processes.delete(record.name);
    const startedAt = "running" in record.state ? record.state.running.startedAt : undefined;
    const { exitCode, reason } = exit.startError
      ? { exitCode: 128, reason: "StartError" }
      : exitOf(exit.code, exit.signal, this.oomKilled.has(record.name));
    record.state = {
      terminated: { exitCode, reason, message: exit.startError, startedAt, finishedAt: new Date() },
    };
    if (!this.silenced) await this.write();
    return exitCode;
  }

  /** Holds the container in an image pull failure for as long as the pod lives. */
  private async pulled(container: V1Container, record: ContainerRecord): Promise<boolean> {
    const failure = pullFailure(container.image ?? "", this.context.unpullable);
    if (!failure) return true;
    const backOff = `Back-off pulling image "${container.image}"`;
    for (let delay = 1000; ; delay = Math.min(delay * 2, 10_000)) {
      record.state = { waiting: failure };
      await this.write();
      if (failure.reason === "InvalidImageName") return this.pause(Number.POSITIVE_INFINITY);
      if (!(await this.pause(1000))) return false;
      record.state = { waiting: { reason: "ImagePullBackOff", message: backOff } };
      await this.write();
      if (!(await this.pause(delay))) return false;
    }
  }

  /**
   * Retries `step` each second while the configuration it needs is missing (`records`
   * then wait with `reason`) or the API server cannot be read; undefined once stopped.
   */
  private async untilConfigured<T>(
    records: readonly ContainerRecord[],
    step: () => Promise<T>,
    reason: string,
  ): Promise<T | undefined> {
    for (;;) {
      if (this.stop.signal.aborted) return undefined;
      try {
        return await step();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof ContainerConfigError) {
          for (const record of records) record.state = { waiting: { reason, message } };
          await this.write();
        } else {
          this.context.log(`${this.key}: ${message}; trying again`);
        }
        if (!(await this.pause(1000))) return undefined;
      }
    }
  }

  /** The graceful stop of a deleted pod: SIGTERM, SIGKILL after the grace, then removal. */
  private async terminate(): Promise<void> {
    if (this.stop.signal.aborted) return;
    this.stop.abort();
    const seconds =
      this.pod.metadata?.deletionGracePeriodSeconds ??
      this.pod.spec?.terminationGracePeriodSeconds ??
      30;
    const grace = seconds * 1000;
    await this.signalAll([...this.processes.keys()].reverse(), Math.min(grace, MAX_GRACE_MS));
    const terminal = this.record.phase === "Succeeded" || this.record.phase === "Failed";
    const succeeded = this.mains().every(
      (c) => "terminated" in c.state && c.state.terminated.exitCode === 0,
    );
    if (!terminal) await this.finish(succeeded ? "Succeeded" : "Failed");
    await this.writes;
    const { name = "", namespace = "" } = this.pod.metadata ?? {};
    await this.context.core
      .deleteNamespacedPod({
        name,
        namespace,
        // In the body: the API server reads the query's options only when there is none.
        body: { gracePeriodSeconds: 0, preconditions: { uid: this.pod.metadata?.uid } },
      })
      .catch((error) => this.context.log(`${this.key}: deletion not confirmed: ${String(error)}`));
  }

  private async stopSidecars(): Promise<void> {
    this.sidecarsStopping = true;
    const sidecars = this.record.containers.filter((c) => c.kind === "sidecar").reverse();
    for (const sidecar of sidecars) await this.signalAll([sidecar.name], MAX_GRACE_MS);
  }

  /** SIGTERM to each named container, SIGKILL to any still running after `graceMs`. */
  private async signalAll(names: string[], graceMs: number): Promise<void> {
    const running = names.flatMap((name) => {
      const process = this.processes.get(name);
      return process ? [{ process, ending: this.endings.get(name) }] : [];
    });
    for (const { process } of running) process.signal("SIGTERM");
    const killer = setTimeout(() => {
      for (const { process } of running) process.signal("SIGKILL");
    }, graceMs);
    await Promise.all(running.map(({ ending }) => ending));
    clearTimeout(killer);
  }

  private async finish(phase: "Succeeded" | "Failed"): Promise<void> {
    this.record.phase = phase;
    await this.write();
  }

  /** Sleeps unless the pod stops first; false when it stopped. */
  private async pause(ms: number): Promise<boolean> {
    try {
      await sleep(Math.min(ms, 2 ** 31 - 1), undefined, { signal: this.stop.signal });
      return true;
    } catch {
      return false;
    }
  }

  private mains(): ContainerRecord[] {
    return this.record.containers.filter((c) => c.kind === "main");
  }

  private recordOf(name: string): ContainerRecord {
    const record = this.record.containers.find((c) => c.name === name);
    if (!record) throw new Error(`${this.key}: no container ${name}`);
    return record;
  }

  /** Writes the current status after the writes before it; a lost pod ends the runner. */
  private write(): Promise<void> {
    if (this.silenced) return this.writes;
    const { name = "", namespace = "" } = this.pod.metadata ?? {};
    this.writes = this.writes.then(async () => {
      if (this.silenced) return;
      try {
        await this.context.core.patchNamespacedPodStatus(
          {
            name,
            namespace,
            // The uid makes the patch fail on a pod re-created under the same name.
            body: {
              metadata: { uid: this.pod.metadata?.uid },
              status: statusOf(this.pod, this.record),
            },
          },
          mergePatch,
        );
      } catch (error) {
        const code = (error as { code?: number }).code;
        if (code === 404 || code === 409) void this.abandon();
        else this.context.log(`${this.key}: status not written: ${String(error)}`);
      }
    });
    return this.writes;
  }
}

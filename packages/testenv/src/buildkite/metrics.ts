import { stateOf } from "./emulated-job.js";
import { queueOf } from "./matching.js";
import { type Route, route } from "./router.js";
import { currentJobOf, type EmulatorState } from "./state.js";

/**
 * Queue metrics (`GET /v3/metrics`, `GET /v3/metrics/queue?name=Q`, agent token), in the
 * shape buildkite-agent-metrics decodes (`collector/collector.go`: `agents` and `jobs`
 * counts, totals and per queue, `organization.slug`, `cluster.name`).
 *
 * Jobs: `scheduled` counts scheduled and reserved jobs, `running` those an agent holds
 * (assigned, accepted, running, canceling), `waiting` is always 0 (the emulator has no
 * dependencies), `total` is their sum. Agents: connected ones, `busy` when holding a job.
 */

interface JobCounts {
  scheduled: number;
  running: number;
  waiting: number;
  total: number;
}

interface AgentCounts {
  idle: number;
  busy: number;
  total: number;
}

const noJobs = (): JobCounts => ({ scheduled: 0, running: 0, waiting: 0, total: 0 });
const noAgents = (): AgentCounts => ({ idle: 0, busy: 0, total: 0 });

/** The counts of `queue` in `queues`, made empty on first use. */
function bucket<T>(queues: Record<string, T>, queue: string, empty: () => T): T {
  const counts = queues[queue] ?? empty();
  queues[queue] = counts;
  return counts;
}

/** Counts every unfinished job and connected agent, in all and by queue. */
export function countQueues(state: EmulatorState) {
  const jobs = { ...noJobs(), queues: {} as Record<string, JobCounts> };
  const agents = { ...noAgents(), queues: {} as Record<string, AgentCounts> };
  const now = state.now();
  for (const job of state.jobs.values()) {
    const current = stateOf(job, now);
    const kind = current === "scheduled" || current === "reserved" ? "scheduled" : "running";
    if (current === "finished" || current === "canceled") continue;
    const queue = queueOf(job.agentQueryRules);
    const counts = bucket(jobs.queues, queue, noJobs);
    for (const target of [jobs, counts]) {
      target[kind] += 1;
      target.total += 1;
    }
  }
  for (const agent of state.agents.values()) {
    if (!agent.connected) continue;
    const kind = currentJobOf(state, agent) ? "busy" : "idle";
    const counts = bucket(agents.queues, queueOf(agent.tags), noAgents);
    for (const target of [agents, counts]) {
      target[kind] += 1;
      target.total += 1;
    }
  }
  return { jobs, agents };
}

/**
 * The metrics routes over `state`.
 *
 * @example
 * // curl -H "Authorization: Token $AGENT_TOKEN" http://127.0.0.1:PORT/v3/metrics
 * // {"agents":{"idle":1,"busy":0,"total":1,"queues":{"linux":{...}}},"jobs":{...},...}
 */
export function metricsRoutes(state: EmulatorState): Route[] {
  const identity = () => ({
    organization: { slug: state.organization.slug },
    cluster: { name: state.organization.clusterName },
  });
  return [
    route("GET metrics", "registration", ({ answer }) =>
      answer(200, { ...countQueues(state), ...identity() }),
    ),
    route("GET metrics/queue", "registration", ({ url, answer }) => {
      const name = url.searchParams.get("name") ?? "default";
      const { jobs, agents } = countQueues(state);
      answer(200, {
        jobs: jobs.queues[name] ?? noJobs(),
        agents: agents.queues[name] ?? noAgents(),
        ...identity(),
      });
    }),
  ];
}

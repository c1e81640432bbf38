/**
 * One worker kind of the soak on a host of its own (a network namespace of
 * test/support/netns-lab.ts), so the cut-worker-network fault can pull its cable.
 *
 * Which kind: the media worker. It is the one whose loss has the most to get wrong: it runs
 * ffmpeg (which must not outlive an attempt that was failed while it was cut off), it holds the
 * liveness lease in PostgreSQL that the pipeline worker's watchdog fails its attempts by, it
 * heartbeats every second, and it downloads URL sources. The AI worker's cut is a subset of
 * this: a request in flight is lost, which ai-hang already covers on the provider's side.
 *
 * How the host reaches the stack: everything the stack runs listens on the root namespace's
 * loopback (Temporal, PostgreSQL, the AI fault server, the source server; MinIO when the stack
 * uses it). Each such endpoint gets a proxy on the lab's gateway (test/support/tcp-proxy.ts),
 * and inside the host one small forwarder process listens on the host's own loopback at the
 * endpoint's port and forwards to the gateway proxy. So the worker keeps every address it
 * was given (127.0.0.1:<port>, including the URL sources' URLs, which the runner built
 * before it knew of any lab), and all of its traffic crosses the host's veth, which a cut takes
 * down (silent loss, like a pulled cable: TCP retransmits until the heal).
 */
import type { ChildProcess } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import type { QueueRole } from '../../src/pipeline/catalogue';
import { createLab, labUnavailable, type Lab } from '../../test/support/netns-lab';
import { sleep } from '../../test/support/ops';
import { startTcpProxy, type TcpProxy } from '../../test/support/tcp-proxy';

/** The worker kind the lab host runs (see the header for why). */
export const LAB_ROLE: QueueRole = 'media';
const HOST = 'w';

export interface WorkerHost {
  /** The kind that runs in the host; undefined when there is no host (then `problem` says why). */
  readonly role: QueueRole | undefined;
  /** Why the host could not be made (not root, no `ip`, …): the cut is then not injected. */
  readonly problem: string | undefined;
  /** One line for the run's log: where the host's worker runs and what it reaches. */
  readonly description: string;
  /** The command prefix a process of `role` starts under (`ip netns exec <ns>`); undefined for the others. */
  wrap(role: QueueRole): string[] | undefined;
  cut(): void;
  heal(): void;
  /** Heals, stops the forwarder and the gateway proxies and removes the lab (after the workers are down). */
  stop(): Promise<void>;
  /** Synchronous last resort (hard cap, Ctrl-C): SIGKILL to the forwarder, the lab removed. */
  killNow(): void;
}

/**
 * The loopback ports the host must reach, from the endpoints' addresses or URLs
 * ("127.0.0.1:7233", "http://127.0.0.1:9000/v1", "postgres://u:p@127.0.0.1:5433/db"), each once.
 * Anything that is not on loopback is refused: the host reaches nothing but the lab.
 */
export function loopbackPorts(endpoints: readonly string[]): number[] {
  const ports = new Set<number>();
  for (const e of endpoints) {
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(e) ? e : `tcp://${e}`);
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : NaN));
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
      throw new Error(`${e}: only loopback endpoints can be forwarded into the lab host`);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`${e}: no port`);
    ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

/**
 * The forwarder that runs inside the host (`node -e`, so it needs no build): argv[1] is
 * [[loopbackPort, gatewayHost, gatewayPort], …]; it listens on the host's 127.0.0.1 and ::1 at
 * each loopback port and pipes every connection to the gateway.
 */
const FORWARDER = `
const net = require('node:net');
const routes = JSON.parse(process.argv[1]);
// The runner SIGKILLed (the one thing its cleanup cannot cover): go too, rather than live on in the host.
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 1000);
let pending = routes.length;
for (const [port, gwHost, gwPort] of routes) {
  const serve = (host, required) => {
    const s = net.createServer((c) => {
      const up = net.connect(gwPort, gwHost);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
      c.pipe(up).pipe(c);
    });
    s.once('error', (err) => { if (required) { console.error(String(err)); process.exit(1); } });
    s.listen(port, host, () => { if (required && --pending === 0) console.log('forwarding'); });
  };
  serve('127.0.0.1', true);
  serve('::1', false);
}
`;

const noHost = (problem: string): WorkerHost => ({
  role: undefined,
  problem,
  description: `every worker on the host network (no lab host: ${problem})`,
  wrap: () => undefined,
  cut: () => undefined,
  heal: () => undefined,
  stop: async () => undefined,
  killNow: () => undefined,
});

/** Makes the lab host for `role`, reaching `endpoints` through the gateway; a host-less stand-in (with `problem`) when no lab can be made. */
export async function startWorkerHost(o: { role?: QueueRole; endpoints: readonly string[] }): Promise<WorkerHost> {
  const why = labUnavailable();
  if (why) return noHost(why);
  const role = o.role ?? LAB_ROLE;
  const ports = loopbackPorts(o.endpoints);
  let lab: Lab;
  try {
    lab = createLab([HOST]);
  } catch (err) {
    return noHost(`the lab host could not be made: ${(err as Error).message.split('\n')[0]}`);
  }
  const proxies: TcpProxy[] = [];
  let forwarder: ChildProcess | undefined;
  const kill = () => {
    try {
      forwarder?.kill('SIGKILL');
    } catch {
      // gone already
    }
  };
  try {
    const routes: [number, string, number][] = [];
    for (const port of ports) {
      const proxy = await startTcpProxy({ host: '127.0.0.1', port }, lab.gateway);
      proxies.push(proxy);
      routes.push([port, lab.gateway, proxy.port]);
    }
    const child = lab.spawn(HOST, process.execPath, ['-e', FORWARDER, JSON.stringify(routes)], { stdio: ['ignore', 'pipe', 'pipe'] });
    forwarder = child;
    let said = '';
    child.stdout?.on('data', (c: Buffer) => (said += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (said += c.toString()));
    for (const until = Date.now() + 15_000; !said.includes('forwarding');) {
      if (child.exitCode !== null || Date.now() > until) throw new Error(`the lab host's forwarder did not start: ${said.trim()}`);
      await sleep(50);
    }
  } catch (err) {
    kill();
    for (const p of proxies) await p.close();
    lab.destroy();
    throw err;
  }
  return {
    role,
    problem: undefined,
    description: `the ${role} worker in lab host ${lab.host(HOST).ns} (${lab.host(HOST).address}), reaching loopback ports ${ports.join(', ')} through the gateway ${lab.gateway}`,
    wrap: (r) => (r === role ? ['ip', 'netns', 'exec', lab.host(HOST).ns] : undefined),
    cut: () => lab.cut(HOST),
    heal: () => lab.heal(HOST),
    async stop() {
      kill();
      for (const p of proxies) await p.close();
      lab.destroy();
    },
    killNow() {
      kill();
      lab.destroy();
    },
  };
}

/** One poller of a queue as DescribeTaskQueue reports it. */
export interface PollerSeen {
  identity?: string | null;
  lastAccessTime?: { seconds?: number | string | { toString(): string } | null; nanos?: number | null } | null;
}

/**
 * When (ms since the epoch) the worker process `pid` was first seen polling at or after `sinceMs`,
 * from the pollers of its queue (identities end in `:<pid>`: src/workers/run-worker.ts); undefined
 * when it was not.
 */
export function polledSince(pollers: readonly PollerSeen[], pid: number, sinceMs: number): number | undefined {
  let first: number | undefined;
  for (const p of pollers) {
    if (!p.identity?.endsWith(`:${pid}`) || !p.lastAccessTime) continue;
    const ms = Number(String(p.lastAccessTime.seconds ?? 0)) * 1000 + Math.floor((p.lastAccessTime.nanos ?? 0) / 1e6);
    if (ms >= sinceMs && (first === undefined || ms < first)) first = ms;
  }
  return first;
}

/**
 * Waits (up to `timeoutMs`) until the worker process `pid` polls `queue` again after `sinceMs`:
 * the observable of a healed host's worker being back at work (the matching service stamps a
 * poller's last access when its poll arrives, and an idle worker polls at least every 5 s, the
 * soak's long-poll expiry). Resolves to the server's time of that poll, or undefined.
 */
export async function waitForPoll(
  client: Client,
  queue: string,
  pid: number,
  sinceMs: number,
  timeoutMs: number,
): Promise<number | undefined> {
  for (const until = Date.now() + timeoutMs; Date.now() < until;) {
    const res = await client.workflowService
      .describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: queue },
        taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      })
      .catch(() => undefined); // Temporal restarting (another fault): ask again
    const at = res ? polledSince(res.pollers ?? [], pid, sinceMs) : undefined;
    if (at !== undefined) return at;
    await sleep(250);
  }
  return undefined;
}

import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alive } from '../../src/media/work-area';

/**
 * Separate "hosts" on one machine for multi-host tests: each host is a Linux network namespace
 * with its own private data dir, joined to a bridge in the root namespace by a veth pair. The
 * bridge's address is the gateway: host A (the test process: Temporal, PostgreSQL, MinIO, reached
 * through proxies listening on the gateway) is the root namespace. Nothing else is shared.
 *
 * Traffic stays inside the lab: the bridge gets its address before any traffic and `ip route get`
 * must name it (an address no device carries would leave by the machine's default route); the
 * hosts get no default route at all, so they reach the gateway, each other and their own loopback
 * and nothing more. A cut is the host's bridge port going down (silent loss, like a pulled cable).
 * `destroy` removes every namespace, veth and dir the lab made, also after a failed test; a lab
 * left by a killed run (its owner pid gone) is removed by the next one.
 */
export interface LabHost {
  readonly name: string;
  readonly ns: string;
  readonly address: string;
  /** The host's private data dir (BIBLIO_DATA_DIR of whatever runs there). */
  readonly dataDir: string;
}

export interface Lab {
  /** Where host A's services listen for the other hosts (the bridge's address). */
  readonly gateway: string;
  readonly hosts: ReadonlyMap<string, LabHost>;
  host(name: string): LabHost;
  /** A process inside the host's namespace (`ip netns exec` execs it: the pid is the command's). */
  spawn(host: string, command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command inside the host's namespace and returns its output (async: host A's servers live in this process). */
  exec(host: string, command: string, args: string[]): Promise<string>;
  /** Partition: the host's bridge port goes down; packets to and from it are lost. */
  cut(host: string): void;
  heal(host: string): void;
  destroy(): void;
}

const PREFIX = 'bl';
let labCount = 0;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why a lab cannot be made here (not root, no `ip`), or undefined when it can. */
export function labUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    ip('netns', 'list');
  } catch {
    return 'the `ip` tool (iproute2) is missing';
  }
  return undefined;
}

/** Namespaces and bridges of earlier labs whose test process is gone. */
export function sweepDeadLabs(): string[] {
  const removed: string[] = [];
  const owner = (name: string) => Number(new RegExp(`^${PREFIX}(\\d+)l`).exec(name)?.[1] ?? NaN);
  for (const line of ip('netns', 'list').split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const pid = owner(ns);
    if (Number.isFinite(pid) && !alive(pid)) {
      ip('netns', 'del', ns);
      removed.push(ns);
    }
  }
  for (const line of ip('-o', 'link', 'show', 'type', 'bridge').split('\n')) {
    const dev = /^\d+:\s+([^:@]+)/.exec(line)?.[1] ?? '';
    const pid = owner(dev);
    if (Number.isFinite(pid) && !alive(pid)) {
      ip('link', 'del', dev);
      removed.push(dev);
    }
  }
  return removed;
}

/** A /24 in 10.213–10.222 that no device of this machine carries, chosen from the pid. */
function freeSubnet(): string {
  const used = ip('-4', '-o', 'addr', 'show');
  for (let i = 0; i < 250; i += 1) {
    const third = (process.pid + i) % 250;
    const net = `10.${213 + (i % 10)}.${third}`;
    if (!used.includes(` ${net}.`)) return net;
  }
  throw new Error('no free 10.213–10.222 /24 for the lab');
}

export function createLab(hostNames: string[]): Lab {
  const why = labUnavailable();
  if (why) throw new Error(`cannot build a multi-host lab: ${why}`);
  if (hostNames.length > 200) throw new Error('at most 200 hosts');
  sweepDeadLabs();
  labCount += 1;
  // Interface names stop at 15 characters: bl<pid>l<n>h<i> fits.
  const id = `${PREFIX}${process.pid}l${labCount}`;
  const bridge = `${id}br`;
  const net = freeSubnet();
  const gateway = `${net}.1`;
  const root = path.join(os.tmpdir(), `biblio-lab-${id}`);
  const hosts = new Map<string, LabHost & { hostVeth: string }>();
  const made: (() => void)[] = [];

  const destroy = () => {
    for (const undo of made.reverse()) {
      try {
        undo();
      } catch {
        // Already gone (a namespace takes its veth pair with it).
      }
    }
    made.length = 0;
  };

  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    made.push(() => ip('link', 'del', bridge));
    ip('addr', 'add', `${gateway}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    const route = ip('route', 'get', `${net}.2`);
    if (!route.includes(`dev ${bridge}`)) throw new Error(`lab traffic would not stay on ${bridge}: ${route.trim()}`);
    mkdirSync(root, { recursive: true });
    made.push(() => rmSync(root, { recursive: true, force: true }));

    hostNames.forEach((name, i) => {
      const ns = `${id}${name}`;
      const hostVeth = `${id}h${i}`;
      const nsVeth = `${id}n${i}`;
      const address = `${net}.${i + 2}`;
      ip('netns', 'add', ns);
      made.push(() => ip('netns', 'del', ns));
      ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', nsVeth);
      made.push(() => ip('link', 'del', hostVeth));
      ip('link', 'set', nsVeth, 'netns', ns);
      ip('link', 'set', hostVeth, 'master', bridge);
      ip('link', 'set', hostVeth, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', nsVeth);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', nsVeth, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      const inside = ip('netns', 'exec', ns, 'ip', 'route', 'get', gateway);
      if (!inside.includes(`dev ${nsVeth}`)) throw new Error(`host ${name} would not reach the gateway on its veth: ${inside.trim()}`);
      const dataDir = path.join(root, name);
      mkdirSync(dataDir, { recursive: true });
      hosts.set(name, { name, ns, address, dataDir, hostVeth });
    });
  } catch (err) {
    destroy();
    throw err;
  }

  const host = (name: string) => {
    const h = hosts.get(name);
    if (!h) throw new Error(`no host ${name} in this lab`);
    return h;
  };
  return {
    gateway,
    hosts,
    host,
    spawn: (name, command, args, options = {}) => spawn('ip', ['netns', 'exec', host(name).ns, command, ...args], options),
    exec: (name, command, args) =>
      new Promise((resolve, reject) =>
        execFile('ip', ['netns', 'exec', host(name).ns, command, ...args], { encoding: 'utf8' }, (err, out, errOut) =>
          err ? reject(new Error(`${command} on host ${name}: ${err.message} ${errOut}`)) : resolve(out),
        ),
      ),
    cut: (name) => void ip('link', 'set', host(name).hostVeth, 'down'),
    heal: (name) => void ip('link', 'set', host(name).hostVeth, 'up'),
    destroy,
  };
}

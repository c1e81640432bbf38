import childProcess from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type * as TemporalTesting from '@temporalio/testing';
import type * as TemporalWorker from '@temporalio/worker';

/**
 * The unit layer runs on Node alone. A unit test that reached PostgreSQL, a Temporal server or
 * another program (ffmpeg, docker-compose, the Temporal CLI) would pass or fail by what the
 * machine happens to run, and would make `npm run test:unit` slow; here it fails instead, naming
 * what it tried, even when the code under test swallows the error. Servers the tests start
 * themselves (HTTP fakes, closed-port probes) stay reachable.
 */

// A hung unit test is a bug: say so in seconds, not after the real-stack layers' two minutes.
jest.setTimeout(10_000);

const violations: string[] = [];

function refuse(what: string): Error {
  const message = `a unit test ${what}: the unit layer runs on Node alone; move the test to test/integration or split off its pure part`;
  violations.push(message);
  return new Error(message);
}

// Ports and socket paths of servers the unit layer listened on, kept after they close so a test
// may also probe a port it has just closed. Kept per process, not per file: Node's global HTTP
// agent is one per process, and a request an earlier file left queued reconnects during a later one.
// (jest gives each file its own `process` object; the net module is the process's own.)
const OWN_ENDPOINTS = Symbol.for('biblio.unitLayer.ownEndpoints');
const netModule = net as typeof net & { [OWN_ENDPOINTS]?: Set<string> };
const ownEndpoints = (netModule[OWN_ENDPOINTS] ??= new Set<string>());

type Restore = () => void;
const restores: Restore[] = [];

function replace<T extends object, K extends keyof T>(target: T, key: K, make: (original: T[K]) => T[K]): void {
  const original = target[key];
  target[key] = make(original);
  restores.push(() => {
    target[key] = original;
  });
}

function isNode(file: unknown): boolean {
  return typeof file === 'string' && (file === process.execPath || path.basename(file) === 'node');
}

// Every way to start a program, except Node itself.
for (const fn of ['spawn', 'spawnSync', 'execFile', 'execFileSync'] as const) {
  replace(
    childProcess,
    fn,
    (original) =>
      function (this: unknown, file: unknown, ...rest: unknown[]) {
        const options = rest.find((a) => a !== null && typeof a === 'object' && !Array.isArray(a)) as { shell?: unknown } | undefined;
        if (!isNode(file) || options?.shell) throw refuse(`started the program '${String(file)}' (child_process.${fn})`);
        return (original as (...args: unknown[]) => unknown).call(this, file, ...rest);
      } as never,
  );
}
for (const fn of ['exec', 'execSync'] as const) {
  replace(
    childProcess,
    fn,
    () =>
      ((command: unknown) => {
        throw refuse(`ran the shell command '${String(command)}' (child_process.${fn})`);
      }) as never,
  );
}

replace(
  net.Server.prototype,
  'listen',
  (original) =>
    function (this: net.Server, ...args: unknown[]) {
      this.once('listening', () => {
        const address = this.address();
        if (address !== null) ownEndpoints.add(typeof address === 'string' ? address : String(address.port));
      });
      return (original as (...a: unknown[]) => net.Server).apply(this, args);
    } as never,
);

/** Where a Socket.connect call goes: a port (with its host) or a socket path. */
function endpointOf(args: unknown[]): { key: string; label: string } {
  // net.connect() hands Socket.connect its arguments already normalised, as one array.
  const first = Array.isArray(args[0]) ? (args[0][0] as unknown) : args[0];
  if (first !== null && typeof first === 'object') {
    const o = first as { port?: unknown; host?: unknown; path?: unknown };
    if (typeof o.path === 'string') return { key: o.path, label: o.path };
    return { key: String(o.port), label: `${typeof o.host === 'string' ? o.host : 'localhost'}:${String(o.port)}` };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { key: first, label: first };
  return { key: String(first), label: `${typeof args[1] === 'string' ? args[1] : 'localhost'}:${String(first)}` };
}

// PostgreSQL, the Temporal client's gRPC, S3, Redis, fetch(): every TCP or Unix-socket connection
// made from JavaScript goes through Socket.prototype.connect.
replace(
  net.Socket.prototype,
  'connect',
  (original) =>
    function (this: net.Socket, ...args: unknown[]) {
      const { key, label } = endpointOf(args);
      if (ownEndpoints.has(key)) return (original as (...a: unknown[]) => net.Socket).apply(this, args);
      const err = refuse(`connected to ${label}, which no server of the unit tests listens on (PostgreSQL? Temporal? the network?)`);
      process.nextTick(() => this.destroy(err));
      return this;
    } as never,
);

// The Rust side of the SDK starts servers and connects without passing through Node's net module.
function refusingStatics<T extends object>(cls: T, refusals: Record<string, string>): T {
  return new Proxy(cls, {
    get(target, key, receiver) {
      const what = typeof key === 'string' && Object.hasOwn(refusals, key) ? refusals[key] : undefined;
      if (what === undefined) return Reflect.get(target, key, receiver) as unknown;
      return async () => {
        throw refuse(what);
      };
    },
  });
}
jest.mock('@temporalio/testing', () => {
  const actual = jest.requireActual<typeof TemporalTesting>('@temporalio/testing');
  const TestWorkflowEnvironment = refusingStatics(actual.TestWorkflowEnvironment, {
    createLocal: 'started a Temporal dev server (TestWorkflowEnvironment.createLocal)',
    createTimeSkipping: 'started a Temporal test server (TestWorkflowEnvironment.createTimeSkipping)',
    createFromExistingServer: 'connected to a Temporal server (TestWorkflowEnvironment.createFromExistingServer)',
  });
  return { __esModule: true, ...actual, TestWorkflowEnvironment };
});
jest.mock('@temporalio/worker', () => {
  const actual = jest.requireActual<typeof TemporalWorker>('@temporalio/worker');
  const NativeConnection = refusingStatics(actual.NativeConnection, {
    connect: 'connected to a Temporal server (NativeConnection.connect)',
  });
  return { __esModule: true, ...actual, NativeConnection };
});

/** What the guard refused since the last call (for its own test, test/unit/unit-layer.test.ts). */
export function takeViolations(): string[] {
  return violations.splice(0);
}

afterEach(() => {
  // Reported here too, because the code under test may catch the error and carry on.
  const found = takeViolations();
  if (found.length) throw new Error(found.join('\n'));
});

afterAll(() => {
  // npm test runs every layer in one process: the real-stack layers must get the real modules back.
  for (const restore of restores.splice(0).reverse()) restore();
});

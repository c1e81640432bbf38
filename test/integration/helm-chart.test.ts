import { readFileSync } from 'node:fs';
import path from 'node:path';
import { QUEUE_ROLES, WORKERS } from '../../src/pipeline/catalogue';
import { VARIABLE_NAMES } from '../../src/config/schema';
import { CHART, helm, render, type Manifest } from '../support/helm';

// deploy/helm/biblio rendered and linted by Helm v4 itself (scripts/ensure-helm.sh); no cluster
// is needed for either. The catalogue is the source of truth: a new worker kind fails here until
// the chart deploys it and scales it on its own queue.

const ROOT = path.resolve(__dirname, '..', '..');
const SHARED = [
  '--set',
  'secrets.payloadKey=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
  '--set',
  'secrets.sourceUrlKey=ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=',
  '--set',
  'secrets.databaseUrl=postgres://biblio:pw@postgres:5432/biblio',
];
const CLOUD = ['-f', path.join(CHART, 'values-temporal-cloud.yaml')];

interface Container {
  name: string;
  command: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  resources?: { requests?: { cpu?: string; memory?: string } };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  containers: Container[];
}
const podOf = (d: Manifest) => (d.spec as { template: { spec: PodSpec } }).template.spec;
const only = <T>(xs: T[], what: string): T => {
  if (xs.length !== 1) throw new Error(`expected one ${what}, found ${xs.length}`);
  return xs[0]!;
};
const byKind = (docs: Manifest[], kind: string) => docs.filter((d) => d.kind === kind);
const deploymentRunning = (docs: Manifest[], entry: string) =>
  only(
    byKind(docs, 'Deployment').filter((d) => podOf(d).containers[0]?.command.join(' ') === `node dist/${entry}`),
    `Deployment running dist/${entry}`,
  );

test('helm lint passes with the shared secrets, with and without the Temporal Cloud values', () => {
  for (const extra of [[], CLOUD]) {
    const r = helm(['lint', '--strict', CHART, ...SHARED, ...extra]);
    expect({ extra, status: r.status, out: r.status === 0 ? '' : r.stdout + r.stderr }).toEqual({ extra, status: 0, out: '' });
  }
});

describe('rendered with the shared secrets', () => {
  let docs: Manifest[];
  beforeAll(() => {
    docs = render(SHARED);
  });

  test('one Deployment for the API and one per worker kind of the catalogue, nothing else', () => {
    const deployments = byKind(docs, 'Deployment');
    expect(deployments).toHaveLength(QUEUE_ROLES.length + 1);
    deploymentRunning(docs, 'api/main.js');
    for (const role of QUEUE_ROLES)
      expect(deploymentRunning(docs, WORKERS[role].entry).metadata.name).toBe(`biblio-${WORKERS[role].composeService}`);
    const service = only(byKind(docs, 'Service'), 'Service');
    expect((service.spec as { selector: Record<string, string> }).selector['app.kubernetes.io/component']).toBe('api');
  });

  test('every container has /healthz liveness, /readyz readiness on a port it exposes, and CPU and memory requests', () => {
    for (const d of byKind(docs, 'Deployment')) {
      const c = only(podOf(d).containers, `container of ${d.metadata.name}`);
      const ports = (c.ports ?? []).map((p) => p.name);
      expect({ name: d.metadata.name, live: c.livenessProbe?.httpGet?.path, ready: c.readinessProbe?.httpGet?.path }).toEqual({
        name: d.metadata.name,
        live: '/healthz',
        ready: '/readyz',
      });
      expect(ports).toContain(c.livenessProbe?.httpGet?.port);
      expect(ports).toContain(c.readinessProbe?.httpGet?.port);
      expect({ name: d.metadata.name, requests: c.resources?.requests }).toEqual({
        name: d.metadata.name,
        requests: { cpu: expect.anything(), memory: expect.stringMatching(/^\d+(Mi|Gi)$/) },
      });
    }
  });

  test('workers drain before Kubernetes kills them: the grace period exceeds WORKER_SHUTDOWN_GRACE_MS', () => {
    const shared = only(byKind(docs, 'ConfigMap'), 'ConfigMap').data!;
    for (const role of QUEUE_ROLES) {
      const pod = podOf(deploymentRunning(docs, WORKERS[role].entry));
      expect(pod.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(Number(shared.WORKER_SHUTDOWN_GRACE_MS));
    }
  });

  test('one KEDA ScaledObject per worker kind, on the backlog age of that kind’s own queue', () => {
    const scaled = byKind(docs, 'ScaledObject');
    expect(scaled).toHaveLength(QUEUE_ROLES.length);
    for (const role of QUEUE_ROLES) {
      const target = deploymentRunning(docs, WORKERS[role].entry).metadata.name;
      const so = only(
        scaled.filter((s) => (s.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === target),
        `ScaledObject of ${target}`,
      );
      const [trigger] = (so.spec as { triggers: { type: string; metadata: { query: string; threshold: string } }[] }).triggers;
      const kind = role === 'pipeline' ? 'workflow' : 'activity';
      expect(trigger?.type).toBe('prometheus');
      expect(trigger?.metadata.query).toContain(`biblio_queue_backlog_age_seconds{queue="${role}",kind="${kind}"}`);
      expect(Number(trigger?.metadata.threshold)).toBeGreaterThan(0);
      // KEDA owns the replica count; a fixed one would fight it on every upgrade.
      expect(deploymentRunning(docs, WORKERS[role].entry).spec?.replicas).toBeUndefined();
    }
  });

  test('every pod shares one multi-host configuration: S3 data plane, vector store in S3, the keys from one Secret', () => {
    const shared = only(byKind(docs, 'ConfigMap'), 'ConfigMap');
    const secret = only(byKind(docs, 'Secret'), 'Secret');
    expect(shared.data).toMatchObject({
      BIBLIO_DEPLOYMENT: 'multi-host',
      STORAGE_BACKEND: 's3',
      VECTOR_LANCEDB_URI: expect.stringMatching(/^s3:\/\//),
    });
    expect(Object.keys(secret.stringData ?? {})).toEqual(
      expect.arrayContaining(['BIBLIO_PAYLOAD_KEY', 'BIBLIO_SOURCE_URL_KEY', 'DATABASE_URL']),
    );
    for (const d of byKind(docs, 'Deployment')) {
      const c = podOf(d).containers[0]!;
      expect({ name: d.metadata.name, envFrom: c.envFrom }).toEqual({
        name: d.metadata.name,
        envFrom: [{ configMapRef: { name: shared.metadata.name } }, { secretRef: { name: secret.metadata.name } }],
      });
    }
  });

  test('every variable the chart sets is one Biblio reads and docs/configuration.md documents', () => {
    const configurationDoc = readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const declared = new Set(VARIABLE_NAMES);
    const cloud = render([...SHARED, ...CLOUD]);
    const names = new Set<string>();
    for (const set of [docs, cloud]) {
      for (const m of set) for (const k of Object.keys({ ...m.data, ...m.stringData })) names.add(k);
      for (const d of byKind(set, 'Deployment')) for (const e of podOf(d).containers[0]!.env ?? []) names.add(e.name);
    }
    for (const v of names) {
      // TEMPORAL_* are Temporal's environment configuration; STORAGE_/S3_ belong to the storage port.
      const known = declared.has(v) || v.startsWith('TEMPORAL_') || /^(STORAGE_|S3_)/.test(v);
      const documented =
        new RegExp(`\\b${v}\\b`).test(configurationDoc) || (v.startsWith('TEMPORAL_TLS') && configurationDoc.includes('TEMPORAL_TLS*'));
      expect({ variable: v, known, documented }).toEqual({ variable: v, known: true, documented: true });
    }
  });
});

test('with the Temporal Cloud values every pod gets the address, the namespace, TLS and the API key from a Secret', () => {
  const docs = render([...SHARED, ...CLOUD]);
  const shared = only(byKind(docs, 'ConfigMap'), 'ConfigMap').data!;
  expect(shared.TEMPORAL_ADDRESS).toMatch(/\.api\.temporal\.io:7233$/);
  expect(shared.TEMPORAL_NAMESPACE).toMatch(/^[\w-]+\.[\w-]+$/);
  for (const d of byKind(docs, 'Deployment')) {
    const env = podOf(d).containers[0]!.env ?? [];
    expect({ name: d.metadata.name, key: env.find((e) => e.name === 'TEMPORAL_API_KEY')?.valueFrom?.secretKeyRef }).toEqual({
      name: d.metadata.name,
      key: { name: 'temporal-cloud', key: 'TEMPORAL_API_KEY' },
    });
    expect(env.find((e) => e.name === 'TEMPORAL_TLS')?.value).toBe('true');
  }
});

test('a queue prefix moves every ScaledObject to the prefixed queues', () => {
  const docs = render([...SHARED, '--set', 'queuePrefix=blue-']);
  const queries = byKind(docs, 'ScaledObject').map(
    (s) => (s.spec as { triggers: { metadata: { query: string } }[] }).triggers[0]!.metadata.query,
  );
  for (const role of QUEUE_ROLES) expect(queries.filter((q) => q.includes(`queue="blue-${role}"`))).toHaveLength(1);
});

test.each(['payloadKey', 'sourceUrlKey', 'databaseUrl'])('rendering without secrets.%s fails and names it', (key) => {
  const without = SHARED.filter((a, i) => !(a.startsWith(`secrets.${key}=`) || SHARED[i + 1]?.startsWith(`secrets.${key}=`)));
  expect(without).toHaveLength(SHARED.length - 2);
  const r = helm(['template', 'biblio', CHART, ...without]);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain(`secrets.${key} is required`);
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { QUEUE_ROLES, WORKERS as CATALOGUE_WORKERS } from '../../src/pipeline/catalogue';
import { VARIABLE_NAMES } from '../../src/config/schema';

const ROOT = path.resolve(__dirname, '..', '..');

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  restart?: string;
  healthcheck?: { test: unknown };
  stop_grace_period?: string;
  environment?: Record<string, string | null>;
  deploy?: { resources?: { limits?: { cpus?: string | number; memory?: string } } };
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

const seconds = (d: string | undefined) => {
  const m = /^(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(d ?? '');
  return m ? Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) : 0;
};
const cpus = (s: ComposeService) => Number(s.deploy?.resources?.limits?.cpus ?? 0);

const WORKERS = QUEUE_ROLES.map((role) => CATALOGUE_WORKERS[role].composeService);
const APP = ['api', ...WORKERS];

/**
 * The production properties of docker-compose.yml, asserted on a loaded form of it: the YAML as
 * written (test/unit/compose.test.ts) and what a real Compose implementation resolves it to
 * (test/integration/compose.test.ts), so neither an anchor nor an interpolation can hide a gap.
 */
export function describeComposeProperties(loadedBy: string, load: () => ComposeFile): void {
  describe(`docker-compose.yml as ${loadedBy}`, () => {
    let compose: ComposeFile;
    beforeAll(() => {
      compose = load();
    });

    test('the stack has Temporal on PostgreSQL with its Web UI, PostgreSQL, Qdrant, MinIO, the API and one service per worker', () => {
      const { services, volumes } = compose;
      for (const name of ['postgres', 'temporal', 'temporal-ui', 'qdrant', 'minio', ...APP]) expect(Object.keys(services)).toContain(name);
      expect(services.temporal?.environment?.DB).toBe('postgres12');
      for (const role of QUEUE_ROLES) {
        expect(services[CATALOGUE_WORKERS[role].composeService]?.command).toEqual(['node', `dist/${CATALOGUE_WORKERS[role].entry}`]);
      }
      expect(Object.keys(volumes)).toEqual(expect.arrayContaining(['pgdata', 'qdrant', 'objects', 'media']));
    });

    test('every long-running service has CPU and memory limits, a healthcheck and a restart policy; media gets the most CPU, ai little', () => {
      const { services } = compose;
      for (const [name, s] of Object.entries(services)) {
        if (s.restart === 'no' || name === 'temporal-namespace') continue; // one-shot set-up jobs
        expect({ name, restart: s.restart }).toEqual({ name, restart: expect.stringMatching(/unless-stopped|always|on-failure/) });
        expect({ name, limits: s.deploy?.resources?.limits }).toEqual({
          name,
          limits: { cpus: expect.anything(), memory: expect.anything() },
        });
        if (name !== 'temporal-ui') expect({ name, healthcheck: Boolean(s.healthcheck?.test) }).toEqual({ name, healthcheck: true });
      }
      expect(cpus(services['worker-media']!)).toBeGreaterThan(cpus(services['worker-ai']!));
      expect(cpus(services['worker-media']!)).toBeGreaterThan(cpus(services['worker-indexer']!));
    });

    test('every app service keeps its artifacts in the MinIO service (STORAGE_BACKEND=s3), as the Helm chart does', () => {
      const { services } = compose;
      for (const name of APP) {
        const env = services[name]?.environment ?? {};
        expect({ name, backend: env.STORAGE_BACKEND, endpoint: env.S3_ENDPOINT }).toEqual({
          name,
          backend: 's3',
          endpoint: 'http://minio:9000',
        });
      }
    });

    test('workers get a stop grace period longer than their drain grace', () => {
      const { services } = compose;
      for (const name of WORKERS) {
        const s = services[name]!;
        const graceSec = Number(s.environment?.WORKER_SHUTDOWN_GRACE_MS) / 1000;
        expect(graceSec).toBeGreaterThan(0);
        expect({ name, stop: seconds(s.stop_grace_period) }).toEqual({ name, stop: expect.any(Number) });
        expect(seconds(s.stop_grace_period)).toBeGreaterThan(graceSec);
      }
    });

    test('the app services use the same variables as the local processes; docs/configuration.md documents each variable and docs/operations.md each service', () => {
      const { services } = compose;
      const declared = new Set(VARIABLE_NAMES);
      const configurationDoc = readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
      const operationsDoc = readFileSync(path.join(ROOT, 'docs', 'operations.md'), 'utf8');
      const vars = new Set(APP.flatMap((n) => Object.keys(services[n]?.environment ?? {})));
      for (const v of vars) {
        // TEMPORAL_* follow Temporal's environment configuration; STORAGE_/S3_ belong to the storage port.
        const known = declared.has(v) || v.startsWith('TEMPORAL_') || /^(STORAGE_|S3_)/.test(v);
        expect({ variable: v, known }).toEqual({ variable: v, known: true });
        // A whole word: API_PORT inside DEMO_API_PORT does not count.
        const documented = new RegExp(`\\b${v}\\b`).test(configurationDoc);
        expect({ variable: v, inConfigurationDoc: documented }).toEqual({ variable: v, inConfigurationDoc: true });
      }
      for (const name of Object.keys(services))
        expect({ service: name, inOperationsDoc: operationsDoc.includes(`\`${name}\``) }).toEqual({ service: name, inOperationsDoc: true });
    });
  });
}

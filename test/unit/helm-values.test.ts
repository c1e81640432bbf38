import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { QUEUE_ROLES, WORKERS } from '../../src/pipeline/catalogue';

// The chart's worker list against the catalogue, on Node alone; Helm's own rendering and lint of
// the chart are test/integration/helm-chart.test.ts.
const values = parse(readFileSync(path.resolve(__dirname, '..', '..', 'deploy', 'helm', 'biblio', 'values.yaml'), 'utf8')) as {
  workers: Record<string, { service: string; entry: string; queueKind: string; resources?: { requests?: Record<string, string> } }>;
};

test('deploy/helm/biblio/values.yaml deploys exactly the catalogue’s worker kinds, each with its entry, queue kind and requests', () => {
  expect(Object.keys(values.workers).sort()).toEqual([...QUEUE_ROLES].sort());
  for (const role of QUEUE_ROLES) {
    expect({ role, ...values.workers[role] }).toMatchObject({
      role,
      service: WORKERS[role].composeService,
      entry: WORKERS[role].entry,
      queueKind: role === 'pipeline' ? 'workflow' : 'activity',
      resources: { requests: { cpu: expect.anything(), memory: expect.anything() } },
    });
  }
});

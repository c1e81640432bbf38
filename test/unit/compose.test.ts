import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describeComposeProperties, type ComposeFile } from '../support/compose-properties';

// The YAML as written (anchors and merges resolved, ${VARS} not): what a real Compose
// implementation makes of it is test/integration/compose.test.ts.
const ROOT = path.resolve(__dirname, '..', '..');

describeComposeProperties(
  'written',
  () => parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile,
);

test('the Dockerfile builds one non-root image with ffmpeg, the migrations and the health port', () => {
  const docker = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  expect(docker).toMatch(/apt-get install[^\n]*ffmpeg/);
  expect(docker).toMatch(/COPY migrations/);
  expect(docker).toMatch(/^USER node$/m);
  expect(docker).toMatch(/^EXPOSE 3000 9464$/m);
  expect(docker).toMatch(/npm ci/);
});

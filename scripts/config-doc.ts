// `npm run docs:config`: writes docs/configuration.md from the config area declarations (src/config/).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_DOC_PATH, renderConfigDoc } from '../src/config/doc';

const target = path.resolve(__dirname, '..', CONFIG_DOC_PATH);
writeFileSync(target, renderConfigDoc());
process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);

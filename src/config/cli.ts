import { z } from 'zod';
import type { ConfigArea } from './area';

/** The CLI talks to the API over HTTP and reads no server configuration; its option parser reads these. */
export const cliArea = {
  title: 'CLI',
  about: 'The `biblio` command reads these itself (they stand in for `--api-url` and `--api-key`).',
  variables: z.object({}),
  external: [
    { name: 'BIBLIO_API_URL', default: '`http://127.0.0.1:3000`', description: 'Base URL of the Biblio API the CLI talks to.' },
    { name: 'BIBLIO_API_KEY', default: 'unset', description: 'API key the CLI sends as a bearer token.' },
  ],
} satisfies ConfigArea;

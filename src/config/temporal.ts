import { z } from 'zod';
import type { ConfigArea } from './area';
import { url } from './fields';

export const temporalArea = {
  title: 'Temporal',
  about:
    "Biblio reaches Temporal through Temporal's own environment configuration (read by `@temporalio/envconfig`, not by Biblio's schema), so the same build talks to the dev server, a self-hosted cluster or Temporal Cloud.",
  variables: z.object({
    TEMPORAL_UI_URL: url
      .default('http://localhost:8233')
      .describe('Base URL of the Temporal Web UI, used for the links in status documents and dead letters.'),
  }),
  external: [
    { name: 'TEMPORAL_ADDRESS', default: '`127.0.0.1:7233`', description: 'Host and port of the Temporal frontend.' },
    { name: 'TEMPORAL_NAMESPACE', default: '`default`', description: 'Temporal namespace of the workflows.' },
    { name: 'TEMPORAL_API_KEY', default: 'unset', description: 'API key for Temporal Cloud.' },
    {
      name: 'TEMPORAL_TLS*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE',
      default: 'unset',
      description: "TLS settings and `temporal.toml` profiles, as Temporal's environment configuration documents them.",
    },
  ],
} satisfies ConfigArea;

export function temporalConfig(e: z.output<typeof temporalArea.variables>) {
  return { temporalUiUrl: e.TEMPORAL_UI_URL.replace(/\/$/, '') };
}

import { z } from 'zod';
import type { ConfigArea } from './area';
import { boolFlag, tcpPort } from './fields';

export const demoArea = {
  title: 'Demo',
  about: '`npm run demo` starts everything on this machine; these variables steer what it starts and where.',
  variables: z.object({
    BIBLIO_EXIT_AFTER_DEMO: boolFlag.default(false).describe('Stop the demo once the sample video is ready (like `--exit`).'),
    BIBLIO_EMBEDDED_PG: z
      .enum(['auto', 'never'])
      .default('auto')
      .describe(
        '`auto` starts an embedded PostgreSQL when DATABASE_URL is unset and nothing listens at BIBLIO_PG_PROBE_ADDRESS; `never` does not.',
      ),
    BIBLIO_PG_PROBE_ADDRESS: z
      .string()
      .regex(/^.+:\d+$/, 'host:port')
      .default('127.0.0.1:5432')
      .describe('host:port where the demo looks for a running PostgreSQL before starting its own (tests point it at a closed port).'),
    DEMO_TEMPORAL_PORT: tcpPort.default(7233).describe("Port of the demo's Temporal dev server."),
    DEMO_UI_PORT: tcpPort.default(8233).describe("Port of the demo's Temporal Web UI."),
    TEMPORAL_CLI: z
      .string()
      .min(1)
      .optional()
      .describe('Path of the Temporal CLI that runs the dev server.')
      .meta({ whenUnset: 'resolved or built by `npm run demo`' }),
  }),
} satisfies ConfigArea;

export function demoConfig(e: z.output<typeof demoArea.variables>, databaseUrlSet: boolean) {
  return {
    exitAfterDemo: e.BIBLIO_EXIT_AFTER_DEMO,
    embeddedPg: { mode: e.BIBLIO_EMBEDDED_PG, probeAddress: e.BIBLIO_PG_PROBE_ADDRESS, databaseUrlSet },
    demo: { temporalPort: e.DEMO_TEMPORAL_PORT, uiPort: e.DEMO_UI_PORT, temporalCli: e.TEMPORAL_CLI },
  };
}

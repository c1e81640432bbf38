import { z } from 'zod';
import type { ConfigArea } from './area';
import { commaList, onOff } from './fields';

export const securityArea = {
  title: 'Security: API keys, encryption keys, SSRF guard',
  about:
    'Auth is on unless switched off explicitly; there is no implicit development mode. Keys left unset are generated once and kept in `$BIBLIO_DATA_DIR/secrets/` (fine for one machine; production sets them, and `BIBLIO_DEPLOYMENT=multi-host` requires them).',
  variables: z.object({
    BIBLIO_DEPLOYMENT: z
      .enum(['single-host', 'multi-host'])
      .default('single-host')
      .describe(
        "`multi-host` when the API and workers run on machines that share no data directory: start-up then refuses generated keys (`BIBLIO_PAYLOAD_KEY`, `BIBLIO_SOURCE_URL_KEY`, and `STORAGE_SIGNING_SECRET` with local storage) and a vector store in one host's data directory.",
      ),
    BIBLIO_AUTH: onOff.default('on').describe('`off` disables API keys (every request is allowed).'),
    BIBLIO_PAYLOAD_KEY: z
      .string()
      .min(40)
      .optional()
      .describe("AES key of Temporal's payload codec (base64 of 32 bytes).")
      .meta({ whenUnset: 'generated once in `$BIBLIO_DATA_DIR/secrets/`' }),
    BIBLIO_SOURCE_URL_KEY: z
      .string()
      .min(40)
      .optional()
      .describe(
        'AES key sealing source URLs and signed upload URLs for the media worker only (base64 of 32 bytes); the API, the pipeline worker and every media worker need the same one.',
      )
      .meta({ whenUnset: 'generated once in `$BIBLIO_DATA_DIR/secrets/`' }),
    BIBLIO_SSRF_ALLOW: z
      .string()
      .default('')
      .describe('Comma-separated CIDRs or host names URL sources may reach although they are private (tests: 127.0.0.1).'),
  }),
} satisfies ConfigArea;

export function securityConfig(e: z.output<typeof securityArea.variables>) {
  return {
    deployment: e.BIBLIO_DEPLOYMENT,
    authEnabled: e.BIBLIO_AUTH === 'on',
    payloadKey: e.BIBLIO_PAYLOAD_KEY,
    sourceUrlKey: e.BIBLIO_SOURCE_URL_KEY,
    ssrfAllow: commaList(e.BIBLIO_SSRF_ALLOW),
  };
}

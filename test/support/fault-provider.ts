import { loadConfig, type OpenAiConfig } from '../../src/config';
import type { OpenAiFaultServer } from './openai-fault-server';

/** The API key the tests' processes send to the fault server (tests check no error message shows it). */
export const FAULT_SERVER_KEY = 'sk-test-key';

export interface FaultProvider {
  /** For worker processes: the variables production sets to reach OpenAI, pointed at the fault server. */
  env: NodeJS.ProcessEnv;
  /** For an in-process API or analyzer: what the config module makes of the same variables. */
  openai: OpenAiConfig;
}

/**
 * Points a test's AI at the OpenAI fault server, as production points it at OpenAI. Models and
 * timeouts are the product's defaults; `env` holds what a test changes (its limiter, breaker or
 * timer settings, say, with the reason in the test), and the in-process side gets the same values
 * as the workers, because both come from one set of variables.
 */
export function faultProvider(server: Pick<OpenAiFaultServer, 'url'>, env: NodeJS.ProcessEnv = {}): FaultProvider {
  const variables: NodeJS.ProcessEnv = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: FAULT_SERVER_KEY, ...env };
  const openai = loadConfig(variables).openai;
  if (!openai) throw new Error('the fault provider set OPENAI_BASE_URL, yet the config has no OpenAI settings');
  return { env: variables, openai };
}

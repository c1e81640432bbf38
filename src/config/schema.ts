import { z } from 'zod';
import type { ConfigArea } from './area';
import { aiArea } from './ai';
import { apiArea } from './api';
import { cliArea } from './cli';
import { coreArea } from './core';
import { demoArea } from './demo';
import { mediaArea } from './media';
import { operationsArea } from './operations';
import { retentionArea } from './retention';
import { searchIndexArea } from './search-index';
import { securityArea } from './security';
import { storageArea } from './storage';
import { temporalArea } from './temporal';
import { workersArea } from './workers';

/** Every area, in the order the configuration document lists them. */
export const AREAS: readonly ConfigArea[] = [
  coreArea,
  apiArea,
  temporalArea,
  workersArea,
  mediaArea,
  aiArea,
  searchIndexArea,
  storageArea,
  securityArea,
  operationsArea,
  retentionArea,
  demoArea,
  cliArea,
];

/** All variables in one flat object: the areas' declarations, nothing added. */
export const envObject = z.object({
  ...coreArea.variables.shape,
  ...apiArea.variables.shape,
  ...temporalArea.variables.shape,
  ...workersArea.variables.shape,
  ...mediaArea.variables.shape,
  ...aiArea.variables.shape,
  ...searchIndexArea.variables.shape,
  ...storageArea.variables.shape,
  ...securityArea.variables.shape,
  ...operationsArea.variables.shape,
  ...retentionArea.variables.shape,
  ...demoArea.variables.shape,
});

/** The parsed (typed, defaulted) environment. */
export type Env = z.output<typeof envObject>;

/** Names of the variables loadConfig reads. */
export const VARIABLE_NAMES: readonly string[] = Object.keys(envObject.shape);

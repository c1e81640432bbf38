import type { z } from 'zod';

/** A variable read by a library or the CLI's option parser rather than by loadConfig; documented with the area. */
export interface ExternalVariable {
  name: string;
  default: string;
  description: string;
}

/**
 * One group of variables: their declarations (validator, default, `.describe()` sentence), and
 * what the configuration document says about the group. The area's file also maps its values
 * into the config tree, next to the declarations.
 */
export interface ConfigArea<Shape extends Record<string, z.ZodType> = Record<string, z.ZodType>> {
  title: string;
  /** One or two sentences above the area's table. */
  about: string;
  variables: z.ZodObject<Shape>;
  /** Read elsewhere, listed so the document covers every variable Biblio reacts to. */
  external?: readonly ExternalVariable[];
}

/**
 * Metadata only the document needs: what an unset variable without a fixed default means
 * (`derived from …`, `generated …`). Attached with `.meta({ whenUnset })` after `.describe()`.
 */
export interface DocMeta {
  whenUnset?: string;
}

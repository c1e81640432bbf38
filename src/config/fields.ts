import { z } from 'zod';

/** The validators the areas share; each variable adds its default and `.describe()` sentence. */
export const boolFlag = z.enum(['1', '0', 'true', 'false', 'yes', 'no']).transform((v) => v === '1' || v === 'true' || v === 'yes');
export const onOff = z.enum(['on', 'off']);
export const positiveInt = z.coerce.number().int().positive();
/** 0 is meaningful for these (off, none, or "let the program pick"). */
export const nonNegativeInt = z.coerce.number().int().min(0);
export const tcpPort = z.coerce.number().int().min(0).max(65535);
export const url = z.string().url();
export const secret = z.string().min(1);

/** A comma-separated list, trimmed, without empty items. */
export const commaList = (text: string): string[] =>
  text
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

import type { Page } from 'playwright-core';

/**
 * Polls an expression through page.evaluate (DevTools evaluation, which the page's CSP does not
 * govern). Playwright's waitForFunction would eval the string inside the page, which the
 * dashboard's CSP (no 'unsafe-eval') rightly refuses.
 */
export async function waitForExpression(page: Page, expression: string, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    if (await page.evaluate(expression)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

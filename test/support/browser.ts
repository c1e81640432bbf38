import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (npm test installs it as root); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless, with no traffic of its own (updates, sync, QUIC), allowed to autoplay the player. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

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

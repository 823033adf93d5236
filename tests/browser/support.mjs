// Shared set-up for the browser tests: Debian's Chromium through playwright-core, with the
// flags this closed, root-run environment needs, and the environment the Rust runner gives.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Reads a required environment variable, failing with how to get it. */
export function env(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run the browser tests through \`cargo xtask test\` ` +
      '(the Rust integration test `browser` starts the mail servers and the proxy and sets it)');
  }
  return v;
}

/** The proxy's base URL, e.g. http://127.0.0.1:41234. */
export const baseUrl = () => env('MAILSETUP_URL');

/** Launches headless Chromium; call `close()` on the result when done. */
export async function launch() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  const userDataDir = mkdtempSync(join(tmpdir(), 'mailsetup-chromium-'));
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${userDataDir}`,
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as NAME.png under MAILSETUP_SCREENSHOTS (build/screenshots). */
export async function screenshot(page, name) {
  const dir = process.env.MAILSETUP_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

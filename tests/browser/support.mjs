// Shared set-up for the browser tests: Debian's Chromium through playwright-core, with the
// flags this closed, root-run environment needs, and the environment the Rust runner gives.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

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
  // playwright gives every launch a fresh temporary profile itself (it refuses
  // --user-data-dir in the arguments).
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
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

/** Viewports and colour schemes the screenshots cover. */
export const VARIANTS = [
  { name: 'desktop-light', viewport: { width: 1280, height: 900 }, colorScheme: 'light' },
  { name: 'desktop-dark', viewport: { width: 1280, height: 900 }, colorScheme: 'dark' },
  { name: 'phone-light', viewport: { width: 390, height: 844 }, colorScheme: 'light' },
  { name: 'phone-dark', viewport: { width: 390, height: 844 }, colorScheme: 'dark' },
];

/** The loopback Dovecot the harness started, as the wizard's manual server settings. */
export function testServers() {
  return {
    host: '127.0.0.1',
    imapsPort: env('MAILTEST_IMAPS_PORT'),
    submissionsPort: env('MAILTEST_SUBMISSIONS_PORT'),
  };
}

/** The harness's mailbox and its password. */
export const ALICE = { email: 'alice@example.test', password: 'abcdabcdabcdabcd' };

/** Opens a page with a viewport, colour scheme and browser locale; collects page errors. */
export async function openPage(chrome, { viewport, colorScheme = 'light', locale = 'en-US' } = {}) {
  const context = await chrome.browser.newContext({
    viewport: viewport || { width: 1280, height: 900 },
    colorScheme,
    locale,
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return page;
}

/**
 * Runs `fn(page, wizard)` on a fresh page of a fresh browser ({@link openPage}'s `opts`),
 * then checks the page threw no uncaught error, and closes the browser whatever happened.
 */
export async function withPage(opts, fn) {
  const chrome = await launch();
  try {
    const page = await openPage(chrome, opts);
    await fn(page, new WizardPage(page));
    assert.deepEqual(page.errors, [], 'no uncaught errors in the page');
  } finally {
    await chrome.close();
  }
}

/**
 * A page object over the wizard, by data-testid. `root` is the page or a frame locator
 * (the embed test drives the wizard inside the host page's iframe).
 */
export class WizardPage {
  constructor(root) {
    this.root = root;
  }

  byId(id) {
    return this.root.getByTestId(id);
  }

  heading() {
    return this.byId('step-heading');
  }

  /** Waits until the wizard shows `step` (address, prepare, password, servers, test, result). */
  async waitStep(step, timeout = 15000) {
    await this.root.locator(`main[data-step="${step}"]`).waitFor({ state: 'visible', timeout });
  }

  async fillEmail(email) {
    await this.waitStep('address');
    await this.byId('email').fill(email);
  }

  async next() {
    await this.byId('next').click();
  }

  async fillPassword(password) {
    await this.waitStep('password');
    await this.byId('password').fill(password);
  }

  /** Fills the manual servers form with the loopback Dovecot (implicit TLS both sides). */
  async fillServers({ host, imapsPort, submissionsPort }) {
    await this.waitStep('servers');
    await this.byId('in-host').fill(host);
    await this.byId('in-sec').selectOption('tls');
    await this.byId('in-port').fill(String(imapsPort));
    await this.byId('out-host').fill(host);
    await this.byId('out-sec').selectOption('tls');
    await this.byId('out-port').fill(String(submissionsPort));
  }

  /** Address -> password -> servers -> check, for an address without preparation. */
  async runManual(email, password, servers) {
    await this.fillEmail(email);
    await this.next();
    await this.fillPassword(password);
    await this.next();
    await this.fillServers(servers);
    await this.next();
  }

  async waitResult(timeout = 60000) {
    await this.waitStep('result', timeout);
  }
}

/**
 * Runs axe-core (npm `axe-core`) on the page with the WCAG 2.1 A and AA rules; returns the
 * violations as short strings (rule id, impact and the first offending elements).
 */
export async function axeViolations(page) {
  const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.addScriptTag({ path: axePath });
  }
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3)
      .map((n) => n.target.join(' ') + (n.failureSummary ? ` [${n.failureSummary.replace(/\s+/g, ' ')}]` : ''))
      .join(' | ')}`);
  });
  return violations;
}

/**
 * A check answer as the proxy's stream would send it (one `result` event), for faults the
 * real servers cannot produce on demand: `incoming` is a failed side with `code`.
 */
export function streamedFailure({ code, host = 'imap.example.test', message = 'It failed.', advice = 'Generic advice.' }) {
  const side = {
    ok: false, protocol: 'imap', host, port: 993, security: 'tls',
    steps: [{ step: 'resolve', ok: false, ms: 5, detail: null }],
    diagnosis: { code, message, advice, server_reply: null, links: [] },
    tls: null,
  };
  const result = { ok: false, incoming: side, outgoing: null };
  return 'event: step\ndata: ' + JSON.stringify({ side: 'incoming', step: side.steps[0] }) + '\n\n' +
    'event: result\ndata: ' + JSON.stringify(result) + '\n\n';
}

/** Answers the live check with `body` (an event stream) instead of asking the servers. */
export async function fakeStream(page, body) {
  await page.route(/\/api\/v1\/check\/stream$/, (route) => route.fulfill({
    status: 200, contentType: 'text/event-stream', body,
  }));
}

/** The steps `main[data-step]` went through from now on (read with `stepsSeen`). */
export async function recordSteps(page) {
  await page.evaluate(() => {
    window.__steps = [];
    const main = document.querySelector('main');
    new MutationObserver(() => window.__steps.push(main.dataset.step))
      .observe(main, { attributes: true, attributeFilter: ['data-step'] });
  });
}

export const stepsSeen = (page) => page.evaluate(() => window.__steps);

// The first screen renders from the proxy-served build, in a real browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, launch, screenshot } from './support.mjs';

test('the wizard\'s first screen renders', async () => {
  const chrome = await launch();
  try {
    const page = await chrome.browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(baseUrl() + '/');
    const heading = page.getByTestId('step-heading');
    await heading.waitFor({ state: 'visible', timeout: 15000 });
    assert.ok((await heading.textContent()).trim().length > 0, 'the heading has text');
    await page.getByLabel(/email/i).first().waitFor({ state: 'visible' });
    await screenshot(page, 'smoke-first-screen');
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
  } finally {
    await chrome.close();
  }
});

// The shipped example host page embeds the widget with one element and one script tag and
// receives `mailsetup:verified` (without the password, as it did not ask for it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALICE, WizardPage, baseUrl, launch, openPage, screenshot, testServers } from './support.mjs';

test('the embed example receives mailsetup:verified', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome, { viewport: { width: 1000, height: 900 } });
    await page.goto(baseUrl() + '/examples/host.html?locale=en');
    const frame = page.frameLocator('iframe[data-testid="mailsetup-frame"]');
    const w = new WizardPage(frame);
    await w.runManual(ALICE.email, ALICE.password, testServers());
    await w.waitResult();
    await w.byId('result-ok').waitFor();
    await screenshot(page, 'embed-host-result');
    await w.byId('done').click();
    const result = page.getByTestId('host-result');
    await result.filter({ hasText: /verified/ }).waitFor({ timeout: 10000 });
    const text = await result.textContent();
    const detail = JSON.parse(text.replace(/^verified: /, ''));
    assert.equal(detail.email, ALICE.email);
    assert.equal(detail.username, ALICE.email);
    assert.equal(detail.incoming.protocol, 'imap');
    assert.equal(detail.incoming.port, Number(testServers().imapsPort));
    assert.equal(detail.outgoing.protocol, 'smtp');
    assert.equal(detail.password, undefined, 'no password unless data-return-password="true"');
    // The iframe grew to its content (resize messages from the widget).
    const h = await page.locator('iframe[data-testid="mailsetup-frame"]').evaluate((f) => f.offsetHeight);
    assert.ok(h > 300, `iframe height ${h}`);
    assert.deepEqual(page.errors, []);
  } finally {
    await chrome.close();
  }
});

test('the embed example: options (locale, email, providers) and mailsetup:cancelled', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome);
    // The host allows Gmail only: another domain gets a plain refusal, not a dead end.
    await page.goto(baseUrl() + '/examples/host.html?locale=ru&providers=gmail&email=' +
      encodeURIComponent(ALICE.email));
    const frame = page.frameLocator('iframe[data-testid="mailsetup-frame"]');
    await frame.getByTestId('step-heading').filter({ hasText: 'Какой у вас адрес почты?' }).waitFor();
    assert.equal(await frame.getByTestId('email').inputValue(), ALICE.email, 'data-email pre-fills');
    await frame.getByTestId('next').click();
    await frame.getByTestId('email-error').filter({ hasText: /не поддерживает/ }).waitFor();
    await frame.locator('main[data-step="address"]').waitFor();
    await frame.getByTestId('widget-cancel').click();
    await page.getByTestId('host-result').filter({ hasText: 'cancelled' }).waitFor({ timeout: 10000 });
  } finally {
    await chrome.close();
  }
});

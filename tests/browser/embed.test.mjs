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

test('the embed: Done twice sends one event, then a final state without Cancel', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome, { viewport: { width: 1000, height: 900 } });
    await page.goto(baseUrl() + '/examples/host.html?locale=en');
    await page.evaluate(() => {
      window.__verified = 0;
      document.getElementById('mailsetup')
        .addEventListener('mailsetup:verified', () => { window.__verified += 1; });
    });
    const frame = page.frameLocator('iframe[data-testid="mailsetup-frame"]');
    const w = new WizardPage(frame);
    await w.runManual(ALICE.email, ALICE.password, testServers());
    await w.waitResult();
    await w.byId('widget-cancel').waitFor();
    await w.byId('done').evaluate((b) => { b.click(); b.click(); });
    await w.byId('final').waitFor();
    await page.getByTestId('host-result').filter({ hasText: /verified/ }).waitFor({ timeout: 10000 });
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => window.__verified), 1, 'one event per verified result');
    const final = await w.byId('final').textContent();
    assert.match(final, /passed to the app/);
    assert.doesNotMatch(final, /close this page/);
    assert.equal(await w.byId('widget-cancel').count(), 0, 'no Cancel after the result was handed over');
    await screenshot(page, 'embed-host-final');
    assert.deepEqual(page.errors, []);
  } finally {
    await chrome.close();
  }
});

test('the embed: the frame follows its content, growing and shrinking', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome, { viewport: { width: 1000, height: 900 } });
    await page.goto(baseUrl() + '/examples/host.html?locale=en');
    const iframe = page.locator('iframe[data-testid="mailsetup-frame"]');
    const frame = page.frameLocator('iframe[data-testid="mailsetup-frame"]');
    const w = new WizardPage(frame);
    const frameHeight = () => iframe.evaluate((f) => f.offsetHeight);
    const contentHeight = () => iframe.evaluate((f) => Math.ceil(f.contentDocument.body.getBoundingClientRect().height));
    /** Waits until the frame is as tall as its content (or the loader's 420 px minimum). */
    async function settled(where) {
      for (let i = 0; i < 50; i++) {
        const [f, c] = [await frameHeight(), await contentHeight()];
        if (Math.abs(f - Math.max(c, 420)) <= 2) return f;
        await page.waitForTimeout(100);
      }
      assert.fail(`${where}: frame ${await frameHeight()} px, content ${await contentHeight()} px`);
    }
    await w.fillEmail('someone@gmail.com');
    await w.byId('provider-status').filter({ hasText: /Gmail/ }).waitFor();
    const address = await settled('address');
    await w.next();
    await w.waitStep('prepare');
    const prepare = await settled('prepare');
    assert.ok(prepare > address + 100, `the frame grew: ${address} -> ${prepare}`);
    await w.byId('back').click();
    await w.waitStep('address');
    const back = await settled('address again');
    assert.ok(back < prepare - 100, `the frame shrank: ${prepare} -> ${back}`);
    assert.ok(Math.abs(back - address) <= 2, `back to the address step's height: ${address} vs ${back}`);
  } finally {
    await chrome.close();
  }
});

test('the embed: data-return-password (the older name of data-return-credentials) still hands over the password', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome, { viewport: { width: 1000, height: 900 } });
    const host = baseUrl() + '/examples/alias-host.html';
    await page.route(host, (route) => route.fulfill({
      status: 200,
      contentType: 'text/html',
      body: `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>alias</title></head><body>
        <div id="mailsetup" data-proxy="/" data-locale="en" data-return-password="true"></div>
        <p id="out" data-testid="host-result"></p>
        <script>document.getElementById('mailsetup').addEventListener('mailsetup:verified',
          (e) => { document.getElementById('out').textContent = 'verified: ' + JSON.stringify(e.detail); });</script>
        <script src="/embed.js"></script></body></html>`,
    }));
    await page.goto(host);
    const frame = page.frameLocator('iframe[data-testid="mailsetup-frame"]');
    const w = new WizardPage(frame);
    await w.runManual(ALICE.email, ALICE.password, testServers());
    await w.waitResult();
    await w.byId('done').click();
    const result = page.getByTestId('host-result');
    await result.filter({ hasText: /verified/ }).waitFor({ timeout: 10000 });
    const detail = JSON.parse((await result.textContent()).replace(/^verified: /, ''));
    assert.equal(detail.auth, 'password');
    assert.equal(detail.password, ALICE.password);
    assert.equal(detail.grant, undefined);
  } finally {
    await chrome.close();
  }
});

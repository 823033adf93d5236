// Sign in with the provider, in headless Chromium against the real proxy (configured with
// an OAuth client), the real authorization server (npm's oidc-provider with its own login
// and consent pages) and the harness's Dovecot and Postfix checking the token: the popup
// from the address to the verified result, consent denied (EN and RU, then a sign-in whose
// stepper and IT report speak of the sign-in, not a password), a closed popup, a
// foreign message, a blocked popup (same-tab fallback), a phone, and the embed with and
// without the host's opt-in to the tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WizardPage, axeViolations, env, launch, openPage, screenshot,
} from './support.mjs';

/** The proxy with the OAuth client (MAILSETUP_OAUTH_URL) and the address it signs in. */
const oauthUrl = () => env('MAILSETUP_OAUTH_URL');
const EMAIL = () => env('MAILTEST_OAUTH_EMAIL');
/** The name the operator's configuration gives the sign-in ("Sign in with ..."). */
const NAME = () => env('MAILTEST_OAUTH_NAME');

/** Address step to the preparation screen with the sign-in offered. */
async function toSignIn(w, page, email = EMAIL()) {
  await w.fillEmail(email);
  await w.byId('provider-status').filter({ hasText: /./ }).waitFor();
  await w.next();
  await w.waitStep('prepare');
  await w.byId('oauth-sign-in').filter({ hasText: NAME() }).waitFor();
}

/** Fills the test authorization server's login and consent pages in `p` (a popup or the tab). */
async function authorize(p, { login = EMAIL(), consent = 'allow' } = {}) {
  // A second sign-in in the same browser finds the provider's session: no login page.
  await p.locator('form button[type="submit"]').first().waitFor({ timeout: 20000 });
  const loginField = p.locator('input[name="login"]');
  if (await loginField.count()) {
    await loginField.fill(login);
    await p.locator('input[name="password"]').fill('any');
    await p.locator('button[type="submit"]').click();
    await loginField.waitFor({ state: 'detached' });
  }
  if (consent === 'deny') {
    await p.locator('a[href*="/abort"]').click();
  } else {
    await p.locator('button[type="submit"]').waitFor();
    await p.locator('button[type="submit"]').click();
  }
}

/** Clicks "Sign in with ..." and returns the popup it opens. */
async function openPopup(page, root = page) {
  const [popup] = await Promise.all([
    page.context().waitForEvent('page'),
    root.getByTestId('oauth-sign-in').click(),
  ]);
  return popup;
}

test('popup: address -> sign-in -> consent -> verified settings, auth oauth2', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome);
    const w = new WizardPage(page);
    await page.goto(oauthUrl() + '/?locale=en');
    await page.evaluate(() => {
      window.__verified = [];
      document.addEventListener('mailsetup:verified', (e) => window.__verified.push(e.detail));
    });
    await toSignIn(w, page);
    // Sign-in is the first, primary choice.
    assert.equal(await w.byId('oauth-sign-in').getAttribute('class'), 'primary');
    assert.equal(await w.byId('next').getAttribute('class'), 'secondary');
    const popup = await openPopup(page);
    // The popup is the sign-in window of the given size, on the proxy's start URL.
    assert.match(popup.url(), /\/api\/v1\/oauth\/|\/auth|\/interaction/);
    const size = await popup.evaluate(() => [window.innerWidth, window.innerHeight]);
    assert.ok(size[0] <= 520 && size[0] > 300, `popup width ${size}`);
    await w.byId('oauth-status').filter({ hasText: /Finish signing in/ }).waitFor();
    await screenshot(page, 'oauth-waiting');
    await authorize(popup);
    await w.waitResult(60000);
    await w.byId('result-ok').waitFor();
    assert.equal(await w.byId('summary-login').getAttribute('data-auth'), 'oauth2');
    assert.match(await w.byId('summary-login').textContent(), new RegExp(NAME()));
    await screenshot(page, 'oauth-result');
    // The wizard closed the sign-in window once it had the result.
    await popup.waitForEvent('close', { timeout: 5000 }).catch(() => {});
    assert.ok(popup.isClosed(), 'the popup is closed');
    await w.byId('done').click();
    await page.waitForFunction(() => window.__verified.length === 1);
    const detail = (await page.evaluate(() => window.__verified))[0];
    assert.equal(detail.auth, 'oauth2');
    assert.equal(detail.email, EMAIL());
    assert.equal(detail.grant, undefined, 'no tokens without the opt-in');
    assert.equal(detail.password, undefined);
    assert.equal(detail.incoming.protocol, 'imap');
    // No token in what the page keeps for a reload.
    const stored = await page.evaluate(() => JSON.stringify(Object.assign({}, sessionStorage)));
    assert.doesNotMatch(stored, /access_token|refresh_token/);
    assert.deepEqual(page.errors, []);
  } finally {
    await chrome.close();
  }
});

for (const [locale, browserLocale, words, signIn, password] of [
  ['en', 'en-US', /access to the mailbox was not allowed/, /Sign-in/, /password/i],
  ['ru', 'ru-RU', /доступ к ящику не разрешён/, /Вход/, /парол/i],
]) {
  test(`consent denied: a plain diagnosis under the button (${locale})`, async () => {
    const chrome = await launch();
    try {
      const page = await openPage(chrome, { locale: browserLocale });
      const w = new WizardPage(page);
      await page.goto(oauthUrl() + `/?locale=${locale}`);
      await toSignIn(w, page);
      const popup = await openPopup(page);
      await authorize(popup, { consent: 'deny' });
      const error = w.byId('oauth-error');
      await error.waitFor({ timeout: 30000 });
      assert.equal(await error.getAttribute('data-code'), 'oauth_denied');
      assert.match(await w.byId('oauth-error-message').textContent(), words);
      await w.waitStep('prepare');
      await screenshot(page, `oauth-denied-${locale}`);
      if (locale === 'en') {
        await page.waitForTimeout(300);
        assert.deepEqual(await axeViolations(page), [], 'axe on the failed sign-in');
      }
      // The button tries again.
      const again = await openPopup(page);
      await authorize(again);
      await w.waitResult(60000);
      await w.byId('result-ok').waitFor();
      // No password was used: the stepper and the IT report speak of the sign-in.
      const step = w.byId('stepper-password');
      assert.equal(await step.getAttribute('data-mark'), 'done');
      assert.match(await step.textContent(), signIn);
      assert.doesNotMatch(await step.textContent(), password);
      const label = await page.locator('label[for="report"]').textContent();
      assert.match(label, locale === 'en' ? /sign-in/ : /входа/);
      assert.doesNotMatch(label, password);
    } finally {
      await chrome.close();
    }
  });
}

test('a closed sign-in window says so; the button tries again', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome);
    const w = new WizardPage(page);
    await page.goto(oauthUrl() + '/?locale=en');
    await toSignIn(w, page);
    const popup = await openPopup(page);
    await popup.waitForLoadState();
    await popup.close();
    await w.byId('oauth-status').filter({ hasText: /window was closed/ }).waitFor({ timeout: 10000 });
    await w.waitStep('prepare');
    const again = await openPopup(page);
    await authorize(again);
    await w.waitResult(60000);
    await w.byId('result-ok').waitFor();
  } finally {
    await chrome.close();
  }
});

test('a message from another window or origin is ignored', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome);
    const w = new WizardPage(page);
    await page.goto(oauthUrl() + '/?locale=en');
    await toSignIn(w, page);
    const popup = await openPopup(page);
    // A made-up success for the very address and provider the wizard waits for.
    const forged = {
      type: 'mailsetup:oauth',
      outcome: {
        provider: env('MAILTEST_OAUTH_PROVIDER'),
        email: EMAIL(),
        check: { ok: true, incoming: null, outgoing: null },
      },
    };
    // The same origin, but not the popup: the wizard's own window.
    await page.evaluate((m) => window.postMessage(m, '*'), forged);
    // Another origin (localhost is not 127.0.0.1) posting to the wizard from a frame.
    const other = oauthUrl().replace('127.0.0.1', 'localhost');
    await page.evaluate((src) => new Promise((resolve) => {
      const f = document.createElement('iframe');
      f.src = src;
      f.onload = () => resolve();
      document.body.appendChild(f);
    }), other + '/examples/host.html');
    const frame = page.frames().find((f) => f.url().startsWith(other));
    assert.ok(frame, 'the foreign frame loaded');
    await frame.evaluate((m) => window.parent.postMessage(m, '*'), forged);
    await page.waitForTimeout(800);
    await w.waitStep('prepare');
    await w.byId('oauth-status').filter({ hasText: /Finish signing in/ }).waitFor();
    // The real popup's answer is still taken.
    await authorize(popup);
    await w.waitResult(60000);
    await w.byId('result-ok').waitFor();
  } finally {
    await chrome.close();
  }
});

test('popup blocked: the same tab signs in and comes back to the result', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome);
    // A popup blocker: window.open gives no window.
    await page.addInitScript(() => { window.open = () => null; });
    const w = new WizardPage(page);
    await page.goto(oauthUrl() + '/?locale=en');
    await toSignIn(w, page);
    await w.byId('oauth-sign-in').click();
    await authorize(page);
    await w.waitResult(60000);
    await w.byId('result-ok').waitFor();
    assert.equal(await w.byId('summary-login').getAttribute('data-auth'), 'oauth2');
    // The result was read once and removed from sessionStorage.
    assert.equal(await page.evaluate(() => sessionStorage.getItem('mailsetup:oauth')), null);
    assert.deepEqual(page.errors, []);
  } finally {
    await chrome.close();
  }
});

test('a phone signs in in the same tab', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome, { viewport: { width: 390, height: 844 } });
    const w = new WizardPage(page);
    await page.goto(oauthUrl() + '/?locale=en');
    await toSignIn(w, page);
    await screenshot(page, 'oauth-prepare-phone');
    await w.byId('oauth-sign-in').click();
    await authorize(page);
    await w.waitResult(60000);
    await w.byId('result-ok').waitFor();
    assert.equal(page.context().pages().length, 1, 'no popup on a phone');
  } finally {
    await chrome.close();
  }
});

for (const credentials of [false, true]) {
  test(`embed: mailsetup:verified says oauth2${credentials ? ' and carries the grant (opted in)' : ', no tokens'}`, async () => {
    const chrome = await launch();
    try {
      const page = await openPage(chrome, { viewport: { width: 1000, height: 900 } });
      await page.goto(oauthUrl() + '/examples/host.html?locale=en&email=' +
        encodeURIComponent(EMAIL()) + (credentials ? '&credentials=true' : ''));
      const frame = page.frameLocator('iframe[data-testid="mailsetup-frame"]');
      const w = new WizardPage(frame);
      await w.waitStep('address');
      await w.byId('provider-status').filter({ hasText: /./ }).waitFor();
      await w.next();
      await w.waitStep('prepare');
      await w.byId('oauth-sign-in').waitFor();
      const popup = await openPopup(page, frame);
      await authorize(popup);
      await w.waitResult(60000);
      await w.byId('result-ok').waitFor();
      await w.byId('done').click();
      const result = page.getByTestId('host-result');
      await result.filter({ hasText: /verified/ }).waitFor({ timeout: 10000 });
      const detail = JSON.parse((await result.textContent()).replace(/^verified: /, ''));
      assert.equal(detail.auth, 'oauth2');
      assert.equal(detail.email, EMAIL());
      assert.equal(detail.password, undefined);
      if (credentials) {
        assert.ok(detail.grant, 'the grant with data-return-credentials="true"');
        assert.ok(detail.grant.access_token.length > 10);
        assert.ok(detail.grant.refresh_token, 'a refresh token (offline_access)');
        assert.ok(detail.grant.expires_at > Date.now() / 1000);
        assert.ok(Array.isArray(detail.grant.scopes));
        assert.equal(typeof detail.grant.provider, 'string');
      } else {
        assert.equal(detail.grant, undefined, 'no tokens without the opt-in');
        assert.doesNotMatch(JSON.stringify(detail), /token/);
      }
      assert.deepEqual(page.errors, []);
    } finally {
      await chrome.close();
    }
  });
}

test('without a configured client nothing changes (the other proxy)', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome);
    const w = new WizardPage(page);
    await page.goto(env('MAILSETUP_URL') + '/?locale=en');
    await w.fillEmail(EMAIL());
    await w.byId('provider-status').filter({ hasText: /./ }).waitFor();
    await page.waitForTimeout(500);
    await w.next();
    await page.locator('main[data-step="password"], main[data-step="prepare"]').waitFor();
    assert.equal(await w.byId('oauth-sign-in').count(), 0);
  } finally {
    await chrome.close();
  }
});

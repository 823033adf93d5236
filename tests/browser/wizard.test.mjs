// The wizard end to end in headless Chromium against the real proxy and the real Dovecot:
// success, a wrong password and its way back, Russian, keyboard only, cancel, Gmail's
// preparation steps, a newer address winning over a slow answer, a lookup without an
// answer, and screenshots of every step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALICE, VARIANTS, WizardPage, baseUrl, screenshot, testServers, withPage,
} from './support.mjs';

test('happy path: manual loopback servers end in a verified mailbox', async () => {
  await withPage({}, async (page) => {
    await page.goto(baseUrl() + '/?locale=en');
    const w = new WizardPage(page);
    await w.runManual(ALICE.email, ALICE.password, testServers());
    await w.waitResult();
    await w.byId('result-ok').waitFor();
    const summary = await w.byId('verified-summary').textContent();
    assert.match(summary, /alice@example\.test/);
    assert.match(summary, /127\.0\.0\.1/);
    assert.match(await w.byId('report-incoming').textContent(), /Signing in/);
    const report = await w.byId('report').inputValue();
    assert.match(report, /Result: OK/);
    assert.ok(!report.includes(ALICE.password), 'the report never contains the password');
    // In page mode "Done" emits mailsetup:verified on the document, without the password.
    const detail = page.evaluate(() => new Promise((resolve) => {
      document.addEventListener('mailsetup:verified', (e) => resolve(e.detail), { once: true });
    }));
    await w.byId('done').click();
    const d = await detail;
    assert.equal(d.email, ALICE.email);
    assert.equal(d.incoming.host, '127.0.0.1');
    assert.equal(d.password, undefined);
  });
});

test('wrong password: auth_failed in plain words, then back to the password step', async () => {
  await withPage({}, async (page) => {
    await page.goto(baseUrl() + '/?locale=en');
    const w = new WizardPage(page);
    await w.runManual(ALICE.email, 'wrongwrongwrong1', testServers());
    await w.waitResult();
    const diag = w.byId('diagnosis-incoming');
    await diag.waitFor();
    assert.equal(await diag.getAttribute('data-code'), 'auth_failed');
    assert.ok((await w.byId('diagnosis-message').first().textContent()).trim().length > 10);
    await screenshot(page, 'flow-result-auth-failed');
    const report = await w.byId('report').inputValue();
    assert.match(report, /auth_failed/);
    assert.ok(!report.includes('wrongwrongwrong1'), 'the report never contains the password');
    await w.byId('fix-incoming').click();
    await w.waitStep('password');
    // The refused password is cleared, and focus is on the step's heading.
    assert.equal(await w.byId('password').inputValue(), '');
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'step-heading');
    // Fix it: Continue checks again at once, with the same servers.
    await w.byId('password').fill(ALICE.password);
    await w.next();
    await w.waitResult();
    await w.byId('result-ok').waitFor();
    assert.match(await w.byId('report').inputValue(), new RegExp(`:${testServers().imapsPort} `));
  });
});

test('Russian: chosen from the browser, every screen in Russian, switchable', async () => {
  await withPage({ locale: 'ru-RU' }, async (page) => {
    await page.goto(baseUrl() + '/');
    const w = new WizardPage(page);
    await w.waitStep('address');
    assert.equal(await w.heading().textContent(), 'Какой у вас адрес почты?');
    assert.equal(await page.getAttribute('html', 'lang'), 'ru');
    await page.getByLabel('Адрес электронной почты').fill(ALICE.email);
    await w.next();
    await w.waitStep('password');
    await page.getByLabel('Пароль', { exact: true }).fill('wrongwrongwrong1');
    await w.next();
    await w.fillServers(testServers());
    assert.ok(await page.getByLabel('Сервер IMAP').isVisible());
    await w.next();
    await w.waitResult();
    assert.equal(await w.heading().textContent(), 'Подключиться не удалось');
    // The diagnosis comes from the proxy in Russian too.
    assert.match(await w.byId('diagnosis-message').first().textContent(), /[А-Яа-яЁё]/);
    assert.equal(await w.byId('fix-incoming').textContent(), 'Изменить пароль');
    await screenshot(page, 'flow-result-auth-failed-ru');
    await w.byId('lang-en').click();
    assert.equal(await w.heading().textContent(), 'We could not connect');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
  });
});

test('keyboard only: Tab, typing and Enter get through every step', async () => {
  await withPage({}, async (page) => {
    await page.goto(baseUrl() + '/?locale=en');
    const w = new WizardPage(page);
    await w.waitStep('address');
    const active = () => page.evaluate(() => document.activeElement?.dataset?.testid || document.activeElement?.id || '');
    async function tabTo(testid, max = 15) {
      for (let i = 0; i < max; i++) {
        if ((await active()) === testid) return;
        await page.keyboard.press('Tab');
      }
      assert.fail(`Tab never reached ${testid} (at ${await active()})`);
    }
    async function typeInto(testid, text) {
      await tabTo(testid);
      await page.keyboard.press('Control+A');
      await page.keyboard.type(text);
    }
    const servers = testServers();
    await typeInto('email', ALICE.email);
    await page.keyboard.press('Enter');
    await w.waitStep('password');
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'step-heading');
    await typeInto('password', ALICE.password);
    await page.keyboard.press('Enter');
    await w.waitStep('servers');
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'step-heading');
    await typeInto('in-host', servers.host);
    await typeInto('in-port', String(servers.imapsPort));
    await typeInto('out-host', servers.host);
    await typeInto('out-port', String(servers.submissionsPort));
    await page.keyboard.press('Enter');
    await w.waitResult();
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'step-heading');
    await tabTo('done');
    await page.keyboard.press('Enter');
    await w.byId('done-status').filter({ hasText: /All set/ }).waitFor();
  });
});

test('the check can be cancelled, and back/forward keep the input', async () => {
  await withPage({}, async (page) => {
    await page.route(/\/api\/v1\/check(\/stream)?$/, async (route) => {
      await new Promise((r) => setTimeout(r, 4000));
      await route.continue().catch(() => {});
    });
    await page.goto(baseUrl() + '/?locale=en');
    const w = new WizardPage(page);
    await w.runManual(ALICE.email, ALICE.password, testServers());
    await w.waitStep('test');
    await w.byId('test-status').filter({ hasText: /Checking/ }).waitFor();
    await w.byId('cancel-check').click();
    await w.waitStep('servers');
    await w.byId('back').click();
    await w.byId('back').click();
    await w.waitStep('address');
    assert.equal(await w.byId('email').inputValue(), ALICE.email);
    await w.next();
    await w.waitStep('password');
    assert.equal(await w.byId('password').inputValue(), ALICE.password);
  });
});

test('Gmail: the provider is recognised and its preparation links open Google settings', async () => {
  await withPage({}, async (page) => {
    await page.goto(baseUrl() + '/?locale=en');
    const w = new WizardPage(page);
    // Validation as you type: quiet while the address is unfinished, live once it could be whole.
    await w.fillEmail('some one@gmail');
    assert.equal((await w.byId('email-error').textContent()).trim(), '');
    await w.byId('email').fill('some one@gmail.com');
    await w.byId('email-error').filter({ hasText: /\S/ }).waitFor();
    assert.equal(await w.byId('email').getAttribute('aria-invalid'), 'true');
    await w.byId('email').fill('someone@gmial.com');
    await w.byId('suggestion').waitFor();
    await w.byId('use-suggestion').click();
    assert.equal(await w.byId('email').inputValue(), 'someone@gmail.com');
    await w.byId('provider-status').filter({ hasText: /Gmail/ }).waitFor();
    await w.next();
    await w.waitStep('prepare');
    const links = await page.locator('a[data-testid^="prep-link-"]').evaluateAll(
      (as) => as.map((a) => ({ href: a.href, target: a.target, rel: a.rel })));
    assert.ok(links.some((l) => l.href.includes('myaccount.google.com/apppasswords')), JSON.stringify(links));
    assert.ok(links.every((l) => l.target === '_blank' && l.rel.includes('noopener')));
    assert.ok(await w.byId('shown-once').isVisible());
    // Continuing needs every box ticked.
    await w.next();
    await w.byId('prepare-error').filter({ hasText: /Tick/ }).waitFor();
    const ticks = page.locator('input[data-testid^="prep-tick-"]');
    for (let i = 0; i < await ticks.count(); i++) await ticks.nth(i).check();
    await w.next();
    await w.waitStep('password');
    assert.equal(await page.locator('label[for="password"]').textContent(), 'App password');
    assert.ok((await w.byId('password-hint').textContent()).length > 5, 'format hint shown');
    await w.byId('password').fill('MyAccountPassword!');
    await w.byId('password-warnings').filter({ hasText: /account password/ }).waitFor();
    await w.byId('password').fill('');
    await w.byId('password').focus();
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid=password]');
      el.value = ' abcd efgh ijkl mnop\n';
      el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertFromPaste' }));
    });
    assert.equal(await w.byId('password').inputValue(), 'abcdefghijklmnop');
    await w.next();
    await w.waitStep('servers');
    assert.match(await w.byId('servers-summary').textContent(), /imap\.gmail\.com/);
    assert.equal(await w.byId('in-host').isVisible(), false, 'folded under Advanced');
  });
});

test('a newer address wins: the recognition under way is aborted and its answer never applied', async () => {
  await withPage({}, async (page) => {
    await page.goto(baseUrl() + '/?locale=en');
    const w = new WizardPage(page);
    // A real provider's answer, as the proxy sends it: were the stale answer ever applied,
    // the wizard would name Yandex.
    const yandex = await page.evaluate(async () =>
      (await fetch('/api/v1/providers/lookup?email=anna%40yandex.ru')).text());
    assert.match(yandex, /Yandex/);
    // The first address's lookup is held (a slow answer the real proxy gives only by chance).
    let hold;
    const held = new Promise((resolve) => { hold = resolve; });
    await page.route(/\/api\/v1\/providers\/lookup\?email=[^&]*stale-domain\.test/, (route) => hold(route));
    const aborted = page.waitForEvent('requestfailed', (r) => r.url().includes('stale-domain.test'));
    await w.fillEmail('anna@stale-domain.test');
    const stale = await held;
    await w.byId('email').fill('anna@gmail.com');
    const failed = await aborted;
    assert.match(failed.failure().errorText, /ABORTED/, 'the stale lookup was aborted');
    await w.byId('provider-status').filter({ hasText: /Gmail/ }).waitFor();
    // The held answer arrives late (or cannot arrive at all): Gmail stays.
    await stale.fulfill({ status: 200, contentType: 'application/json', body: yandex }).catch(() => {});
    await w.next();
    await w.waitStep('prepare');
    const links = await page.locator('a[data-testid^="prep-link-"]').evaluateAll(
      (as) => as.map((a) => a.href));
    assert.ok(links.some((l) => l.includes('myaccount.google.com')), JSON.stringify(links));
    assert.ok(!links.some((l) => l.includes('yandex')), JSON.stringify(links));
    assert.doesNotMatch(await page.locator('main').textContent(), /Yandex/);
  });
});

test('no answer to the lookup: said as such (not "unknown domain"), and Continue asks again', async () => {
  await withPage({}, async (page) => {
    await page.goto(baseUrl() + '/?locale=en');
    const w = new WizardPage(page);
    const status = w.byId('provider-status');
    // The connection drops for the lookup and the discovery (the rest of the page works).
    const API = /\/api\/v1\/(providers\/lookup|discover)\?/;
    await page.route(API, (route) => route.abort('internetdisconnected'));
    await w.fillEmail('anna@gmail.com');
    await status.filter({ hasText: /could not look up this domain/ }).waitFor();
    assert.doesNotMatch(await status.textContent(), /Gmail|don't know this domain/);
    // It names the button as the button reads, in either language.
    for (const lang of ['ru', 'en']) {
      await w.byId(`lang-${lang}`).click();
      const label = (await w.byId('next').textContent()).trim();
      await status.filter({ hasText: label }).waitFor();
    }
    // Back online: Continue looks the domain up again before going on.
    await page.unroute(API);
    await w.next();
    await w.waitStep('prepare');
    const links = await page.locator('a[data-testid^="prep-link-"]').evaluateAll(
      (as) => as.map((a) => a.href));
    assert.ok(links.some((l) => l.includes('myaccount.google.com')), JSON.stringify(links));
  });
});

test('Outlook.com: honest that passwords do not work (OAuth only), in both languages', async () => {
  await withPage({}, async (page) => {
    await page.goto(baseUrl() + '/?locale=en');
    const w = new WizardPage(page);
    await w.fillEmail('someone@outlook.com');
    await w.byId('provider-status').filter({ hasText: /Outlook/ }).waitFor();
    await w.next();
    await w.waitStep('prepare');
    const warning = w.byId('provider-warning');
    assert.match(await warning.textContent(), /not accept passwords/);
    assert.equal((await w.byId('next').textContent()).trim(), 'Try anyway');
    await screenshot(page, 'flow-prepare-oauth-only');
    await w.byId('lang-ru').click();
    assert.match(await warning.textContent(), /не принимает пароли/);
    assert.match(await warning.textContent(), /Microsoft/);
  });
});

test('screenshots of every step: desktop and phone, light and dark', async () => {
  for (const v of VARIANTS) {
    await withPage({ viewport: v.viewport, colorScheme: v.colorScheme }, async (page) => {
      await page.route(/\/api\/v1\/check(\/stream)?$/, async (route) => {
        await new Promise((r) => setTimeout(r, 1500));
        await route.continue().catch(() => {});
      });
      const shot = (name) => screenshot(page, `${v.name}-${name}`);
      const w = new WizardPage(page);
      await page.goto(baseUrl() + '/?locale=en');
      await w.fillEmail('someone@gmail.com');
      await w.byId('provider-status').filter({ hasText: /Gmail/ }).waitFor();
      await shot('1-address');
      await w.next();
      await w.waitStep('prepare');
      await shot('2-prepare');
      await page.goto(baseUrl() + '/?locale=en');
      await w.fillEmail(ALICE.email);
      await w.next();
      await w.fillPassword(ALICE.password);
      await shot('3-password');
      await w.next();
      await w.fillServers(testServers());
      await shot('4-servers');
      await w.next();
      await w.waitStep('test');
      await shot('5-test');
      await w.waitResult();
      await shot('6-result-ok');
      await w.byId('back').click();
      await w.waitStep('servers');
      await w.byId('back').click();
      await w.byId('password').fill('wrongwrongwrong1');
      await w.next();
      await w.next();
      await w.waitResult();
      await w.byId('diagnosis-incoming').waitFor();
      await shot('7-result-failed');
    });
  }
});

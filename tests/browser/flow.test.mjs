// The wizard survives real use (issue 13): Back/Forward between steps, a reload mid-flow,
// Done once, the named stepper, a refused password, the Russian-layout conversion, the
// typo question, advice that fits who filled the field, and tap targets on a phone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALICE, baseUrl, fakeStream, recordSteps, screenshot, stepsSeen,
  streamedFailure, testServers, withPage,
} from './support.mjs';

const historyBack = (page) => page.evaluate(() => history.back());
const historyForward = (page) => page.evaluate(() => history.forward());

/** Gmail's address, its preparation ticked, to the password step. */
async function gmailToPassword(w, page) {
  await w.fillEmail('someone@gmail.com');
  await w.byId('provider-status').filter({ hasText: /Gmail/ }).waitFor();
  await w.next();
  await w.waitStep('prepare');
  const ticks = page.locator('input[data-testid^="prep-tick-"]');
  for (let i = 0; i < await ticks.count(); i++) await ticks.nth(i).check();
  await w.next();
  await w.waitStep('password');
}

test('history: each step is an entry, Back and Forward move between steps', async () => {
  await withPage({}, async (page, w) => {
    await page.goto(baseUrl() + '/?locale=en');
    const start = await page.evaluate(() => history.length);
    await w.fillEmail(ALICE.email);
    await w.next();
    await w.fillPassword(ALICE.password);
    await w.next();
    await w.waitStep('servers');
    assert.equal(await page.evaluate(() => history.length), start + 2, 'one entry per step');
    await historyBack(page);
    await w.waitStep('password');
    assert.equal(await w.byId('password').inputValue(), ALICE.password, 'Back keeps the input');
    await historyBack(page);
    await w.waitStep('address');
    assert.equal(await w.byId('email').inputValue(), ALICE.email);
    await historyForward(page);
    await w.waitStep('password');
    await historyForward(page);
    await w.waitStep('servers');
    // The wizard's own Back is the browser's Back: Forward works after it too.
    await w.byId('back').click();
    await w.waitStep('password');
    await historyForward(page);
    await w.waitStep('servers');
    assert.equal(await page.evaluate(() => history.length), start + 2, 'no entries piled up');
    // A finished check: Back from the result leads to the servers, not into a new check.
    await w.fillServers(testServers());
    await w.next();
    await w.waitResult();
    await recordSteps(page);
    await historyBack(page);
    await w.waitStep('servers');
    await historyForward(page);
    await w.waitStep('result');
    assert.ok(!(await stepsSeen(page)).includes('test'), 'history never re-runs a check');
  });
});

test('reload: the flow continues where it was, without the password', async () => {
  await withPage({}, async (page, w) => {
    await page.goto(baseUrl() + '/?locale=en');
    await w.fillEmail('someone@gmail.com');
    await w.byId('provider-status').filter({ hasText: /Gmail/ }).waitFor();
    await w.next();
    await w.waitStep('prepare');
    await w.byId('prep-tick-0').check();
    await page.reload();
    await w.waitStep('prepare');
    assert.equal(await w.byId('prep-tick-0').isChecked(), true, 'ticks survive a reload');
    assert.equal(await w.byId('prep-tick-1').isChecked(), false);
    await historyBack(page);
    await w.waitStep('address');
    assert.equal(await w.byId('email').inputValue(), 'someone@gmail.com');
  });
  await withPage({}, async (page, w) => {
    // A check that takes its time, so the reload happens during it.
    await page.route(/\/api\/v1\/check(\/stream)?$/, async (route) => {
      await new Promise((r) => setTimeout(r, 3000));
      await route.continue().catch(() => {});
    });
    await page.goto(baseUrl() + '/?locale=en');
    await w.runManual(ALICE.email, ALICE.password, testServers());
    await w.waitStep('test');
    const saved = await page.evaluate(() => JSON.stringify(Object.entries(sessionStorage)));
    assert.match(saved, /alice@example\.test/, 'the flow is kept');
    assert.ok(!saved.includes(ALICE.password), 'the password is never stored');
    await page.reload();
    await w.waitStep('servers');
    assert.equal(await w.byId('email').count(), 0);
    assert.equal(await w.byId('in-port').inputValue(), String(testServers().imapsPort));
    assert.equal(await w.byId('out-port').inputValue(), String(testServers().submissionsPort));
    await screenshot(page, 'flow-reload-during-check');
    // The password was not kept: Continue asks for it before checking.
    await w.next();
    await w.waitStep('password');
    assert.equal(await w.byId('password').inputValue(), '');
    await w.byId('password-error').filter({ hasText: /Enter the password/ }).waitFor();
    // A new visit of the page (not a reload) starts over.
    await page.goto(baseUrl() + '/?locale=en');
    await w.waitStep('address');
    assert.equal(await w.byId('email').inputValue(), '');
  });
});

test('Done twice sends mailsetup:verified once and shows the final state', async () => {
  await withPage({}, async (page, w) => {
    await page.goto(baseUrl() + '/?locale=en');
    await page.evaluate(() => {
      window.__verified = 0;
      document.addEventListener('mailsetup:verified', () => { window.__verified += 1; });
    });
    await w.runManual(ALICE.email, ALICE.password, testServers());
    await w.waitResult();
    await w.byId('done').evaluate((b) => { b.click(); b.click(); });
    await w.byId('final').filter({ hasText: /All set/ }).waitFor();
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => window.__verified), 1);
    assert.equal(await w.byId('done').count(), 0, 'Done is gone once used');
  });
});

test('stepper: six named steps that never change length; a failed result is marked', async () => {
  await withPage({}, async (page, w) => {
    const names = () => page.locator('[data-testid=stepper] li').evaluateAll(
      (lis) => lis.map((li) => `${li.querySelector('.step-name').textContent}:${li.dataset.mark}`));
    await page.goto(baseUrl() + '/?locale=en');
    await w.waitStep('address');
    const first = await names();
    assert.deepEqual(first.map((n) => n.split(':')[0]),
      ['Address', 'Prepare', 'Password', 'Servers', 'Check', 'Result']);
    await w.byId('email').pressSequentially('anna@yandex.ru', { delay: 10 });
    await w.byId('provider-status').filter({ hasText: /Yandex/ }).waitFor();
    assert.equal((await names()).length, 6, 'typing a Yandex address keeps six steps');
    assert.equal(await w.byId('stepper-prepare').getAttribute('data-mark'), 'upcoming');
    await w.byId('email').fill(ALICE.email);
    await w.byId('stepper-prepare').and(page.locator('[data-mark=skipped]')).waitFor();
    assert.equal(await w.byId('stepper-address').getAttribute('aria-current'), 'step');
    await w.next();
    await w.fillPassword('wrongwrongwrong1');
    await w.next();
    await w.fillServers(testServers());
    await w.next();
    await w.waitResult();
    assert.equal(await w.byId('stepper-result').getAttribute('data-mark'), 'failed');
    assert.equal(await w.byId('stepper-test').getAttribute('data-mark'), 'done');
    assert.match(await w.byId('stepper-result').textContent(), /failed/);
    await screenshot(page, 'flow-stepper-failed');
  });
});

test('a refused password: cleared, explained, and Continue checks again at once', async () => {
  await withPage({}, async (page, w) => {
    await page.goto(baseUrl() + '/?locale=en');
    await w.runManual(ALICE.email, 'wrongwrongwrong1', testServers());
    await w.waitResult();
    await w.byId('fix-incoming').click();
    await w.waitStep('password');
    assert.equal(await w.byId('password').inputValue(), '', 'the refused password is cleared');
    assert.match(await w.byId('password-refused').textContent(), /refused/);
    assert.equal((await w.byId('next').textContent()).trim(), 'Check again');
    await screenshot(page, 'flow-password-refused');
    await recordSteps(page);
    await w.byId('password').fill(ALICE.password);
    await w.next();
    await w.waitResult();
    await w.byId('result-ok').waitFor();
    assert.ok(!(await stepsSeen(page)).includes('servers'), 'no second servers screen');
  });
});

test('Russian layout: a conversion button with before and after, no contradicting warnings', async () => {
  await withPage({}, async (page, w) => {
    await page.goto(baseUrl() + '/?locale=en');
    await gmailToPassword(w, page);
    // "abcdefghijklmnop" typed with the Russian layout on.
    await w.byId('password').fill('фисвуапршолдьтщз');
    await w.byId('layout').waitFor();
    assert.equal(await w.byId('layout-before').textContent(), '•'.repeat(16), 'masked unless shown');
    assert.equal(await w.byId('layout-after').textContent(), '•'.repeat(16));
    assert.doesNotMatch(await w.byId('password-warnings').textContent(), /account password/);
    await w.byId('toggle-password').click();
    assert.equal(await w.byId('layout-before').textContent(), 'фисвуапршолдьтщз');
    assert.equal(await w.byId('layout-after').textContent(), 'abcdefghijklmnop');
    await screenshot(page, 'flow-password-layout');
    await w.byId('convert-layout').click();
    assert.equal(await w.byId('password').inputValue(), 'abcdefghijklmnop');
    assert.equal(await w.byId('layout').count(), 0);
    await w.byId('password-cleaned').filter({ hasText: /English layout/ }).waitFor();
  });
});

test('did you mean: near misses of known domains and endings, asked once before going on', async () => {
  await withPage({}, async (page, w) => {
    await page.goto(baseUrl() + '/?locale=en');
    await w.fillEmail('anna@yandex.ry');
    await w.byId('suggestion').filter({ hasText: 'anna@yandex.ru' }).waitFor();
    await w.byId('email').fill('anna@gmial.com');
    await w.byId('suggestion').filter({ hasText: 'anna@gmail.com' }).waitFor();
    assert.equal((await w.byId('provider-status').textContent()).trim(), '',
      'no "we do not know this domain" beside the suggestion');
    await w.next();
    await w.byId('suggestion').filter({ hasText: /press Continue again/ }).waitFor();
    await w.waitStep('address');
    await screenshot(page, 'flow-address-typo-question');
    await w.next();
    await w.waitStep('password');
    await historyBack(page);
    await w.waitStep('address');
    await w.byId('email').fill('bob@example.con');
    await w.byId('suggestion').filter({ hasText: 'bob@example.com' }).waitFor();
  });
});

test('advice fits who filled the field; timeouts offer the server settings', async () => {
  await withPage({}, async (page, w) => {
    await fakeStream(page, streamedFailure({
      code: 'dns_not_found', host: 'imap.gmail.com',
      advice: 'Check the server name for typos in the settings above.',
    }));
    await page.goto(baseUrl() + '/?locale=en');
    await gmailToPassword(w, page);
    await w.byId('password').fill('abcdefghijklmnop');
    await w.next();
    await w.waitStep('servers');
    await w.next();
    await w.waitResult();
    const advice = await w.byId('diagnosis-advice').textContent();
    assert.doesNotMatch(advice, /typo/);
    assert.match(advice, /comes from our data/);
  });
  await withPage({}, async (page, w) => {
    await fakeStream(page, streamedFailure({ code: 'server_timeout', advice: 'Check the port and encryption.' }));
    await page.goto(baseUrl() + '/?locale=en');
    await w.fillEmail(ALICE.email);
    await w.next();
    await w.fillPassword(ALICE.password);
    await w.next();
    await w.waitStep('servers');
    // An unknown domain: the outgoing server can be set to the incoming one.
    await w.byId('in-host').fill('mail.example.test');
    await w.byId('same-as-incoming').click();
    assert.equal(await w.byId('out-host').inputValue(), 'mail.example.test');
    await w.next();
    await w.waitResult();
    await w.byId('fix-incoming-servers').click();
    await w.waitStep('servers');
  });
});

test('tap targets are at least 44 px on a 375 px phone', async () => {
  await withPage({ viewport: { width: 375, height: 740 } }, async (page, w) => {
    const small = () => page.evaluate(() => {
      const sel = 'button, a.button, select, input[type=text], input[type=email], input[type=password], ' +
        'summary, label.radio, label.tick';
      return [...document.querySelectorAll(sel)]
        .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
        .map((el) => ({ el, r: el.getBoundingClientRect() }))
        .filter(({ r }) => r.height < 43.5 || r.width < 43.5)
        .map(({ el, r }) => `${el.tagName.toLowerCase()}[${el.dataset.testid || el.className || el.textContent.trim()}] ` +
          `${Math.round(r.width)}x${Math.round(r.height)}`);
    });
    const checked = [];
    async function expectBig(where) {
      checked.push(where);
      assert.deepEqual(await small(), [], `tap targets under 44 px on ${where}`);
    }
    await page.goto(baseUrl() + '/?locale=en');
    await w.fillEmail('anna@gmial.com');
    await w.byId('suggestion').waitFor();
    await expectBig('address with a suggestion');
    await w.byId('use-suggestion').click();
    await w.byId('provider-status').filter({ hasText: /Gmail/ }).waitFor();
    await w.next();
    await w.waitStep('prepare');
    await expectBig('prepare');
    await page.goto(baseUrl() + '/?locale=en');
    await w.fillEmail(ALICE.email);
    await w.next();
    await w.fillPassword('wrongwrongwrong1');
    await expectBig('password');
    await w.next();
    await w.fillServers(testServers());
    await expectBig('servers');
    await w.next();
    await w.waitResult();
    await expectBig('result');
    await screenshot(page, 'phone-375-result-failed');
    assert.equal(checked.length, 5);
  });
});

test('Russian walk: no Latin words in the interface except names of things', async () => {
  // Names of things that stay as they are: protocols, encryption, IT, the language switch.
  const allowed = /\b(IMAP|POP3|SMTP|SSL|TLS|STARTTLS|EHLO|IT|Caps Lock|English|Gmail|Google)\b/g;
  await withPage({ locale: 'ru-RU' }, async (page, w) => {
    const latin = () => page.evaluate(() => {
      const skip = '.mono, .detail, [lang]:not(html), textarea, input';
      const texts = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (n.parentElement.closest(skip)) continue;
        if (n.parentElement.closest('script, style, noscript')) continue;
        texts.push(n.textContent);
      }
      return texts.join(' ');
    });
    const strip = (text) => text
      .replace(/[\w.+-]+@[\w.-]+/g, ' ')
      .replace(/\b[\w-]+(\.[\w-]+)+\b/g, ' ')
      .replace(allowed, ' ');
    async function expectRussian(where) {
      const left = strip(await latin()).match(/[A-Za-z]{2,}/g);
      assert.equal(left, null, `Latin words on ${where}: ${left}`);
    }
    await page.goto(baseUrl() + '/');
    await w.waitStep('address');
    await expectRussian('address');
    await w.fillEmail('anna@yandex.ru');
    await w.byId('provider-status').filter({ hasText: /\S/ }).waitFor();
    await w.next();
    await w.waitStep('prepare');
    assert.equal(await page.locator('[data-testid=provider-warning] strong:empty').count(), 0, 'no empty <strong>');
    await page.goto(baseUrl() + '/');
    await w.fillEmail(ALICE.email);
    await w.next();
    await w.fillPassword('wrongwrongwrong1');
    await expectRussian('password');
    await w.next();
    await w.fillServers(testServers());
    await expectRussian('servers');
    await w.next();
    await w.waitResult();
    await page.locator('details.checked').evaluate((d) => { d.open = true; });
    await expectRussian('result (failed)');
    assert.deepEqual(await page.locator('.checks .sr-only').evaluateAll(
      (els) => els.filter((e) => /OK|Failed/.test(e.textContent)).length), 0, 'screen-reader prefixes in Russian');
    await w.byId('fix-incoming').click();
    await w.byId('password').fill(ALICE.password);
    await w.next();
    await w.waitResult();
    await w.byId('result-ok').waitFor();
    await expectRussian('result (ok)');
    await screenshot(page, 'flow-result-ok-ru');
  });
});

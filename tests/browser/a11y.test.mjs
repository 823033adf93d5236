// axe-core (npm `axe-core`, WCAG 2.1 A and AA rules) on every step of the wizard, in the
// light and the dark colour scheme: no violations allowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALICE, WizardPage, axeViolations, baseUrl, launch, openPage, testServers,
} from './support.mjs';

for (const colorScheme of ['light', 'dark']) {
  test(`axe-core finds no WCAG 2.1 AA violations on any step (${colorScheme})`, async () => {
    const chrome = await launch();
    try {
      const page = await openPage(chrome, { colorScheme });
      const w = new WizardPage(page);
      const found = {};
      async function audit(where) {
        // Let transitions and arrival animations settle before judging colours.
        await page.waitForTimeout(300);
        const v = await axeViolations(page);
        if (v.length) found[where] = v;
      }
      // A check that takes its time, so the test screen can be audited mid-check.
      await page.route(/\/api\/v1\/check\/stream$/, async (route) => {
        await new Promise((r) => setTimeout(r, 2500));
        await route.continue().catch(() => {});
      });
      await page.goto(baseUrl() + '/?locale=en');
      await w.fillEmail('anna@gmial.com');
      await w.byId('suggestion').waitFor();
      await audit('address with a suggestion');
      await w.next();
      await w.byId('suggestion').filter({ hasText: /Continue again/ }).waitFor();
      await audit('address with the typo question');
      await w.byId('use-suggestion').click();
      await w.byId('provider-status').filter({ hasText: /Gmail/ }).waitFor();
      await w.next();
      await w.waitStep('prepare');
      await audit('prepare');
      const ticks = page.locator('input[data-testid^="prep-tick-"]');
      for (let i = 0; i < await ticks.count(); i++) await ticks.nth(i).check();
      await w.next();
      await w.waitStep('password');
      await w.byId('password').fill('фисвуапршолдьтщз');
      await w.byId('layout').waitFor();
      await audit('password with the layout conversion');
      await w.next();
      await w.waitStep('servers');
      await w.byId('advanced').evaluate((d) => { d.open = true; });
      await audit('servers (known provider, advanced open)');
      await page.goto(baseUrl() + '/?locale=ru');
      await w.fillEmail(ALICE.email);
      await w.next();
      await w.fillPassword('wrongwrongwrong1');
      await w.next();
      await w.fillServers(testServers());
      await audit('servers (unknown domain, Russian)');
      await w.next();
      await w.waitStep('test');
      await audit('test (running)');
      await w.waitResult();
      await w.byId('diagnosis-incoming').waitFor();
      await audit('result (failed)');
      await w.byId('fix-incoming').click();
      await w.waitStep('password');
      await audit('password after a refused login');
      await w.byId('password').fill(ALICE.password);
      await w.next();
      await w.waitResult();
      await w.byId('result-ok').waitFor();
      await audit('result (ok)');
      await w.byId('done').click();
      await w.byId('final').waitFor();
      await audit('result (done)');
      assert.deepEqual(found, {}, JSON.stringify(found, null, 2));
      assert.deepEqual(page.errors, []);
    } finally {
      await chrome.close();
    }
  });
}

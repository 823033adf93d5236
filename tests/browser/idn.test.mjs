// International domain names in the browser: the wasm build has no IDNA tables of its own
// and converts names with the browser's URL parser (shared::idn), so this checks that path
// for real: a Unicode domain is accepted, a name UTS 46 refuses is not, and typo
// suggestions (from the built-in domain index) still work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WizardPage, baseUrl, launch, openPage } from './support.mjs';

test('address step: Unicode domains through the browser URL parser, typo suggestions', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome);
    await page.goto(baseUrl() + '/?locale=en');
    const w = new WizardPage(page);
    const error = async (email) => {
      await w.fillEmail(email);
      await w.byId('email').press('Tab');
      return ((await w.byId('email-error').textContent()) || '').trim();
    };
    assert.equal(await error('ivan@пример.рф'), '', 'a Cyrillic domain is valid');
    assert.equal(await error('ivan@MÜNCHEN.de'), '', 'upper case Unicode is mapped');
    assert.equal(await error('ivan@xn--e1afmkfd.xn--p1ai'), '', 'punycode as typed is valid');
    assert.notEqual(await error('ivan@bad\uFFFDname.com'), '', 'U+FFFD is refused');
    assert.notEqual(await error('ivan@xn--zz-.com'), '', 'broken punycode is refused');
    await w.fillEmail('ivan@gmial.com');
    await w.byId('suggestion').waitFor();
    assert.match(await w.byId('suggestion').textContent(), /gmail\.com/);
    assert.deepEqual(page.errors, [], 'no uncaught errors in the page');
  } finally {
    await chrome.close();
  }
});

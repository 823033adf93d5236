// The release build's split (issue 15): the first screen loads without the later steps'
// chunk, which arrives while the browser is idle; after that the wizard goes on without
// the network, and a chunk that cannot be fetched says so and can be tried again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALICE, baseUrl, withPage } from './support.mjs';

const CHUNK = /\/split_later-[0-9a-f]{8,16}\.wasm$/;

test('the later steps arrive after the first screen; then the wizard goes on offline', async () => {
  await withPage({}, async (page, w) => {
    const chunk = page.waitForResponse((r) => CHUNK.test(r.url()) && r.ok());
    await page.goto(baseUrl() + '/?locale=en');
    await w.waitStep('address');
    // The chunk is fetched without any step asking for it, and kept.
    await (await chunk).finished();
    await page.context().setOffline(true);
    await w.fillEmail(ALICE.email);
    await w.next();
    await w.waitStep('password');
    await w.byId('password').waitFor();
    assert.ok((await w.heading().textContent()).trim().length > 0, 'the step has its heading');
    assert.equal(await w.byId('step-unloaded').count(), 0, 'no load failure shown');
  });
});

test('a chunk that cannot be fetched: a clear message, and Try again loads it', async () => {
  await withPage({}, async (page, w) => {
    await page.route(CHUNK, (route) => route.abort());
    await page.goto(baseUrl() + '/?locale=en');
    await w.fillEmail(ALICE.email);
    await w.next();
    await w.waitStep('password');
    const failed = w.byId('step-unloaded');
    await failed.waitFor();
    assert.match(await failed.textContent(), /could not be loaded/);
    // Back leads to the address, which needs no chunk; Continue asks for it again.
    await w.byId('back').click();
    await w.waitStep('address');
    assert.equal(await w.byId('email').inputValue(), ALICE.email, 'the address is kept');
    await w.next();
    await w.waitStep('password');
    await failed.waitFor();
    await page.unroute(CHUNK);
    await page.getByRole('button', { name: 'Try again' }).click();
    await w.byId('password').waitFor();
    assert.equal(await w.byId('step-unloaded').count(), 0, 'the message is gone');
  });
});

test('recognising the provider waits for the chunk: without it the address step still works, with it the provider is known', async () => {
  await withPage({}, async (page, w) => {
    const status = w.byId('provider-status');
    await page.route(CHUNK, (route) => route.abort());
    await page.goto(baseUrl() + '/?locale=en');
    await w.waitStep('address');
    // The typo suggestion and the validation are the first screen's own.
    await w.fillEmail('someone@gmial.com');
    await w.byId('suggestion').waitFor();
    // The answer's decoder is in the chunk, which cannot come: the lookup ends without a
    // provider, and the status says the lookup failed, not that the domain is unknown.
    await w.fillEmail('someone@gmail.com');
    await page.waitForFunction(
      () => /could not look up this domain/.test(document.querySelector('[data-testid=provider-status]').textContent),
    );
    assert.doesNotMatch(await status.textContent(), /Gmail|don't know this domain/);
    // Once the chunk can come, the next address is recognised.
    await page.unroute(CHUNK);
    await w.fillEmail('someone@yandex.ru');
    await page.waitForFunction(
      () => /Provider recognised: Yandex/.test(document.querySelector('[data-testid=provider-status]').textContent),
    );
    await w.next();
    await w.waitStep('prepare');
    assert.equal(await w.byId('step-unloaded').count(), 0, 'no load failure shown');
  });
});

// The test screen shows each step live: against the real Dovecot (incoming) and a scripted
// submission server that greets at once but answers the login only after a few seconds
// (outgoing, MAILTEST_SLOW_SMTP_PORT), finished steps must be on screen while the check is
// still running, and the result must follow. Also saves screenshots of the live screen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALICE, VARIANTS, WizardPage, baseUrl, env, launch, openPage, screenshot, testServers,
} from './support.mjs';

/** Address -> password -> servers (incoming Dovecot, outgoing the slow fake) -> test. */
async function startSlowCheck(page) {
  await page.goto(baseUrl() + '/?locale=en');
  const w = new WizardPage(page);
  const servers = testServers();
  await w.fillEmail(ALICE.email);
  await w.next();
  await w.fillPassword(ALICE.password);
  await w.next();
  await w.fillServers(servers);
  await w.byId('out-sec').selectOption('none');
  await w.byId('out-port').fill(env('MAILTEST_SLOW_SMTP_PORT'));
  await w.next();
  await w.waitStep('test');
  return w;
}

/** What the page shows at one instant (read in one go, so the parts agree). */
function snapshot(page) {
  return page.evaluate(() => {
    const rows = (side) => [...document.querySelectorAll(`[data-testid=live-${side}] li[data-kind]`)]
      .map((li) => ({ kind: li.dataset.kind, ok: li.dataset.ok === 'true', text: li.textContent }));
    const card = (side) => document.querySelector(`[data-testid=test-${side}]`)?.dataset.state;
    return {
      step: document.querySelector('main')?.dataset.step,
      incoming: rows('incoming'),
      outgoing: rows('outgoing'),
      incomingState: card('incoming'),
      outgoingState: card('outgoing'),
      outgoingPending: !!document.querySelector('[data-testid=live-outgoing-pending]'),
      announce: document.querySelector('[data-testid=live-announce]')?.textContent || '',
    };
  });
}

test('live steps: finished steps show while the check is still running, then the result', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome, {});
    const w = await startSlowCheck(page);
    // The incoming side (real Dovecot) finishes while the outgoing login is still held.
    await w.byId('live-incoming').locator('li[data-kind=logout][data-ok=true]').waitFor();
    await w.byId('live-outgoing').locator('li[data-kind=greeting][data-ok=true]').waitFor();
    const s = await snapshot(page);
    assert.equal(s.step, 'test', `still on the test screen: ${JSON.stringify(s)}`);
    assert.equal(s.incomingState, 'passed');
    assert.ok(s.incoming.some((r) => r.kind === 'auth' && r.ok && /Signing in/.test(r.text)), JSON.stringify(s));
    assert.ok(s.incoming.some((r) => r.kind === 'mailbox' && r.ok), JSON.stringify(s));
    assert.ok(s.outgoing.some((r) => r.kind === 'connect' && r.ok), JSON.stringify(s));
    assert.ok(!s.outgoing.some((r) => r.kind === 'auth'), `login not answered yet: ${JSON.stringify(s)}`);
    assert.equal(s.outgoingState, 'running');
    assert.ok(s.outgoingPending, 'the step under way is shown as in progress');
    // Screen readers hear the side's outcome once, not every step.
    assert.match(s.announce, /Incoming mail: every step passed\./);
    assert.doesNotMatch(s.announce, /Outgoing/);
    await w.byId('test-status').filter({ hasText: /Checking/ }).waitFor();
    // Then the login is answered and the result arrives.
    await w.waitResult();
    await w.byId('result-ok').waitFor();
    assert.match(await w.byId('report-outgoing').textContent(), /Checking the sender address/);
    assert.deepEqual(page.errors, [], 'no uncaught errors in the page');
  } finally {
    await chrome.close();
  }
});

test('live steps: a cancelled check stops and its late steps do not come back', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome, {});
    const w = await startSlowCheck(page);
    await w.byId('live-outgoing').locator('li[data-kind=greeting]').waitFor();
    await w.byId('cancel-check').click();
    await w.waitStep('servers');
    await w.next();
    await w.waitStep('test');
    // The new check starts from an empty list: once its greeting is in, there is exactly
    // one of each early step (the cancelled check's rows are gone).
    await w.byId('live-outgoing').locator('li[data-kind=greeting]').waitFor();
    const s = await snapshot(page);
    for (const kind of ['resolve', 'connect', 'greeting']) {
      assert.equal(s.outgoing.filter((r) => r.kind === kind).length, 1, `${kind}: ${JSON.stringify(s)}`);
    }
    await w.byId('cancel-check').click();
    await w.waitStep('servers');
    assert.deepEqual(page.errors, [], 'no uncaught errors in the page');
  } finally {
    await chrome.close();
  }
});

test('screenshots of the live test screen mid-check: desktop and phone, light and dark', async () => {
  for (const v of VARIANTS) {
    const chrome = await launch();
    try {
      const page = await openPage(chrome, { viewport: v.viewport, colorScheme: v.colorScheme });
      const w = await startSlowCheck(page);
      await w.byId('live-incoming').locator('li[data-kind=logout]').waitFor();
      await w.byId('live-outgoing').locator('li[data-kind=greeting]').waitFor();
      // Let the arrival animation settle before the picture.
      await page.waitForTimeout(300);
      await screenshot(page, `${v.name}-5-test-live`);
      await w.byId('cancel-check').click();
      await w.waitStep('servers');
    } finally {
      await chrome.close();
    }
  }
});

test('live steps: without the stream endpoint (an older proxy) the plain check still works', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome, {});
    const seen = [];
    page.on('request', (r) => seen.push(new URL(r.url()).pathname));
    await page.route(/\/api\/v1\/check\/stream$/, (route) => route.fulfill({
      status: 404, contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'not_found', message: 'no such route' } }),
    }));
    await page.goto(baseUrl() + '/?locale=en');
    const w = new WizardPage(page);
    await w.runManual(ALICE.email, ALICE.password, testServers());
    await w.waitResult();
    await w.byId('result-ok').waitFor();
    assert.ok(seen.includes('/api/v1/check/stream'), JSON.stringify(seen));
    assert.ok(seen.includes('/api/v1/check'), JSON.stringify(seen));
    assert.deepEqual(page.errors, [], 'no uncaught errors in the page');
  } finally {
    await chrome.close();
  }
});

test('live steps: a stream that breaks after its first event logs in once and says so', async () => {
  const chrome = await launch();
  try {
    const page = await openPage(chrome, {});
    const seen = [];
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/api/v1/check')) seen.push(path);
    });
    // The proxy's stream sends one step, then the connection ends without a result.
    await page.route(/\/api\/v1\/check\/stream$/, (route) => route.fulfill({
      status: 200,
      contentType: 'text/event-stream',
      body: 'event: step\ndata: {"side":"incoming","step":{"step":"resolve","ok":true,"ms":3}}\n\n',
    }));
    await page.goto(baseUrl() + '/?locale=en');
    const w = new WizardPage(page);
    await w.runManual(ALICE.email, ALICE.password, testServers());
    await w.waitStep('test');
    await w.byId('test-error').filter({ hasText: /connection to the checking service broke/ }).waitFor();
    await w.byId('retry').waitFor();
    // Give a silent second check every chance to show up before counting.
    await page.waitForTimeout(1500);
    assert.deepEqual(seen, ['/api/v1/check/stream'], 'exactly one check, no silent second login');
    assert.equal(await page.locator('main').getAttribute('data-step'), 'test');
    await screenshot(page, 'flow-test-stream-broken');
    assert.deepEqual(page.errors, [], 'no uncaught errors in the page');
  } finally {
    await chrome.close();
  }
});

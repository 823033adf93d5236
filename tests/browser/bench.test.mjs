// Benchmark (reported, not asserted): time from navigation to the first step being
// interactive (the email field rendered and focusable) in headless Chromium, median of 5
// cold loads with the cache disabled, plus the transferred size of wasm + JS + CSS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { baseUrl, launch } from './support.mjs';

test('benchmark: navigation to the first interactive step', async (t) => {
  const chrome = await launch();
  try {
    const times = [];
    let bytes = {};
    for (let i = 0; i < 5; i++) {
      const context = await chrome.browser.newContext();
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      const sizes = {};
      const urls = {};
      cdp.on('Network.responseReceived', (e) => { urls[e.requestId] = e.response.url; });
      cdp.on('Network.loadingFinished', (e) => {
        const u = urls[e.requestId] || '';
        const kind = u.endsWith('.wasm') ? 'wasm' : u.endsWith('.js') ? 'js' : u.endsWith('.css') ? 'css' : null;
        if (kind) sizes[kind] = (sizes[kind] || 0) + e.encodedDataLength;
      });
      await page.goto(baseUrl() + '/?locale=en', { waitUntil: 'commit' });
      await page.getByTestId('email').waitFor({ state: 'visible' });
      const ms = await page.evaluate(() => {
        const el = document.querySelector('[data-testid=email]');
        el.focus();
        if (document.activeElement !== el) return -1;
        const nav = performance.getEntriesByType('navigation')[0];
        return performance.now() - (nav ? nav.startTime : 0);
      });
      assert.ok(ms > 0, 'the email field takes focus');
      times.push(ms);
      bytes = sizes;
      await context.close();
    }
    times.sort((a, b) => a - b);
    const result = {
      median_ms: Math.round(times[2]),
      min_ms: Math.round(times[0]),
      max_ms: Math.round(times[4]),
      transferred_bytes: bytes,
    };
    t.diagnostic(`first step interactive: ${JSON.stringify(result)}`);
    const dir = process.env.MAILSETUP_SCREENSHOTS;
    if (dir) {
      mkdirSync(join(dir, '..'), { recursive: true });
      writeFileSync(join(dir, '..', 'bench-frontend.json'), JSON.stringify(result, null, 2) + '\n');
    }
  } finally {
    await chrome.close();
  }
});

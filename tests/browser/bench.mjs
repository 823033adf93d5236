// Benchmark, not a test (so `node --test` does not pick it up): time from navigation to
// the first step being interactive (the email field rendered and focusable) in headless
// Chromium, median of 5 cold loads with the cache disabled, plus the transferred size of
// wasm + JS + CSS. Run by `cargo xtask bench` (tests/src/bin/bench-frontend.rs starts the
// proxy on dist/ and runs `node bench.mjs` with MAILSETUP_URL set); prints one JSON line
// and writes build/bench-frontend.json.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { baseUrl, launch } from './support.mjs';

async function main() {
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
      if (ms < 0) throw new Error('the email field does not take focus');
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
    console.log(`first step interactive: ${JSON.stringify(result)}`);
    const out = process.env.MAILSETUP_BENCH_OUT;
    if (out) {
      mkdirSync(join(out, '..'), { recursive: true });
      writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    }
  } finally {
    await chrome.close();
  }
}

await main();

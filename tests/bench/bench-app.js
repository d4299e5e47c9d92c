#!/usr/bin/env node
/* bench-app.js — the browser half of bench-app.py: how fast the teachers' web app paints on a
   low-end phone. Not a test: it checks nothing about the app beyond what it needs to measure.

   Usage: node bench-app.js BASE_URL RUNS

   BASE_URL is a running `kho serve` (http://127.0.0.1:PORT/) with the bundled packs; bench-app.py
   starts it. Drives Debian's Chromium (/usr/bin/chromium, or $KHO_CHROMIUM), headless, with
   playwright-core from tests/web/node_modules, in a 360×740 phone viewport (deviceScaleFactor 2,
   isMobile, hasTouch), and measures RUNS times each, every run in a new browser context:

     home-cold     /                      CPU 6× slower, Fast 3G, browser cache disabled
     search-cold   /search?q=phan%20so    the same
     home-warm     /, second visit        the same, cache enabled (the first visit is not counted)
     typing        no throttling: from the keydown of the last letter of "phan so" typed in the
                   search box (#q) on the home page to the frame after the first result for
                   "phan so" is in the page (the app waits 250 ms after the last keystroke)

   For the page loads: first-contentful-paint (performance.getEntriesByType('paint')), the
   DOMContentLoaded and load events (start, from the navigation start, Navigation Timing), and the
   bytes received (sum of encodedDataLength of the CDP Network.loadingFinished events: headers and
   compressed bodies; a response from the cache counts 0) until the app has drawn its view and the
   network is quiet. One unthrottled visit of each page comes first, uncounted, to warm the server.

   Prints one JSON object on stdout: {"browser", "runs", "conditions", "samples": {name: [..]}}.
   Exits 77 without Chromium or playwright-core, 1 on failure. */
'use strict';

const fs = require('fs');
const path = require('path');

const CHROMIUM = process.env.KHO_CHROMIUM || '/usr/bin/chromium';
const PLAYWRIGHT = path.resolve(__dirname, '..', 'web', 'node_modules', 'playwright-core');
const PHONE = {
  viewport: { width: 360, height: 740 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'vi-VN'
};
/* Fast 3G as Lighthouse defines it: 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up. */
const NETWORK = {
  offline: false,
  latency: 150,
  downloadThroughput: 1.6e6 / 8,
  uploadThroughput: 750e3 / 8
};
const CPU_SLOWDOWN = 6;
const QUERY = 'phan so';
const TIMEOUT = 120000;
const QUIET_MS = 500;     /* the network counts as quiet after this long with no request open */

function skip(why) {
  console.error('skipped: ' + why);
  process.exit(77);
}

const [baseArg, runsArg] = process.argv.slice(2);
const runs = Number(runsArg);
if (!/^http:\/\//.test(baseArg || '') || !(runs >= 1)) {
  console.error('usage: node bench-app.js BASE_URL RUNS');
  process.exit(2);
}
const base = baseArg.replace(/\/?$/, '/');
if (!fs.existsSync(CHROMIUM)) skip(CHROMIUM + ' is missing (apt-get install chromium)');
let playwright;
try {
  playwright = require(PLAYWRIGHT);
} catch (e) {
  skip('playwright-core is not installed in tests/web/node_modules (npm ci --prefix tests/web)');
}

let browser = null;

/* Counts what the page receives, through its own CDP session. */
function networkMeter(cdp) {
  const open = new Set();
  let bytes = 0;
  let lastChange = Date.now();
  function done(id) {
    if (open.delete(id)) lastChange = Date.now();
  }
  cdp.on('Network.requestWillBeSent', (e) => {
    open.add(e.requestId);
    lastChange = Date.now();
  });
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength || 0;
    done(e.requestId);
  });
  cdp.on('Network.loadingFailed', (e) => done(e.requestId));
  return {
    reset() {
      open.clear();
      bytes = 0;
      lastChange = Date.now();
    },
    bytes() {
      return bytes;
    },
    async quiet() {
      const until = Date.now() + TIMEOUT;
      while (open.size > 0 || Date.now() - lastChange < QUIET_MS) {
        if (Date.now() > until) throw new Error(open.size + ' requests still open after ' + TIMEOUT + ' ms');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
}

/* A phone page in a new context (an empty cache), throttled unless throttle is false. */
async function phonePage(throttle, cacheDisabled) {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.setDefaultNavigationTimeout(TIMEOUT);
  const cdp = await context.newCDPSession(page);
  const meter = networkMeter(cdp);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: !!cacheDisabled });
  if (throttle) {
    await cdp.send('Network.emulateNetworkConditions', NETWORK);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  }
  return { context, page, meter };
}

/* Load url in page and read its timings once the app has drawn and the network is quiet. */
async function measureLoad(p, url) {
  p.meter.reset();
  await p.page.goto(url, { waitUntil: 'load' });
  await p.page.waitForSelector('#main[data-state="ready"]');
  await p.page.waitForFunction(() => performance.getEntriesByType('paint').some((e) => e.name === 'first-contentful-paint'));
  await p.meter.quiet();
  const t = await p.page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint');
    return {
      fcp: fcp.startTime,
      dcl: nav.domContentLoadedEventStart - nav.startTime,
      load: nav.loadEventStart - nav.startTime
    };
  });
  t.bytes = p.meter.bytes();
  return t;
}

async function coldLoad(url) {
  const p = await phonePage(true, true);
  try {
    return await measureLoad(p, url);
  } finally {
    await p.context.close();
  }
}

async function warmLoad(url) {
  const p = await phonePage(true, false);
  try {
    await measureLoad(p, url);         /* the first visit fills the cache */
    return await measureLoad(p, url);
  } finally {
    await p.context.close();
  }
}

/* Type QUERY on the home page, unthrottled: ms from the last letter's keydown to the frame after
   the first result for QUERY is in the page, both on the page's clock. */
async function typing() {
  const p = await phonePage(false, false);
  try {
    const page = p.page;
    await page.goto(base);
    await page.waitForSelector('#home-subject-list');
    await page.evaluate((q) => {
      const input = document.getElementById('q');
      const bench = window.__khoBench = { start: 0, drawn: 0, painted: 0 };
      document.addEventListener('keydown', (e) => {
        if (e.target === input && input.value === q.slice(0, -1) && e.key === q.slice(-1)) bench.start = e.timeStamp;
      }, true);
      const main = document.getElementById('main');
      const seen = new MutationObserver(() => {
        const h = document.getElementById('result-summary');
        if (bench.drawn || !bench.start || !h || h.getAttribute('data-query') !== q ||
            !main.querySelector('[data-test="result"]')) return;
        bench.drawn = performance.now();
        seen.disconnect();
        /* After the next animation frame's rendering: a message posted from its callback. */
        requestAnimationFrame(() => {
          const ch = new MessageChannel();
          ch.port1.onmessage = () => { bench.painted = performance.now(); };
          ch.port2.postMessage(0);
        });
      });
      seen.observe(main, { childList: true, subtree: true, attributes: true });
    }, QUERY);
    await page.tap('#q');
    await page.locator('#q').pressSequentially(QUERY, { delay: 70 });
    await page.waitForFunction(() => window.__khoBench.painted > 0);
    const b = await page.evaluate(() => window.__khoBench);
    return { ms: b.painted - b.start, drawn: b.drawn - b.start };
  } finally {
    await p.context.close();
  }
}

async function main() {
  browser = await playwright.chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    handleSIGINT: false,      /* the handlers below close the browser */
    handleSIGTERM: false,
    handleSIGHUP: false
  });
  const searchUrl = base + 'search?q=' + encodeURIComponent(QUERY);
  /* Warm the server (and Chromium) once, uncounted. */
  for (const url of [base, searchUrl]) {
    const p = await phonePage(false, false);
    await measureLoad(p, url).finally(() => p.context.close());
  }
  const samples = { 'home-cold': [], 'search-cold': [], 'home-warm': [], typing: [] };
  for (let i = 0; i < runs; i++) {
    samples['home-cold'].push(await coldLoad(base));
    samples['search-cold'].push(await coldLoad(searchUrl));
    samples['home-warm'].push(await warmLoad(base));
    samples.typing.push(await typing());
  }
  /* Guard against an emulation that silently did not apply: a cold load needs at least the
     page's and the app's round trips. */
  const fastest = Math.min(...samples['home-cold'].map((s) => s.load));
  if (fastest < 2 * NETWORK.latency) {
    throw new Error('a throttled cold load took ' + fastest.toFixed(0) + ' ms, under two round trips of ' +
      NETWORK.latency + ' ms: the network emulation did not apply');
  }
  return {
    browser: 'Chromium ' + browser.version(),
    runs,
    conditions: {
      viewport: PHONE.viewport, deviceScaleFactor: PHONE.deviceScaleFactor,
      cpuSlowdown: CPU_SLOWDOWN, network: NETWORK, query: QUERY
    },
    samples
  };
}

/* One closing, awaited by whoever asks (the end, a failure, a signal), so that nobody exits
   before Chromium is gone and Playwright has removed its profile folder. */
let closing = null;
function closeBrowser() {
  if (!closing) closing = browser ? browser.close().catch(() => {}) : Promise.resolve();
  return closing;
}

/* Stopped from outside (bench-app.py cleaning up, Ctrl-C): close the browser quietly. */
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    interrupted = true;
    closeBrowser().finally(() => process.exit(1));
  });
}

main().then(async (result) => {
  await closeBrowser();
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}, async (err) => {
  if (!interrupted) console.error('bench-app.js: ' + (err && err.stack || err));
  await closeBrowser();
  process.exit(1);
});

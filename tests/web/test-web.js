#!/usr/bin/env node
/* Browser tests of the teachers' web app (tools/web/) against a real `kho serve`.

   Usage: node test-web.js KHO_BINARY SCREENSHOT_DIR

   Installs the bundled packs in a temporary home, starts `kho serve` on a free port, and
   drives Debian's Chromium (/usr/bin/chromium, headless) with playwright-core through the
   scenarios below, saving a PNG of each step in SCREENSHOT_DIR. Prints one line per scenario;
   exits 0 if all pass, 1 if any fails, 77 (skip) without Chromium or playwright-core
   (npm ci --prefix tests/web). Needs no network. */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const http = require('http');

const CHROMIUM = process.env.KHO_CHROMIUM || '/usr/bin/chromium';
const DESKTOP = { width: 1100, height: 900 };
const PHONE = { width: 360, height: 740 };
const WAIT = 15000;

function skip(why) {
  console.log('SKIP: ' + why);
  process.exit(77);
}

const [khoArg, outArg] = process.argv.slice(2);
if (!khoArg || !outArg) {
  console.error('usage: node test-web.js KHO_BINARY SCREENSHOT_DIR');
  process.exit(2);
}
const kho = path.resolve(khoArg);
const outDir = path.resolve(outArg);
if (!fs.existsSync(CHROMIUM)) skip(CHROMIUM + ' is missing (apt-get install chromium)');
let playwright;
try {
  playwright = require(path.join(__dirname, 'node_modules', 'playwright-core'));
} catch (e) {
  skip('playwright-core is not installed: run npm ci --prefix tests/web');
}

/* ---- the box: a temporary home and a running server ---- */

let home = null;
let server = null;
let browser = null;
let serverLog = '';

function startServer() {
  return new Promise((resolve, reject) => {
    const proc = cp.spawn(kho, ['--home', home, 'serve', '--listen', '127.0.0.1:0'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let settled = false;
    const timer = setTimeout(() => fail(new Error('kho serve printed no URL within 30 s')), 30000);
    function fail(err) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    }
    proc.stdout.on('data', (d) => {
      out += d;
      serverLog += d;
      if (settled) return;
      const line = out.split('\n').find((l) => l.includes('http://'));
      if (!line) return;
      const urls = line.match(/http:\/\/[^\s"']+/g);
      settled = true;
      clearTimeout(timer);
      resolve({ proc, url: urls[urls.length - 1].replace(/\/?$/, '/') });
    });
    /* Always read stderr (a line per request): a full pipe would stall the server. */
    proc.stderr.on('data', (d) => {
      serverLog += d;
      if (serverLog.length > 4e6) serverLog = serverLog.slice(-2e6);
    });
    proc.on('error', fail);
    proc.on('exit', (code, sig) => fail(new Error('kho serve exited (' + (code === null ? sig : code) +
      ') before it was ready: ' + serverLog.slice(-2000))));
  });
}

function stopServer() {
  return new Promise((resolve) => {
    const proc = server && server.proc;
    server = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
      resolve();
      return;
    }
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
    proc.once('exit', (code, sig) => {
      clearTimeout(timer);
      if (code !== 0 && sig !== 'SIGTERM') console.log('note: kho serve ended with ' + (code === null ? sig : code));
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

let cleanedUp = false;
let interrupted = false;
async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  if (browser) await browser.close().catch(() => {});
  browser = null;
  await stopServer();
  if (serverLog) {
    try {
      fs.writeFileSync(path.join(outDir, 'server.log'), serverLog);
    } catch (e) { /* the folder may be gone */ }
  }
  if (home) fs.rmSync(home, { recursive: true, force: true });
  home = null;
}

/* Last resort if something exits without cleanup(): synchronous only. */
process.on('exit', () => {
  if (server && server.proc.exitCode === null) server.proc.kill('SIGTERM');
  if (home) fs.rmSync(home, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.log('interrupted by ' + sig);
    interrupted = true;
    cleanup().finally(() => process.exit(1));
  });
}

/* ---- small helpers ---- */

function check(cond, message) {
  if (!cond) throw new Error(message);
}

function getJSON(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, headers: res.headers, json: JSON.parse(body) });
        } catch (e) {
          reject(new Error('GET ' + url + ': not JSON: ' + body.slice(0, 200)));
        }
      });
    }).on('error', reject);
  });
}

function getRaw(url, headers) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: headers || {} }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

let shotNumber = 0;
async function shot(page, name, fullPage) {
  shotNumber++;
  const file = path.join(outDir, String(shotNumber).padStart(2, '0') + '-' + name + '.png');
  await page.screenshot({ path: file, fullPage: !!fullPage });
}

/* A page that records script errors and failed requests; check with assertClean(). */
async function newPage(viewport, extra) {
  const context = await browser.newContext(Object.assign({ viewport, locale: 'vi-VN' }, extra || {}));
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push('script error: ' + e.message));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = (m.location() || {}).url || '';
    /* The app learns that nobody is signed in from GET /api/me's 401 (docs/api.md). */
    if (/status of 401/.test(m.text()) && /\/api\/me$/.test(where)) return;
    page.problems.push('console error: ' + m.text() + (where ? ' (' + where + ')' : ''));
  });
  page.on('requestfailed', (r) => {
    /* The app aborts requests it no longer needs (typing on); leaving a page aborts its own. */
    const why = (r.failure() || {}).errorText || '';
    if (!/ERR_ABORTED/.test(why)) page.problems.push('request failed: ' + r.url() + ' ' + why);
  });
  return page;
}

function assertClean(page, allow) {
  const left = page.problems.filter((p) => !(allow && allow.test(p)));
  check(left.length === 0, 'the page had errors: ' + left.slice(0, 5).join('; '));
}

async function waitReady(page) {
  await page.waitForSelector('#main[data-state="ready"]');
}

/* Wait until the results of query q are drawn (as you type or after a search). */
async function waitResults(page, q) {
  await page.waitForFunction((want) => {
    const h = document.querySelector('#result-summary');
    const main = document.getElementById('main');
    return h && h.getAttribute('data-query') === want && main.getAttribute('data-state') === 'ready';
  }, q);
}

function resultsOf(page) {
  return page.$$eval('[data-test="result"]', (els) => els.map((li) => ({
    pack: li.getAttribute('data-pack'),
    lesson: li.getAttribute('data-lesson'),
    title: li.querySelector('.result-title').textContent,
    href: li.querySelector('.result-title a').getAttribute('href'),
    snippet: (li.querySelector('.snippet') || { textContent: '' }).textContent,
    marks: Array.prototype.map.call(li.querySelectorAll('.snippet mark'), (m) => m.textContent)
  })));
}

async function totalOf(page) {
  return Number(await page.getAttribute('#result-summary', 'data-total'));
}

function searchParam(page, name) {
  return new URL(page.url()).searchParams.get(name);
}

async function noHorizontalScroll(page, what) {
  const m = await page.evaluate(() => ({
    scroll: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    width: window.innerWidth
  }));
  check(m.scroll <= m.width, what + ': the page is ' + m.scroll + ' px wide in a ' + m.width + ' px viewport');
}

async function lessonFrame(page) {
  const handle = await page.waitForSelector('#lesson-frame');
  const frame = await handle.contentFrame();
  check(frame, 'the lesson iframe has no frame');
  await frame.waitForLoadState('load');
  return frame;
}

/* ---- scenarios ---- */

const outcomes = [];
let base = '';

async function scenario(name, fn) {
  if (cleanedUp) return;     /* interrupted */
  const n = outcomes.length + 1;
  const t0 = Date.now();
  let page = null;
  try {
    await fn((p) => { page = p; });
    outcomes.push(true);
    console.log('PASS ' + n + ' ' + name + ' (' + (Date.now() - t0) + ' ms)');
  } catch (e) {
    if (cleanedUp) return;
    outcomes.push(false);
    console.log('FAIL ' + n + ' ' + name + ': ' + String(e && e.message || e).split('\n')[0]);
    if (page) await shot(page, 'FAILED-scenario-' + n).catch(() => {});
  }
  if (page) await page.context().close().catch(() => {});
}

async function appFiles() {
  /* What a phone downloads: the page and the app's files, compressed as served. */
  let total = 0;
  for (const p of ['', 'app/app.js', 'app/app.css', 'app/icon.svg']) {
    const r = await getRaw(base + p, { 'Accept-Encoding': 'gzip' });
    check(r.status === 200, '/' + p + ' answered ' + r.status);
    total += r.body.length;
  }
  check(total < 100 * 1024, 'the app is ' + total + ' bytes compressed, not under 100 KB');
  const js = (await getRaw(base + 'app/app.js')).body.toString('utf8');
  const html = (await getRaw(base + 'lesson/a/b')).body.toString('utf8');
  check(/\/app\/app\.js/.test(html) && /\/app\/app\.css/.test(html), '/lesson/… does not serve the app page');
  /* ES5 only: no arrow functions, let/const, template strings, classes, fetch or Promise. */
  const code = js.replace(/\/\*[\s\S]*?\*\//g, '').replace(/'(?:\\.|[^'\\\n])*'/g, "''");
  const es6 = [/=>/, /`/, /\blet\s/, /\bconst\s/, /\bclass\s/, /\bfetch\(/, /\bPromise\b/, /\.\.\.[A-Za-z_$]/];
  for (const re of es6) check(!re.test(code), 'app.js is not plain ES5: it has ' + re);
  return total;
}

async function searchAsYouType(use) {
  const page = await newPage(DESKTOP);
  use(page);
  await page.goto(base);
  await page.waitForSelector('#home-subject-list');
  await shot(page, 'home');
  const q = page.locator('#q');
  const label = await page.textContent('label[for="q"]');
  check(label.trim().length > 0, 'the search input has no visible label');
  await q.click();
  await q.pressSequentially('phan s', { delay: 70 });
  await page.waitForSelector('#suggestions:not([hidden]) [role="option"]');
  const sugg = await page.$$eval('#suggestions [role="option"] .sugg-title', (els) => els.map((e) => e.textContent));
  check(sugg.some((s) => /phân số/i.test(s)), 'no completion for "phan s" shows "phân số": ' + sugg.join(' | '));
  check(await q.getAttribute('aria-expanded') === 'true', 'the combobox is not aria-expanded while completions show');
  await waitResults(page, 'phan s');
  check((await resultsOf(page)).length > 0, 'no results while typing "phan s"');
  check(page.url().includes('/search?'), 'typing did not show the results route: ' + page.url());
  await shot(page, 'typing-phan-s-completions');
  await page.keyboard.press('ArrowDown');
  check(await q.getAttribute('aria-activedescendant') === 'suggestion-0', 'ArrowDown did not select the first completion');
  check(await page.getAttribute('#suggestion-0', 'aria-selected') === 'true', 'the first completion is not aria-selected');
  await page.keyboard.press('Escape');
  check(await page.isHidden('#suggestions'), 'Escape did not close the completions');
  await q.pressSequentially('o', { delay: 70 });
  await page.keyboard.press('Enter');
  await waitResults(page, 'phan so');
  check(searchParam(page, 'q') === 'phan so', 'the URL does not hold the query: ' + page.url());
  check(await page.evaluate(() => !(history.state && history.state.prefix)), 'Enter did not search the whole words');
  const results = await resultsOf(page);
  const total = await totalOf(page);
  check(results.length > 0 && results.length <= 10, results.length + ' results on the page (want 1–10)');
  check(total >= results.length, 'total ' + total + ' < ' + results.length + ' shown');
  check(/phân số/i.test(results[0].title + ' ' + results[0].snippet),
    'the first result for "phan so" does not say "phân số": ' + results[0].title);
  const marks = [].concat(...results.map((r) => r.marks)).join(' ').toLowerCase();
  check(/phân|số/.test(marks), 'no accented word is marked in the snippets: ' + marks.slice(0, 200));
  const snippetHtml = await page.innerHTML('[data-test="result"] .snippet');
  check(!/&lt;mark/.test(snippetHtml), 'the snippet HTML was shown as text');
  await shot(page, 'search-phan-so');
  /* Another unaccented query: "duong" finds "đường". */
  await q.fill('');
  await q.pressSequentially('duong', { delay: 50 });
  await page.keyboard.press('Enter');
  await waitResults(page, 'duong');
  const r2 = await resultsOf(page);
  check(r2.length > 0 && r2.every((r) => /đường/i.test(r.title + ' ' + r.snippet)),
    'some results for "duong" do not say "đường": ' + r2.map((r) => r.title).join(' | '));
  await shot(page, 'search-duong');
  /* Keyboard: the second completion, chosen with the arrows and Enter, opens its lesson. */
  await q.fill('');
  await q.pressSequentially('duong tr', { delay: 50 });
  await page.waitForSelector('#suggestion-1');
  const second = await page.textContent('#suggestion-1 .sugg-title');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForFunction((t) => {
    const h = document.getElementById('lesson-title');
    return h && h.textContent === t;
  }, second);
  assertClean(page);
}

async function gradeFilter(use) {
  const page = await newPage(DESKTOP);
  use(page);
  await page.goto(base + 'search?q=' + encodeURIComponent('phan so'));
  await waitResults(page, 'phan so');
  const total0 = await totalOf(page);
  if (!(await page.getAttribute('#filters', 'open') !== null)) await page.click('#filters summary');
  let grade = '5';
  if (await page.locator('[data-facet="grade"][data-value="5"]').count() === 0) {
    grade = await page.getAttribute('[data-facet="grade"]', 'data-value');
  }
  const button = page.locator('[data-facet="grade"][data-value="' + grade + '"]');
  check(await button.getAttribute('aria-pressed') === 'false', 'the grade button is pressed before the click');
  const count = Number(await button.getAttribute('data-count'));
  const label = (await button.textContent()).trim();
  check(/^Lớp \d+/.test(label), 'the grade button reads "' + label + '", not "Lớp …"');
  await button.click();
  await page.waitForFunction((g) => new URL(location.href).searchParams.get('grade') === g &&
    document.getElementById('main').getAttribute('data-state') === 'ready' &&
    document.querySelector('[data-facet="grade"][aria-pressed="true"]'), grade);
  const total1 = await totalOf(page);
  check(total1 === count, 'the button said ' + count + ' lessons but ' + total1 + ' were found');
  check(total1 < total0, 'the filter did not narrow the results (' + total0 + ' → ' + total1 + ')');
  const grades = await page.$$eval('[data-facet="grade"]', (els) => els.map((e) => e.getAttribute('data-value')));
  check(grades.length === 1 && grades[0] === grade, 'other grades remain in the grade facet: ' + grades.join(','));
  check(await page.locator('[data-test="active-filter"]').count() === 1, 'the active filter is not shown as removable');
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-facet'));
  check(focused === 'grade', 'the focus did not stay on the grade button after the click');
  const results = await resultsOf(page);
  for (const r of results) {
    const l = await getJSON(base + 'api/lessons/' + r.pack + '/' + r.lesson);
    check(l.status === 200, 'GET /api/lessons/' + r.pack + '/' + r.lesson + ' answered ' + l.status);
    check(l.json.grades.map(String).includes(grade), r.pack + '/' + r.lesson + ' is not in grade ' + grade + ' but ' + l.json.grades);
  }
  await shot(page, 'filter-grade-' + grade);
  if (total1 > 10) {
    await page.click('#next-page');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('page') === '2' &&
      document.getElementById('main').getAttribute('data-state') === 'ready');
    const page2 = await resultsOf(page);
    check(page2.length > 0 && page2[0].lesson + page2[0].pack !== results[0].lesson + results[0].pack,
      'page 2 shows the same results as page 1');
    check(searchParam(page, 'grade') === grade, 'the next page lost the filter');
    check(await page.getAttribute('#results', 'start') === '11', 'page 2 is not numbered from 11');
    await shot(page, 'filter-grade-' + grade + '-page-2');
    await page.click('#prev-page');
    await page.waitForFunction(() => !new URL(location.href).searchParams.get('page'));
  }
  await page.click('[data-test="active-filter"]');
  await page.waitForFunction(() => !new URL(location.href).searchParams.get('grade') &&
    document.getElementById('main').getAttribute('data-state') === 'ready');
  check(await totalOf(page) === total0, 'removing the filter did not bring back ' + total0 + ' results');
  assertClean(page);
}

async function lessonViewer(use) {
  const page = await newPage(DESKTOP);
  use(page);
  const searchUrl = base + 'search?q=' + encodeURIComponent('phan so') + '&grade=5';
  await page.goto(searchUrl);
  await waitResults(page, 'phan so');
  const results = await resultsOf(page);
  let pick = null;
  let lesson = null;
  for (const r of results) {
    lesson = (await getJSON(base + 'api/lessons/' + r.pack + '/' + r.lesson)).json;
    if (lesson.next) {
      pick = r;
      break;
    }
  }
  check(pick, 'no result of "phan so" in grade 5 has a next lesson');
  await page.click('[data-test="result"][data-pack="' + pick.pack + '"][data-lesson="' + pick.lesson + '"] .result-title a');
  await page.waitForFunction((t) => {
    const h = document.getElementById('lesson-title');
    return h && h.textContent === t;
  }, lesson.title);
  check(new URL(page.url()).pathname === '/lesson/' + pick.pack + '/' + pick.lesson, 'the lesson route is ' + page.url());
  const el = await page.$('#lesson-frame');
  check(await el.getAttribute('sandbox') === 'allow-scripts allow-popups allow-forms',
    'the iframe sandbox is "' + await el.getAttribute('sandbox') + '"');
  check(await el.getAttribute('src') === lesson.file, 'the iframe src is not ' + lesson.file);
  check((await el.getAttribute('title') || '').includes(lesson.title), 'the iframe has no title naming the lesson');
  let frame = await lessonFrame(page);
  check(frame.url() === base + lesson.file.slice(1), 'the iframe loaded ' + frame.url());
  const h1 = await frame.textContent('h1');
  check(h1.trim() === lesson.title, 'the lesson file says "' + h1 + '", not "' + lesson.title + '"');
  const box = await el.boundingBox();
  check(box.width >= DESKTOP.width * 0.9 && box.height >= DESKTOP.height * 0.6,
    'the iframe is only ' + Math.round(box.width) + '×' + Math.round(box.height));
  check(await page.textContent('#lesson-meta').then((t) => t.includes(lesson.pack_title)), 'the pack title is not shown');
  await shot(page, 'lesson-' + pick.lesson);
  await page.click('#next-lesson');
  await page.waitForFunction((t) => {
    const h = document.getElementById('lesson-title');
    return h && h.textContent === t;
  }, lesson.next.title);
  check(new URL(page.url()).pathname === lesson.next.url, 'next lesson route is ' + page.url());
  frame = await lessonFrame(page);
  await frame.waitForFunction((t) => document.querySelector('h1') && document.querySelector('h1').textContent.trim() === t,
    lesson.next.title);
  check(await page.getAttribute('#prev-lesson', 'href') === '/lesson/' + pick.pack + '/' + pick.lesson,
    'the next lesson\'s "previous" button does not lead back');
  await shot(page, 'next-lesson-' + lesson.next.lesson);
  const back = (await page.textContent('#back-link')).trim();
  check(/kết quả tìm kiếm/.test(back), 'the back link reads "' + back + '"');
  await page.click('#back-link');
  await waitResults(page, 'phan so');
  check(searchParam(page, 'grade') === '5', 'back to results lost the grade filter: ' + page.url());
  const again = await resultsOf(page);
  check(again.length === results.length && again[0].lesson === results[0].lesson, 'back shows other results');
  await shot(page, 'back-to-results');
  assertClean(page);
}

async function language(use) {
  const page = await newPage(DESKTOP);
  use(page);
  await page.goto(base + 'search?q=duong');
  await waitResults(page, 'duong');
  const vi = {
    lang: await page.getAttribute('html', 'lang'),
    label: (await page.textContent('label[for="q"]')).trim(),
    sw: (await page.textContent('#lang-switch')).trim()
  };
  check(vi.lang === 'vi' && vi.label === 'Tìm bài học' && vi.sw === 'English',
    'the app does not start in Vietnamese: ' + JSON.stringify(vi));
  await page.click('#lang-switch');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  const en = {
    label: (await page.textContent('label[for="q"]')).trim(),
    sw: (await page.textContent('#lang-switch')).trim(),
    summary: (await page.textContent('#result-summary')).trim(),
    browse: (await page.textContent('#nav-browse')).trim(),
    grade: (await page.textContent('[data-facet="grade"] .chip-label')).trim(),
    subjects: await page.$$eval('[data-facet="subject"] .chip-label', (els) => els.map((e) => e.textContent))
  };
  check(en.label === 'Search lessons', 'the label did not change: ' + en.label);
  check(en.sw === 'Tiếng Việt', 'the switch does not offer Vietnamese: ' + en.sw);
  check(/results? for “duong”/.test(en.summary), 'the result count is not in English: ' + en.summary);
  check(/^Browse/.test(en.browse), 'the menu is not in English: ' + en.browse);
  check(/^Grade \d+/.test(en.grade), 'grades are not "Grade N": ' + en.grade);
  check(en.subjects.includes('Mathematics'), 'subjects are not in English: ' + en.subjects.join(', '));
  check(await page.evaluate(() => localStorage.getItem('kho.lang')) === 'en', 'the choice is not kept');
  await shot(page, 'english-results');
  await page.reload();
  await waitResults(page, 'duong');
  check(await page.getAttribute('html', 'lang') === 'en', 'English was not kept after a reload');
  await page.click('[data-test="result"] .result-title a');
  await page.waitForSelector('#lesson-title');
  await waitReady(page);
  check((await page.textContent('#back-link')).includes('Back to search results'), 'the lesson page is not in English');
  await lessonFrame(page);
  await shot(page, 'english-lesson');
  await page.click('#lang-switch');
  await page.waitForFunction(() => document.documentElement.lang === 'vi');
  check((await page.textContent('#back-link')).includes('Về kết quả tìm kiếm'), 'the lesson page did not switch back');
  check((await page.textContent('#lang-switch')).trim() === 'English', 'the switch does not offer English again');
  assertClean(page);
}

async function phone(use) {
  const page = await newPage(PHONE, { deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  use(page);
  await page.goto(base);
  await page.waitForSelector('#home-subject-list');
  await noHorizontalScroll(page, 'home');
  await shot(page, 'phone-home', true);
  await page.tap('#q');
  await page.locator('#q').pressSequentially('duong tr', { delay: 60 });
  await page.waitForSelector('#suggestions:not([hidden]) [role="option"]');
  const sbox = await page.locator('#suggestions').boundingBox();
  check(sbox.x >= 0 && sbox.x + sbox.width <= PHONE.width, 'the completions stick out of the screen');
  await noHorizontalScroll(page, 'completions');
  await shot(page, 'phone-completions');
  const first = await page.textContent('#suggestion-0 .sugg-title');
  await page.tap('#suggestion-0');
  await page.waitForFunction((t) => {
    const h = document.getElementById('lesson-title');
    return h && h.textContent === t;
  }, first);
  await page.goto(base + 'search?q=duong');
  await waitResults(page, 'duong');
  await noHorizontalScroll(page, 'results');
  await shot(page, 'phone-results', true);
  await page.tap('#filters summary');
  await page.waitForSelector('[data-facet="pack"]');
  await noHorizontalScroll(page, 'results with the filters open');
  await shot(page, 'phone-filters-open', true);
  await page.goto(base + 'lesson/vn.kho.toan-5/bai-12');
  await waitReady(page);
  await lessonFrame(page);
  await noHorizontalScroll(page, 'lesson');
  const box = await page.locator('#lesson-frame').boundingBox();
  check(box.width >= PHONE.width - 2, 'the lesson iframe is ' + box.width + ' px wide, not the screen');
  check(box.height >= PHONE.height * 0.6, 'the lesson iframe is only ' + box.height + ' px tall');
  await shot(page, 'phone-lesson');
  for (const p of ['browse', 'browse?subject=toan', 'browse?subject=toan&grade=5']) {
    await page.goto(base + p);
    await waitReady(page);
    await noHorizontalScroll(page, '/' + p);
  }
  await shot(page, 'phone-browse-toan-5', true);
  assertClean(page);
}

async function sandbox(use) {
  const page = await newPage(DESKTOP);
  use(page);
  await page.goto(base + 'lesson/vn.kho.toan-5/bai-01');
  await waitReady(page);
  const frame = await lessonFrame(page);
  const parentRead = await frame.evaluate(() => {
    try {
      return 'read: ' + parent.document.title;
    } catch (e) {
      return 'blocked: ' + e.name;
    }
  });
  check(parentRead.startsWith('blocked'), 'the lesson could read the app: ' + parentRead);
  const origin = await frame.evaluate(() => self.origin);
  check(origin === 'null', 'the lesson runs in origin ' + origin + ', not an opaque one');
  const storage = await frame.evaluate(() => {
    try {
      return 'read: ' + window.localStorage.length;
    } catch (e) {
      return 'blocked';
    }
  });
  check(storage === 'blocked', 'the lesson could use the app\'s localStorage');
  const api = await frame.evaluate(() => fetch('/api/info').then((r) => r.text()).then((t) => 'read: ' + t, () => 'blocked'));
  check(api === 'blocked', 'the lesson could read the API: ' + api);
  /* Opened on its own (the "full screen" link), the file is sandboxed by its CSP header. */
  const file = await page.getAttribute('#lesson-frame', 'src');
  const res = await getRaw(base + file.slice(1));
  const csp = res.headers['content-security-policy'] || '';
  check(/\bsandbox\b/.test(csp) && !/allow-same-origin/.test(csp), 'the lesson file\'s CSP is "' + csp + '"');
  const top = await page.context().newPage();
  await top.goto(base + file.slice(1));
  const topOrigin = await top.evaluate(() => self.origin);
  check(topOrigin === 'null', 'the lesson opened alone runs in origin ' + topOrigin);
  await top.close();
  await shot(page, 'lesson-sandboxed');
  assertClean(page, /api\/info|CORS|Failed to load resource/);
}

async function browsing(use) {
  const page = await newPage(DESKTOP);
  use(page);
  const info = (await getJSON(base + 'api/info')).json;
  await page.goto(base);
  await page.waitForSelector('#home-subject-list');
  check((await page.textContent('#school-name')).trim() === (info.name || 'kho'), 'the header does not show the school\'s name');
  await page.click('#home-subject-list [data-value="toan"]');
  await page.waitForSelector('#browse-grades');
  check(searchParam(page, 'subject') === 'toan', 'the subject route is ' + page.url());
  check((await page.textContent('h1')).trim() === 'Toán', 'the subject page is not titled "Toán"');
  await shot(page, 'browse-toan');
  await page.click('#browse-grades [data-value="5"]');
  await page.waitForSelector('[data-test="browse-unit"]');
  const units = await page.$$eval('[data-test="browse-unit"] h2', (els) => els.map((e) => e.textContent));
  const api = (await getJSON(base + 'api/browse?subject=toan&grade=5')).json;
  check(units.length === api.units.length, units.length + ' units shown, the API has ' + api.units.length);
  await shot(page, 'browse-toan-5', true);
  const first = api.units[0].lessons[0];
  await page.click('[data-test="browse-lesson"] >> nth=0');
  await page.waitForFunction((t) => {
    const h = document.getElementById('lesson-title');
    return h && h.textContent === t;
  }, first.title);
  check((await page.textContent('#back-link')).includes('Về danh sách bài'), 'the back link does not lead to the list');
  await page.click('#back-link');
  await page.waitForSelector('[data-test="browse-unit"]');
  check(searchParam(page, 'grade') === '5', 'back from the lesson went to ' + page.url());
  await page.click('#nav-browse');
  await page.waitForSelector('#browse-subjects');
  assertClean(page);
}

async function messages(use) {
  const page = await newPage(DESKTOP);
  use(page);
  await page.goto(base + 'search?q=xyzzyqwv');
  await waitResults(page, 'xyzzyqwv');
  check(await page.isVisible('#no-results'), 'no "nothing found" message');
  check((await page.textContent('#no-results')).includes('Không tìm thấy'), 'the message does not say nothing was found');
  await shot(page, 'nothing-found');
  await page.goto(base + 'search?q=' + encodeURIComponent('phaan so'));
  await waitResults(page, 'phaan so');
  const dym = await page.$('[data-test="did-you-mean"]');
  check(dym, 'no "did you mean" for "phaan so"');
  const suggestion = (await dym.textContent()).trim();
  await shot(page, 'did-you-mean');
  await dym.click();
  await waitResults(page, suggestion);
  check(searchParam(page, 'q') === suggestion, '"did you mean" did not search "' + suggestion + '"');
  await page.route('**/api/search**', (r) => r.abort('internetdisconnected'));
  await page.fill('#q', 'hinh tron');
  await page.press('#q', 'Enter');
  await page.waitForSelector('#error');
  check((await page.textContent('#error')).includes('Wi-Fi'), 'the network error message does not say what to do');
  await shot(page, 'network-error');
  await page.unroute('**/api/search**');
  await page.click('#error [data-action="retry"]');
  await waitResults(page, 'hinh tron');
  check((await resultsOf(page)).length > 0, 'retrying did not bring results');
  await page.goto(base + 'lesson/vn.kho.no-such-pack/bai-01');
  await page.waitForSelector('#error');
  check((await page.textContent('#error')).includes('Không tìm thấy bài học'), 'a missing lesson does not say so');
  check(await page.isVisible('#back-link'), 'a missing lesson offers no way back');
  await shot(page, 'lesson-missing');
  assertClean(page, /internetdisconnected|ERR_INTERNET_DISCONNECTED|Failed to load resource|api\/lessons\/vn\.kho\.no-such-pack/);
}

/* ---- teachers' accounts ---- */

const TEACHER = { name: 'co.lan', password: 'phan-so-5A!' };

/* The API as the page's session sees it (with its cookie). */
function apiIn(page, url) {
  return page.evaluate((u) => fetch(u).then((r) => r.json().then((j) => ({ status: r.status, json: j }))), url);
}

async function waitAccountKnown(page) {
  await page.waitForFunction(() => !document.getElementById('nav-signin').hidden || !document.getElementById('sign-out').hidden);
}

async function waitTitle(page, title) {
  await page.waitForFunction((t) => {
    const h = document.getElementById('lesson-title');
    return h && h.textContent === t && document.getElementById('main').getAttribute('data-state') === 'ready';
  }, title);
}

async function signIn(page, password) {
  await page.fill('#signin-name', TEACHER.name);
  await page.fill('#signin-password', password);
  await page.click('#signin-submit');
}

async function accounts(use) {
  const page = await newPage(DESKTOP);
  use(page);
  const lesson = (await getJSON(base + 'api/lessons/vn.kho.toan-5/bai-01')).json;
  check(lesson.next, 'vn.kho.toan-5/bai-01 has no next lesson');
  /* Anonymous: a sign-in link, no favourite button. */
  await page.goto(base + 'lesson/vn.kho.toan-5/bai-01');
  await waitTitle(page, lesson.title);
  await waitAccountKnown(page);
  check(await page.isVisible('#nav-signin'), 'no sign-in link in the header');
  check(await page.locator('#fav-button').count() === 0, 'an anonymous reader sees a favourite button');
  check(await page.isHidden('#sign-out'), 'an anonymous reader sees "sign out"');
  await shot(page, 'account-anonymous-lesson');
  await page.click('#nav-signin');
  await page.waitForSelector('#signin-form');
  check(new URL(page.url()).pathname === '/signin', 'the sign-in link leads to ' + page.url());
  check(searchParam(page, 'next') === '/lesson/vn.kho.toan-5/bai-01', 'sign-in does not remember the lesson: ' + page.url());
  for (const id of ['signin-name', 'signin-password']) {
    const label = await page.textContent('label[for="' + id + '"]');
    check(label && label.trim(), '#' + id + ' has no label');
  }
  check(await page.getAttribute('#signin-password', 'type') === 'password', 'the password field is not type=password');
  await shot(page, 'account-signin');
  /* Too many failures (429), simulated so the box does not lock this address. */
  await page.route('**/api/login', (r) => r.fulfill({ status: 429, contentType: 'application/json',
    body: '{"error": "too many failed sign-ins: wait a minute"}' }));
  await signIn(page, 'whatever-1');
  await page.waitForSelector('#signin-error p');
  check(/đợi một phút/.test(await page.textContent('#signin-error')), 'a 429 does not say to wait a minute: ' +
    await page.textContent('#signin-error'));
  await shot(page, 'account-signin-429');
  await page.unroute('**/api/login');
  /* A wrong password. */
  await signIn(page, 'not-the-password');
  await page.waitForFunction(() => /Sai tên/.test(document.getElementById('signin-error').textContent));
  check(await page.getAttribute('#signin-password', 'aria-invalid') === 'true', 'the password field is not aria-invalid');
  check(await page.getAttribute('#signin-error', 'role') === 'alert', 'the error is not announced (role=alert)');
  check(await page.inputValue('#signin-password') === '', 'the wrong password was left in the field');
  check(await page.evaluate(() => document.activeElement.id) === 'signin-password', 'the focus is not back in the password field');
  await shot(page, 'account-signin-wrong-password');
  /* The right one: back to the lesson, signed in. */
  await signIn(page, TEACHER.password);
  await waitTitle(page, lesson.title);
  check(new URL(page.url()).pathname === '/lesson/vn.kho.toan-5/bai-01', 'signing in did not return to the lesson: ' + page.url());
  await page.waitForSelector('#fav-button');
  check((await page.textContent('#nav-me')).includes(TEACHER.name), 'the header does not show the teacher\'s name');
  check(await page.isVisible('#sign-out'), 'no sign-out button');
  check(await page.isHidden('#nav-signin'), 'the sign-in link is still shown');
  check(await page.getAttribute('#fav-button', 'aria-pressed') === 'false', 'the lesson is a favourite already');
  await shot(page, 'account-signed-in-lesson');
  await page.click('#fav-button');
  await page.waitForSelector('#fav-button[aria-pressed="true"]');
  check((await page.textContent('#fav-note')).trim().length > 0, 'no message after marking a favourite');
  const favs = await apiIn(page, '/api/favourites');
  check(favs.json.favourites.some((f) => f.pack === 'vn.kho.toan-5' && f.lesson === 'bai-01'),
    'the favourite is not in /api/favourites: ' + JSON.stringify(favs.json));
  await shot(page, 'account-favourite-on');
  /* Open the next lesson: the history has both, last first. */
  await page.click('#next-lesson');
  await waitTitle(page, lesson.next.title);
  await page.waitForSelector('#fav-button[aria-pressed="false"]');
  await page.waitForFunction(() => fetch('/api/history').then((r) => r.json()).then((j) => j.history.length >= 2));
  await page.click('#nav-me');
  await page.waitForSelector('#profile-form');
  check(new URL(page.url()).pathname === '/me', '"my lessons" is at ' + page.url());
  const favList = await page.$$eval('#favourite-list a', (els) => els.map((a) => [a.textContent, a.getAttribute('href')]));
  check(favList.length === 1 && favList[0][0] === lesson.title && favList[0][1] === '/lesson/vn.kho.toan-5/bai-01',
    'the favourites on /me are ' + JSON.stringify(favList));
  const hist = await page.$$eval('#history-list a', (els) => els.map((a) => a.textContent));
  check(hist[0] === lesson.next.title && hist[1] === lesson.title, 'the history on /me is ' + JSON.stringify(hist));
  await shot(page, 'account-my-lessons', true);
  /* The profile: grade 5, mathematics, English. */
  const gradeBox = page.locator('#profile-grade input[value="5"]');
  const subjectBox = page.locator('#profile-subject input[value="toan"]');
  check(await gradeBox.count() === 1 && await subjectBox.count() === 1, 'no checkbox for grade 5 or for Toán');
  check((await page.locator('#profile-grade label').first().textContent()).includes('Lớp'), 'the grade checkboxes are not labelled');
  await gradeBox.check();
  await subjectBox.check();
  await page.click('#profile-save');
  await page.waitForFunction(() => /Đã lưu/.test(document.getElementById('profile-note').textContent));
  let meNow = (await apiIn(page, '/api/me')).json;
  check(meNow.grades === '5' && meNow.subjects === 'toan', 'the profile saved is ' + JSON.stringify(meNow));
  await page.check('#profile-lang input[value="en"]');
  await page.click('#profile-save');
  await page.waitForFunction(() => document.documentElement.lang === 'en' &&
    /Profile saved/.test((document.getElementById('profile-note') || {}).textContent || ''));
  meNow = (await apiIn(page, '/api/me')).json;
  check(meNow.lang === 'en', 'the interface language was not saved: ' + JSON.stringify(meNow));
  check((await page.textContent('#me-heading')).trim() === 'My lessons', 'the page did not switch to English');
  check(await page.isChecked('#profile-grade input[value="5"]'), 'grade 5 is not checked after saving');
  await shot(page, 'account-profile-saved-english', true);
  /* Home: "Continue: <the lesson opened last>". */
  await page.click('#home-link');
  await page.waitForSelector('#continue-link');
  check((await page.textContent('#continue-link')) === lesson.next.title, 'home does not offer to continue ' + lesson.next.title);
  await shot(page, 'account-home-continue');
  await page.click('#continue-link');
  await waitTitle(page, lesson.next.title);
  /* Signing out: the favourite button goes, the sign-in link comes back. */
  await page.waitForSelector('#fav-button');
  await page.click('#sign-out');
  await page.waitForSelector('#nav-signin:not([hidden])');
  check(await page.locator('#fav-button').count() === 0 || await page.isHidden('#fav-button'), 'the favourite button stayed after signing out');
  check(await page.isHidden('#sign-out') && await page.isHidden('#nav-me'), 'the header still shows the teacher');
  check((await apiIn(page, '/api/me')).status === 401, 'the session did not end');
  await shot(page, 'account-signed-out');
  /* A page that needs an account sends an anonymous reader to sign in. */
  await page.evaluate(() => {
    history.pushState({}, '', '/me');
    window.dispatchEvent(new PopStateEvent('popstate'));
  });
  await page.waitForSelector('#signin-form');
  check(new URL(page.url()).pathname === '/signin' && searchParam(page, 'next') === '/me', 'anonymous /me went to ' + page.url());
  check(await page.isVisible('#signin-why'), 'the sign-in page does not say why');
  await shot(page, 'account-me-needs-sign-in');
  assertClean(page, /status of (401|429)/);
}

async function phoneAccounts(use) {
  const page = await newPage(PHONE, { deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  use(page);
  await page.goto(base);
  await page.waitForSelector('#home-subject-list');
  await waitAccountKnown(page);
  await page.tap('#nav-signin');
  await page.waitForSelector('#signin-form');
  await noHorizontalScroll(page, '/signin');
  await shot(page, 'phone-signin', true);
  await signIn(page, TEACHER.password);
  await page.waitForSelector('#sign-out:not([hidden])');
  await page.waitForSelector('#home-subject-list');
  await noHorizontalScroll(page, 'home, signed in');
  await page.tap('#nav-me');
  await page.waitForSelector('#profile-form');
  await noHorizontalScroll(page, '/me');
  const form = await page.locator('#profile-form').boundingBox();
  check(form.x >= 0 && form.x + form.width <= PHONE.width, 'the profile form sticks out of the screen');
  await shot(page, 'phone-my-lessons', true);
  await page.tap('#sign-out');
  await page.waitForSelector('#nav-signin:not([hidden])');
  assertClean(page);
}

async function accountPages(use) {
  for (const p of ['signin', 'me']) {
    const r = await getRaw(base + p);
    check(r.status === 200 && /\/app\/app\.js/.test(r.body.toString('utf8')),
      '/' + p + ' answered ' + r.status + ', not the app page (app_page() in tools/server.c)');
  }
  const page = await newPage(DESKTOP);
  use(page);
  await page.goto(base + 'me');
  await page.waitForSelector('#signin-form');
  check(new URL(page.url()).pathname === '/signin', 'anonymous /me went to ' + page.url());
  assertClean(page);
}

/* ---- collections, the signed-in home page and the administrator's suggestions ---- */

const HOA = { name: 'co.hoa', password: 'tuan-12-lop-5A!' };
const MINH = { name: 'thay.minh', password: 'lop-6B-toan-hoc!' };
const ADMIN = { name: 'hieu.truong', password: 'quan-li-may-kho!' };
const COLLECTION = 'Tuần 12 – Lớp 5A';
let collectionId = 0;

async function signInAs(page, who) {
  await page.goto(base + 'signin');
  await page.waitForSelector('#signin-form');
  await page.fill('#signin-name', who.name);
  await page.fill('#signin-password', who.password);
  await page.click('#signin-submit');
  await page.waitForSelector('#sign-out:not([hidden])');
  await waitReady(page);
}

function focusedId(page) {
  return page.evaluate(() => document.activeElement.id);
}

async function collections(use) {
  const page = await newPage(DESKTOP, { acceptDownloads: true });
  use(page);
  await signInAs(page, HOA);
  await page.fill('#q', 'phan so');
  await page.press('#q', 'Enter');
  await waitResults(page, 'phan so');
  const results = await resultsOf(page);
  check(results.length >= 2, 'fewer than two results for "phan so"');
  const [first, second] = results;
  /* The first lesson, into a new collection. */
  await page.click('[data-test="result"] >> nth=0 >> .result-title a');
  await waitTitle(page, first.title);
  await page.waitForSelector('#collect-button');
  check(await page.getAttribute('#collect-button', 'aria-expanded') === 'false', 'the collection panel is open at first');
  await page.click('#collect-button');
  await page.waitForSelector('#collect-form');
  check(await page.isVisible('#collect-name') && await page.isHidden('#collect-pick'),
    'a teacher without collections is not simply asked for a name');
  check(await focusedId(page) === 'collect-name', 'the focus is not in the name field');
  check((await page.textContent('label[for="collect-name"]')).trim().length > 0, 'the name field has no label');
  await page.click('#collect-submit');
  await page.waitForFunction(() => /Hãy đặt tên/.test(document.getElementById('collect-note').textContent));
  await page.fill('#collect-name', COLLECTION);
  await shot(page, 'collection-new-from-lesson');
  await page.click('#collect-submit');
  await page.waitForSelector('#collect-link');
  check((await page.textContent('#collect-note')).includes('Đã thêm vào “' + COLLECTION + '”'),
    'no "added" message: ' + await page.textContent('#collect-note'));
  collectionId = Number((await page.getAttribute('#collect-link', 'href')).split('/').pop());
  check(collectionId > 0, 'the link to the collection is ' + await page.getAttribute('#collect-link', 'href'));
  await shot(page, 'collection-first-lesson-added');
  /* The second result, into the same one (chosen already), once only. */
  await page.click('#back-link');
  await waitResults(page, 'phan so');
  await page.click('[data-test="result"] >> nth=1 >> .result-title a');
  await waitTitle(page, second.title);
  await page.click('#collect-button');
  await page.waitForSelector('#collect-choice');
  await page.keyboard.press('Escape');
  check(await page.isHidden('#collect-panel') && await focusedId(page) === 'collect-button', 'Escape did not close the panel');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#collect-choice');
  check(await focusedId(page) === 'collect-choice', 'the focus is not on the choice of collection');
  check(await page.inputValue('#collect-choice') === String(collectionId), 'the new collection is not chosen');
  check(await page.isHidden('#collect-new'), 'a name is asked for although a collection is chosen');
  await page.click('#collect-submit');
  await page.waitForFunction(() => /Đã thêm vào/.test(document.getElementById('collect-note').textContent));
  await page.click('#collect-submit');
  await page.waitForFunction(() => /đã có trong/.test(document.getElementById('collect-note').textContent));
  await shot(page, 'collection-second-lesson-added');
  /* The collection's page: both lessons in order. */
  await page.click('#collect-link');
  await page.waitForSelector('#collection-items');
  check(new URL(page.url()).pathname === '/me/collections/' + collectionId, 'the collection is at ' + page.url());
  check((await page.textContent('#collection-name')) === COLLECTION, 'the heading is not the collection\'s name');
  const titles = () => page.$$eval('#collection-items .col-title', (els) => els.map((e) => e.textContent));
  check(JSON.stringify(await titles()) === JSON.stringify([first.title, second.title]), 'the collection holds ' + await titles());
  check(await page.isDisabled('[data-move="-1"][data-index="0"]'), 'the first lesson can move up');
  await shot(page, 'collection-page', true);
  /* Reorder with the keyboard: the first lesson down; the focus follows it. */
  await page.focus('[data-move="1"][data-index="0"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction((t) => {
    const a = document.querySelector('#collection-items .col-title');
    return a && a.textContent === t && document.getElementById('main').getAttribute('data-state') === 'ready';
  }, second.title);
  const f = await page.evaluate(() => [document.activeElement.getAttribute('data-move'), document.activeElement.getAttribute('data-index')]);
  check(f[1] === '1', 'the focus did not follow the lesson moved: ' + f);
  check((await page.textContent('#collection-note')).includes('vị trí 2'), 'no note about the move');
  const c = (await apiIn(page, '/api/collections/' + collectionId)).json;
  check(c.items.map((i) => i.lesson).join() === [second.lesson, first.lesson].join(), 'the order saved is ' + JSON.stringify(c.items));
  await shot(page, 'collection-reordered', true);
  /* Download it as a pack: a zip of a few kB. */
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#collection-download')]);
  const bytes = fs.readFileSync(await dl.path());
  check(bytes.slice(0, 2).toString('latin1') === 'PK', 'the export is not a zip: ' + bytes.slice(0, 8).toString('hex'));
  check(bytes.length > 500 && bytes.length < 1024 * 1024, 'the export is ' + bytes.length + ' bytes');
  check(/\.kho$/.test(dl.suggestedFilename()), 'the export is named ' + dl.suggestedFilename());
  console.log('# the collection\'s export is ' + bytes.length + ' bytes: ' + dl.suggestedFilename());
  /* Send it to the centre. */
  await page.click('#send-centre');
  await page.waitForFunction(() => /hộp thư đi/.test(document.getElementById('send-note').textContent));
  await shot(page, 'collection-sent-to-centre', true);
  assertClean(page);
}

async function sharing(use) {
  check(collectionId > 0, 'the collection scenario made no collection');
  const other = await newPage(DESKTOP);
  use(other);
  const owner = await newPage(DESKTOP);
  try {
    await signInAs(other, MINH);
    const list = (await apiIn(other, '/api/collections')).json.collections;
    check(!list.some((c) => c.id === collectionId), 'another teacher lists a private collection');
    await other.goto(base + 'me/collections/' + collectionId);
    await other.waitForSelector('#error');
    check((await other.textContent('#error')).includes('Không có bộ sưu tập này'), 'a private collection does not say it is not there');
    await shot(other, 'collection-private-to-others');
    /* Its owner shares it. */
    await signInAs(owner, HOA);
    await owner.goto(base + 'me/collections/' + collectionId);
    await owner.waitForSelector('#share-toggle');
    check(await owner.getAttribute('#share-toggle', 'aria-pressed') === 'false', 'the collection is shared at first');
    await owner.click('#share-toggle');
    await owner.waitForSelector('#share-toggle[aria-pressed="true"]');
    check(await focusedId(owner) === 'share-toggle', 'the focus left the share button');
    await shot(owner, 'collection-shared', true);
    /* Now the other teacher sees it, with its owner, and can only read it. */
    await other.goto(base + 'me/collections');
    await other.waitForSelector('#shared-collections');
    const row = await other.textContent('#shared-collections li[data-id="' + collectionId + '"]');
    check(row.includes(COLLECTION) && row.includes('của ' + HOA.name), 'the shared collection reads ' + row);
    await shot(other, 'collections-shared-by-others');
    await other.click('#shared-collections li[data-id="' + collectionId + '"] a');
    await other.waitForSelector('#read-only');
    check(await other.locator('[data-move], [data-remove-item], #send-centre, #share-toggle, #delete-collection, #rename-form').count() === 0,
      'a collection of another teacher can be changed');
    check(await other.locator('#collection-items li').count() === 2, 'the shared collection does not show its two lessons');
    check(await other.isVisible('#collection-download'), 'a shared collection cannot be downloaded');
    await shot(other, 'collection-read-only', true);
    /* Make, rename and delete another one (with a question first). */
    await owner.goto(base + 'me/collections');
    await owner.waitForSelector('#new-collection-form');
    await owner.fill('#new-collection-name', 'Nháp');
    await owner.press('#new-collection-name', 'Enter');
    await owner.waitForSelector('#collection-empty');
    await owner.fill('#rename-input', 'Nháp ôn tập');
    await owner.press('#rename-input', 'Enter');
    await owner.waitForFunction(() => document.getElementById('collection-name').textContent === 'Nháp ôn tập');
    check(await focusedId(owner) === 'rename-input', 'the focus left the name field');
    await owner.click('#delete-collection');
    await owner.waitForSelector('#delete-confirm:not([hidden])');
    check(await focusedId(owner) === 'delete-no', 'the question does not offer "cancel" first');
    await shot(owner, 'collection-delete-question', true);
    await owner.keyboard.press('Enter');
    await owner.waitForSelector('#delete-confirm[hidden]', { state: 'attached' });
    check(await focusedId(owner) === 'delete-collection', 'cancel did not return to the delete button');
    await owner.click('#delete-collection');
    await owner.click('#delete-yes');
    await owner.waitForSelector('#my-collections');
    check(new URL(owner.url()).pathname === '/me/collections', 'after deleting, the page is ' + owner.url());
    const names = await owner.$$eval('#my-collections a', (els) => els.map((a) => a.textContent));
    check(names.join() === COLLECTION, 'the collections left are ' + names);
    await shot(owner, 'collections-after-delete');
    assertClean(other, /status of 404/);
    assertClean(owner);
  } finally {
    await owner.context().close().catch(() => {});
  }
}

async function signedInHome(use) {
  const page = await newPage(DESKTOP);
  use(page);
  const homeCalls = [];
  page.on('request', (r) => {
    if (/\/api\/(home|history)$/.test(r.url())) homeCalls.push(new URL(r.url()).pathname);
  });
  await page.goto(base);
  await page.waitForSelector('#home-subject-list');
  await waitAccountKnown(page);
  check(await page.isHidden('#personal'), 'an anonymous reader sees personal sections');
  check(homeCalls.length === 0, 'anonymous home asked for ' + homeCalls);
  await signInAs(page, MINH);
  const lesson = (await getJSON(base + 'api/lessons/vn.kho.toan-5/bai-01')).json;
  const next = (await getJSON(base + 'api/lessons/vn.kho.toan-5/' + lesson.next.lesson)).json;
  check(next.next, 'vn.kho.toan-5 has fewer than three lessons in a unit');
  await page.goto(base + 'lesson/vn.kho.toan-5/bai-01');
  await waitTitle(page, lesson.title);
  await page.click('#next-lesson');
  await waitTitle(page, next.title);
  await page.waitForFunction(() => fetch('/api/history').then((r) => r.json()).then((j) => j.history.length >= 2));
  homeCalls.length = 0;
  await page.click('#home-link');
  await page.waitForSelector('#home-continue');
  check(homeCalls.join() === '/api/home', 'the home page made ' + (homeCalls.join() || 'no') + ' requests, not one GET /api/home');
  const cont = await page.$$eval('#home-continue-list a', (els) => els.map((a) => a.textContent));
  check(cont[0] === next.title && cont[1] === lesson.title, 'Continue shows ' + cont);
  check((await page.textContent('#continue-link')) === next.title, '#continue-link is not the lesson opened last');
  await page.waitForSelector('#home-next');
  const nextRow = await page.textContent('#home-next-list li');
  check(nextRow.includes(next.next.title) && nextRow.includes('Sau bài “' + next.title + '”'), 'Next shows ' + nextRow);
  for (const s of await page.$$('#personal section')) {
    check(await s.$$eval('li', (els) => els.length) > 0, 'a section with no lessons is shown');
  }
  if (await page.locator('#home-popular').count()) {
    check(/giáo viên/.test(await page.textContent('#home-popular-list')), 'Popular does not say how many teachers');
  }
  check(await page.isVisible('#home-subject-list'), 'the subjects went from the signed-in home page');
  await shot(page, 'home-signed-in', true);
  await page.click('#lang-switch');
  await page.waitForFunction(() => /Continue/.test((document.getElementById('home-continue-heading') || {}).textContent || ''));
  await shot(page, 'home-signed-in-english', true);
  await page.click('#lang-switch');
  await page.waitForFunction(() => document.documentElement.lang === 'vi');
  await page.click('#home-next-list a');
  await waitTitle(page, next.next.title);
  assertClean(page);
}

async function phoneCollections(use) {
  check(collectionId > 0, 'the collection scenario made no collection');
  const page = await newPage(PHONE, { deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  use(page);
  await signInAs(page, HOA);
  await page.goto(base);
  await page.waitForSelector('#home-continue');
  await noHorizontalScroll(page, 'home, signed in');
  await shot(page, 'phone-home-signed-in', true);
  await page.goto(base + 'me');
  await page.waitForSelector('#profile-form');
  check(await page.locator('#school-panel').count() === 0, 'a teacher sees the administrator\'s suggestions');
  await page.tap('#me-collections');
  await page.waitForSelector('#my-collections');
  await noHorizontalScroll(page, '/me/collections');
  await shot(page, 'phone-collections', true);
  await page.tap('#my-collections li[data-id="' + collectionId + '"] a');
  await page.waitForSelector('#collection-items');
  await noHorizontalScroll(page, 'a collection');
  await shot(page, 'phone-collection', true);
  await page.tap('#collection-items a');
  await page.waitForSelector('#collect-button');
  await page.tap('#collect-button');
  await page.waitForSelector('#collect-form');
  await noHorizontalScroll(page, 'a lesson, adding to a collection');
  await shot(page, 'phone-add-to-collection');
  assertClean(page);
}

/* A repository with a pack the box lacks (test.mini, Toán 5) and one it subscribes to, so
   that a sync installs something and keeps the catalog (sync/suggest.c reads it). */
function syncBox() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kho-web-repo-'));
  const run = (args) => {
    const r = cp.spawnSync(kho, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error('kho ' + args.join(' ') + ' failed (' + r.status + '): ' + r.stderr);
    return r.stdout;
  };
  try {
    const extra = path.join(work, 'extra');
    fs.mkdirSync(path.join(extra, 'lessons'), { recursive: true });
    fs.writeFileSync(path.join(extra, 'manifest.xml'), '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<pack xmlns="urn:kho:pack:1" id="test.web-extra" version="1" xml:lang="vi">\n' +
      '  <title>Gói thử cập nhật</title>\n  <subject>tin-hoc</subject>\n  <grade>12</grade>\n' +
      '  <lesson id="thu" href="lessons/thu.html"><title>Bài thử cập nhật</title></lesson>\n</pack>\n');
    fs.writeFileSync(path.join(extra, 'lessons', 'thu.html'), '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">' +
      '<title>Bài thử cập nhật</title></head><body><h1>Bài thử cập nhật</h1><p>Một bài để thử.</p></body></html>\n');
    const key = path.join(work, 'p.key');
    const pub = path.join(work, 'p.pub');
    const repo = path.join(work, 'repo');
    run(['--home', path.join(work, 'author'), 'keygen', '-s', key, '-p', pub, '--no-passphrase']);
    run(['--home', path.join(work, 'author'), 'publish', '--repo', repo, '-s', key,
      path.join(__dirname, '..', 'data', 'packs', 'mini'), extra]);
    run(['--home', home, 'trust', 'add', pub]);
    run(['--home', home, 'subscribe', 'test.web-extra']);
    run(['--home', home, 'sync', '--from', repo]);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function school(use) {
  const page = await newPage(DESKTOP);
  use(page);
  await signInAs(page, ADMIN);
  await page.goto(base + 'me');
  await page.waitForSelector('#school-panel');
  await page.waitForSelector('#not-synced');
  check((await page.textContent('#not-synced')).includes('chưa cập nhật'), 'the box\'s missing sync is not explained');
  await shot(page, 'school-not-synced-yet', true);
  /* A teacher of Toán 5 (the administrator's own profile), then a sync. */
  await page.check('#profile-grade input[value="5"]');
  await page.check('#profile-subject input[value="toan"]');
  await page.click('#profile-save');
  await page.waitForFunction(() => /Đã lưu/.test(document.getElementById('profile-note').textContent));
  syncBox();
  await page.reload();
  await page.waitForSelector('#suggest-list');
  const packs = await page.$$eval('#suggest-list input', (els) => els.map((e) => e.value));
  check(packs.includes('test.mini') && !packs.includes('test.web-extra') && !packs.includes('vn.kho.toan-5'),
    'the suggestions are ' + packs);
  check((await page.textContent('#suggest-list')).includes('Gói thử nhỏ'), 'the suggestion has no title');
  check(/lần cập nhật tới/i.test(await page.textContent('#suggest-hint')), 'the page does not say the next sync installs them');
  await shot(page, 'school-suggestions', true);
  await page.click('#suggest-accept');
  await page.waitForFunction(() => /ít nhất một/.test(document.getElementById('suggest-note').textContent));
  await page.check('#suggest-list input[value="test.mini"]');
  await page.click('#suggest-accept');
  await page.waitForSelector('#suggest-done');
  check((await page.textContent('#suggest-done')).includes('Đã đăng ký 1'), 'no message after accepting');
  check(await page.locator('#suggest-list input[value="test.mini"]').count() === 0, 'an accepted pack is still suggested');
  const subs = cp.spawnSync(kho, ['--home', home, 'subscriptions'], { encoding: 'utf8' });
  check(/test\.mini/.test(subs.stdout), 'test.mini is not subscribed: ' + subs.stdout + subs.stderr);
  await shot(page, 'school-accepted', true);
  assertClean(page);
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(outDir)) if (f.endsWith('.png')) fs.rmSync(path.join(outDir, f));
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'kho-web-'));
  const imp = cp.spawnSync(kho, ['--home', home, 'import', '--bundled'], { encoding: 'utf8' });
  if (imp.status !== 0) throw new Error('kho import --bundled failed (' + imp.status + '): ' + (imp.stderr || '') + (imp.error || ''));
  const add = cp.spawnSync(kho, ['--home', home, 'user', 'add', TEACHER.name], { input: TEACHER.password + '\n', encoding: 'utf8' });
  if (add.status !== 0) throw new Error('kho user add failed (' + add.status + '): ' + (add.stderr || '') + (add.error || ''));
  for (const [who, extra] of [[HOA, []], [MINH, []], [ADMIN, ['--admin']]]) {
    const r = cp.spawnSync(kho, ['--home', home, 'user', 'add', who.name].concat(extra), { input: who.password + '\n', encoding: 'utf8' });
    if (r.status !== 0) throw new Error('kho user add ' + who.name + ' failed (' + r.status + '): ' + (r.stderr || '') + (r.error || ''));
  }
  server = await startServer();
  base = server.url;
  console.log('# kho serve at ' + base + ', screenshots in ' + outDir);
  browser = await playwright.chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage']
  });

  await scenario('search as you type: "phan so" and "duong" find "phân số" and "đường", with completions', searchAsYouType);
  await scenario('a grade facet filters the results (and the filter can be removed)', gradeFilter);
  await scenario('lesson viewer: iframe loads the lesson, next lesson, back to results', lessonViewer);
  await scenario('English and back, kept across a reload', language);
  await scenario('360×740 phone: no horizontal scroll on home, results, lesson, browse', phone);
  await scenario('the lesson cannot read the app (opaque origin, CSP sandbox)', sandbox);
  await scenario('browse by subject → grade → units and lessons', browsing);
  await scenario('nothing found, "did you mean", network error and retry', messages);
  await scenario('a teacher signs in (a wrong password and 429 first), marks a favourite, sees it on /me with the history, saves a profile, signs out', accounts);
  await scenario('360×740 phone: sign-in and /me have no horizontal scroll', phoneAccounts);
  await scenario('the box serves /signin and /me as app pages (reload, bookmark): anonymous /me goes to /signin', accountPages);
  await scenario('a collection from search to export: new from a lesson, another added, reordered by keyboard, downloaded (.kho zip), sent to the centre', collections);
  await scenario('another teacher does not see a private collection, sees it read-only once shared; make, rename, delete with a question', sharing);
  await scenario('the signed-in home page: one GET /api/home, Continue and Next after opening lessons, empty sections hidden', signedInHome);
  await scenario('360×740 phone: signed-in home, collections, a collection, adding to one have no horizontal scroll', phoneCollections);
  await scenario('an administrator: "not synced yet", then suggested subscriptions after a sync, accepted', school);
  await scenario('the app is small, plain ES5 and served on every route', async () => {
    const size = await appFiles();
    console.log('# the app is ' + size + ' bytes gzip-compressed');
  });

  if (interrupted) return 1;
  const failed = outcomes.filter((ok) => !ok).length;
  console.log(outcomes.length - failed + ' passed, ' + failed + ' failed');
  return failed ? 1 : 0;
}

main().then(async (code) => {
  await cleanup();
  process.exit(interrupted ? 1 : code);
}, async (err) => {
  console.log('FAIL: ' + (err && err.stack || err));
  await cleanup();
  process.exit(1);
});

// SPDX-License-Identifier: BSD-2-Clause
// crisp ab's rater page in headless Chromium (Debian's /usr/bin/chromium,
// driven over the DevTools protocol by playwright-core): a scripted rater
// who always prefers the hidden method X (and rates X 5, the others 2).
// Checks: no method name in the DOM or in any URL the page loads, every
// request stays on the page's origin, both videos of each pair play and
// stay within one frame of each other, the answers are posted back and
// can be downloaded. Writes the answers the page offered for download and
// a screenshot of a pair.
//
// usage: node ab.mjs URL KEY.json X_METHOD DOWNLOAD.json SCREENSHOT.png
import { readFileSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [url, keyFile, xMethod, downloadTo, shot] = process.argv.slice(2);
const key = JSON.parse(readFileSync(keyFile, 'utf8'));
const method = {}; // id -> method
const fpsOf = {}; // id -> fps
for (const c of key.clips) for (const [id, m] of Object.entries(c.videos)) { method[id] = m; fpsOf[id] = c.fps; }
const names = key.methods.flatMap((m) => [m, m.split('@')[0]]);
let fails = 0;
let checks = 0;
const ok = (m) => { checks++; console.log('ok: ' + m); };
const bad = (m) => { checks++; fails++; console.log('FAIL: ' + m); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// a method name as a word of its own (an id or a longer word does not count)
const leaks = (text) => names.filter((n) => new RegExp('(^|[^A-Za-z0-9@_-])' + esc(n) + '($|[^A-Za-z0-9@_-])', 'i').test(text));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required'],
});
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  const urls = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => urls.push(r.url()));
  await page.goto(url, { waitUntil: 'load' });
  let domLeaks = new Set();
  const checkDom = async () => { for (const l of leaks(await page.content())) domLeaks.add(l); };
  await checkDom();
  await page.fill('#name', 'robot');
  await page.click('#start');
  let pairs = 0, maxDrift = 0, samples = 0, notPlaying = 0, shotTaken = false;
  const seen = new Set();
  for (;;) {
    const where = await page.waitForFunction(() => {
      for (const s of ['trial', 'rate', 'done']) if (!document.getElementById(s).hidden) return s;
      return null;
    }, null, { timeout: 30000 }).then((h) => h.jsonValue());
    if (where === 'done') break;
    if (where === 'trial') {
      // the answers open once the pair has played through; meanwhile, sample the sync
      for (let i = 0; i < 600; i++) {
        const s = await page.evaluate(() => {
          const l = document.getElementById('vid-l'), r = document.getElementById('vid-r');
          return { l: l.currentTime, r: r.currentTime, lp: !l.paused && l.readyState >= 2,
                   rp: !r.paused && r.readyState >= 2, seeking: l.seeking || r.seeking,
                   open: !document.getElementById('vote-l').disabled,
                   ls: l.currentSrc, rs: r.currentSrc };
        });
        if (s.lp && s.rp && !s.seeking && s.l > 0.1 && s.l < 0.8) {
          const id = s.ls.match(/([0-9a-f]{12})\.mp4$/)[1];
          samples++;
          maxDrift = Math.max(maxDrift, Math.abs(s.l - s.r) * fpsOf[id]);
        } else if (s.l > 0.1 && s.l < 0.8 && !s.seeking && (!s.lp || !s.rp)) {
          notPlaying++;
        }
        if (s.open) break;
        await sleep(20);
      }
      const [ls, rs] = await page.evaluate(() => [document.getElementById('vid-l').currentSrc,
        document.getElementById('vid-r').currentSrc]);
      const l = method[ls.match(/([0-9a-f]{12})\.mp4$/)[1]], r = method[rs.match(/([0-9a-f]{12})\.mp4$/)[1]];
      seen.add([l, r].sort().join(' | '));
      if (!shotTaken) { await page.screenshot({ path: shot }); shotTaken = true; }
      await checkDom();
      await page.click(l === xMethod ? '#vote-l' : r === xMethod ? '#vote-r' : '#vote-s');
      pairs++;
      await page.waitForFunction((n) => document.getElementById('progress').textContent !== n,
        `Pair ${pairs} of ${pairs}`, { timeout: 5000 }).catch(() => {});
      await sleep(50);
    } else {
      await page.waitForFunction(() => !document.querySelector('[data-score="5"]').disabled, null, { timeout: 30000 });
      const src = await page.evaluate(() => document.getElementById('vid-s').currentSrc);
      const m = method[src.match(/([0-9a-f]{12})\.mp4$/)[1]];
      await checkDom();
      await page.click(m === xMethod ? '[data-score="5"]' : '[data-score="2"]');
      await sleep(50);
    }
  }
  const nm = key.methods.length;
  const want = key.clips.length * nm * (nm - 1) / 2;
  pairs === want && seen.size === nm * (nm - 1) / 2 ? ok(`${pairs} pairs judged, every pair of methods shown`)
    : bad(`${pairs} pairs judged (want ${want}), ${seen.size} distinct`);
  samples >= pairs * 5 && maxDrift <= 1.0 ? ok(`both videos playing and in sync: ${samples} samples, largest gap ${maxDrift.toFixed(3)} frame`)
    : bad(`sync: ${samples} samples, largest gap ${maxDrift.toFixed(3)} frames`);
  notPlaying === 0 ? ok('never one video of a pair paused while the other played') : bad(`${notPlaying} samples with one video not playing`);
  // the answers: posted back (served over HTTP) and downloadable
  await page.waitForFunction(() => /sent/.test(document.getElementById('sent').textContent), null, { timeout: 10000 })
    .then(() => ok('answers posted back to crisp ab serve')).catch(async () => bad('not posted: ' + await page.textContent('#sent')));
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  await dl.saveAs(downloadTo);
  const got = JSON.parse(readFileSync(downloadTo, 'utf8'));
  got.test === key.test && got.pc.length === want && got.name === 'robot'
    ? ok(`answers downloaded as ${dl.suggestedFilename()}`) : bad('downloaded answers: ' + JSON.stringify(got).slice(0, 200));
  await checkDom();
  domLeaks.size === 0 ? ok('no method name in the DOM') : bad('method names in the DOM: ' + [...domLeaks].join(', '));
  const origin = new URL(url).origin;
  const foreign = urls.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('blob:') && !u.startsWith('data:'));
  foreign.length === 0 ? ok(`all ${urls.length} requests on the page's origin`) : bad('requests elsewhere: ' + foreign.join(' '));
  const urlLeaks = urls.flatMap((u) => leaks(decodeURIComponent(u)));
  urlLeaks.length === 0 ? ok('no method name in any URL') : bad('method names in URLs: ' + urlLeaks.join(', '));
  errors.length === 0 ? ok('no console errors') : bad('console errors: ' + errors.join(' | '));
} catch (e) {
  bad('exception: ' + (e.stack || e));
} finally {
  await browser.close();
}
console.log(`${checks} checks, ${fails} failed`);
process.exit(fails ? 1 : 0);

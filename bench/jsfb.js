// jsfb.js - the js-framework-benchmark's 9 keyed CPU cases in one headless
// Chromium run: the nitro-wasm app (bench/js-framework-benchmark/, written as
// the README teaches) against vanilla JS, lit-html and preact apps
// (bench/jsfb-peers/). Interleaved: every iteration runs each app once on a
// fresh page. Duration: click to the end of the next frame (a task posted
// from requestAnimationFrame runs after style, layout and paint), so script,
// layout and paint are all in it. Prints medians and ratios to vanilla JS.
import http from 'node:http';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { staticHandler } from '../scripts/serve.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const CHROMIUM = '/usr/bin/chromium';

const APPS = [
  ['vanilla', '/bench/jsfb-peers/vanilla/index.html'],
  ['nitro-wasm', '/bench/js-framework-benchmark/index.html'],
  ['lit-html', '/bench/jsfb-peers/lit/index.html'],
  ['preact', '/bench/jsfb-peers/preact/index.html'],
];

const row = (n, td, tail = '') => `tbody>tr:nth-of-type(${n})>td:nth-of-type(${td})${tail}`;
// [name, warm-up clicks, measured click, rows expected after]
const CASES = [
  ['create 1,000 rows', [], '#run', 1000],
  ['replace all 1,000 rows', ['#run'], '#run', 1000],
  ['partial update (every 10th)', ['#run'], '#update', 1000],
  ['select row', ['#run'], row(2, 2, '>a'), 1000],
  ['swap rows', ['#run'], '#swaprows', 1000],
  ['remove row', ['#run'], row(4, 3, '>a>span'), 999],
  ['create 10,000 rows', [], '#runlots', 10000],
  ['append 1,000 to 1,000 rows', ['#run'], '#add', 2000],
  ['clear 1,000 rows', ['#run'], '#clear', 0],
];

async function serve() {
  const handle = staticHandler({ '/': root });
  const css = fs.readFileSync(path.join(here, 'jsfb-peers', 'currentStyle.css'));
  const server = http.createServer((req, res) => {
    if (req.url === '/css/currentStyle.css') { res.writeHead(200, { 'content-type': 'text/css' }); res.end(css); return; }
    handle(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => { server.close(() => r()); server.closeAllConnections(); }) };
}

/** Click `sel` and wait for the end of the next frame; ms. */
function clickToPaint(page, sel) {
  return page.evaluate((sel) => new Promise((resolve) => {
    const el = document.querySelector(sel);
    if (!el) throw new Error(`no ${sel}`);
    const t0 = performance.now();
    el.click();
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => resolve(performance.now() - t0);
      ch.port2.postMessage(0);
    });
  }), sel);
}

const settle = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 30))));

async function openApp(browser, origin, url) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(origin + url);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 30_000 }).catch((err) => { throw errors[0] ?? err; });
  return { page, errors };
}

async function runCase(browser, origin, url, c) {
  const { page, errors } = await openApp(browser, origin, url);
  try {
    for (const w of c[1]) { await clickToPaint(page, w); await settle(page); }
    await settle(page);
    const ms = await clickToPaint(page, c[2]);
    const rows = await page.evaluate(() => document.querySelectorAll('tbody>tr').length);
    if (rows !== c[3]) throw new Error(`${url} ${c[0]}: ${rows} rows, expected ${c[3]}`);
    if (errors.length) throw errors[0];
    return ms;
  } finally {
    await page.close();
  }
}

async function memoryAfter1k(browser, origin, url) {
  const { page } = await openApp(browser, origin, url);
  try {
    await clickToPaint(page, '#run');
    await settle(page);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    const extra = await page.evaluate(() => window.__extraBytes());
    return usedSize + extra;
  } finally {
    await page.close();
  }
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };

export async function run(report) {
  const say = (s) => report.line(s);
  if (!fs.existsSync(CHROMIUM)) { say('\njs-framework-benchmark: skipped (no /usr/bin/chromium)'); return; }
  const { chromium } = await import('playwright-core');
  const iterations = Number(process.env.JSFB_ITERATIONS || 7);
  const srv = await serve();
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const version = browser.version();
    say(`\njs-framework-benchmark, keyed, Chromium ${version}, ${iterations} interleaved iterations, click to end of next frame (ms, median)`);
    say(`  ${'case'.padEnd(30)}${APPS.map(([n]) => n.padStart(12)).join('')}   ${APPS.slice(1).map(([n]) => `${n}/vanilla`.padStart(18)).join('')}`);
    const ratios = APPS.map(() => []);
    const nitroRatio = {};
    for (const c of CASES) {
      const times = APPS.map(() => []);
      for (let i = 0; i < iterations; i++) {
        for (const [k, [, url]] of APPS.entries()) times[k].push(await runCase(browser, srv.origin, url, c));
      }
      const med = times.map(median);
      const rs = med.map((m) => m / med[0]);
      rs.forEach((r, k) => ratios[k].push(r));
      nitroRatio[c[0]] = rs[1];
      say(`  ${c[0].padEnd(30)}${med.map((m) => m.toFixed(1).padStart(12)).join('')}   ${rs.slice(1).map((r) => `${r.toFixed(2)}x`.padStart(18)).join('')}`);
    }
    const geo = ratios.map((rs) => Math.exp(rs.reduce((s, r) => s + Math.log(r), 0) / rs.length));
    say(`  ${'geometric mean of ratios'.padEnd(30)}${' '.repeat(12 * APPS.length)}   ${geo.slice(1).map((g) => `${g.toFixed(2)}x`.padStart(18)).join('')}`);
    const mem = [];
    for (const [, url] of APPS) mem.push(await memoryAfter1k(browser, srv.origin, url));
    say(`  ${'memory after 1,000 rows (MB)'.padEnd(30)}${mem.map((m) => (m / 1e6).toFixed(2).padStart(12)).join('')}   ${mem.slice(1).map((m) => `${(m / mem[0]).toFixed(2)}x`.padStart(18)).join('')}`);
    say('  (nitro-wasm memory: JS heap plus its WebAssembly memory)');
    const mark = (ok) => (ok ? 'met' : 'MISSED');
    const worst = Math.max(...Object.values(nitroRatio));
    const tight = ['select row', 'partial update (every 10th)', 'swap rows', 'remove row'].map((k) => nitroRatio[k]);
    say('\ngoals (nitro-wasm / vanilla, same run):');
    say(`  geometric mean <= 1.10: ${geo[1].toFixed(2)}x ${mark(geo[1] <= 1.1)}`);
    say(`  no case above 1.30: worst ${worst.toFixed(2)}x ${mark(worst <= 1.3)}`);
    say(`  select, update, swap, remove <= 1.15: ${tight.map((r) => r.toFixed(2)).join(', ')} ${mark(tight.every((r) => r <= 1.15))}`);
    say(`  memory after 1,000 rows <= 1.3x: ${(mem[1] / mem[0]).toFixed(2)}x ${mark(mem[1] / mem[0] <= 1.3)}`);
    say(`  10,000-row first render <= 1.2x: ${nitroRatio['create 10,000 rows'].toFixed(2)}x ${mark(nitroRatio['create 10,000 rows'] <= 1.2)}`);
  } finally {
    await browser.close();
    await srv.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { makeReport } = await import('./harness.js');
  await run(makeReport());
}

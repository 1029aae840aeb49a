// bench/templates-browser.js - the template bench in Chromium: the task
// table from a query handle vs template literals, where the time goes, and
// patching 10 changed rows of a 10,000-row table in the page. The work runs
// inside bench/pages/templates.html (using the ESM build from /dist/); this
// file serves it, drives headless Chromium through playwright-core and
// prints the tables. Called by bench/templates.js's run(report), or directly:
// `node bench/templates-browser.js`.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { staticHandler } from '../scripts/serve.js';
import { goal } from './pages/table.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

/** A static server on 127.0.0.1 with a free port: the bench page at /, the
 * build at /dist/. COOP/COEP make the page cross-origin isolated, which
 * gives performance.now() 5 us steps instead of 100 us. */
async function serve() {
  const handle = staticHandler({ '/': path.join(here, 'pages'), '/dist/': path.join(here, '..', 'dist') });
  const server = http.createServer((req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    handle(req, res);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

const ms = (x) => `${x.toFixed(2)} ms`;

export async function run(report) {
  const say = (s) => (report.line ? report.line(s) : console.log(s));
  const srv = await serve();
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(new Error(m.text())); });
    await page.goto(`${srv.origin}/templates.html`);
    await page.waitForFunction(() => window.benchReady === true || null, null, { timeout: 60_000 })
      .catch((err) => { throw errors[0] ?? err; });
    const info = await page.evaluate(() => window.bench.info());
    const version = /Chrome\/([\d.]+)/.exec(info.userAgent)?.[1] ?? '?';
    if (!info.crossOriginIsolated) say('(page not cross-origin isolated: performance.now() is coarse)');

    const mbps = (ops, bytes) => `${((ops * bytes) / 1e6).toFixed(0)} MB/s`;
    for (const n of [1000, 10000]) {
      const opts = n > 1000 ? { rounds: 7, ms: 250 } : { rounds: 7, ms: 120 };
      const r = await page.evaluate(([n, opts]) => window.bench.strings(n, opts), [n, opts]);
      const label = `${n.toLocaleString('en')}-row task table`;
      report.table(`templates (Chromium ${version}): ${label} -> string`, r.rows.map((x) => ({
        ...x, note: `${(r.bytes / 1024).toFixed(0)} KiB out, ${mbps(x.opsPerSec, r.bytes)}, ${ms(1000 / x.opsPerSec)}`,
      })));
      const ops = Object.fromEntries(r.rows.map((x) => [x.name, x.opsPerSec]));
      const lit = ops['template literals + escape'];
      say(`\ngoals, Chromium, ${label}:`);
      say(goal('query handle -> string vs template literals', ops['nitro: query handle -> string'] / lit, 1.2));
      say(goal('JS records -> string vs template literals', ops['nitro: JS records -> string'] / lit, 1 / 1.2));
    }

    const b = await page.evaluate(() => window.bench.breakdown(10000, { rounds: 7, ms: 200 }));
    report.table(`templates (Chromium ${version}): where the time goes, 10,000 rows, ${(b.bytes / 1024).toFixed(0)} KiB of output`,
      b.rows.map((x) => ({ ...x, note: ms(1000 / x.opsPerSec) })));

    const line = (name, st) => ({ name, opsPerSec: 1000 / st.median, note: `median ${ms(st.median)}, p90 ${ms(st.p90)}, max ${ms(st.max)}` });
    const patched = {};
    for (const [how, label] of [['query', 'Task.where({ id: { in: ids } })'], ['getMany', 'Task.getMany(ids)']]) {
      const p = await page.evaluate((how) => window.bench.patch(how, 40, 10), how);
      if (p.rowsInDom !== 10000) throw new Error(`expected 10,000 rows in the page, found ${p.rowsInDom}`);
      patched[how] = p;
      report.table(`templates (Chromium ${version}): patch ${p.changed} changed rows of a ${p.rowsInDom.toLocaleString('en')}-row table, rows from ${label} (${p.trials} trials)`, [
        line('nitro: patch, script time (render + swap)', p.script),
        line('nitro:   render the changed rows', p.render),
        line('nitro:   parse + replace rows by id', p.dom),
        line('nitro: store update of the 10 records', p.update),
        line('nitro: patch start -> next frame painted', p.toFrame),
        line('nitro:   frame work (rAF -> after paint)', p.frameWork),
      ]);
      say(`  (first full render of the table into the page: ${ms(p.fullScript)} script, ${ms(p.fullFrame)} until painted)`);
    }
    say(`\ngoals, Chromium, patching the page (2 ms / median script time; >= 1 is under 2 ms):`);
    say(goal('10 of 10,000 rows, rows from a query handle', 2 / patched.query.script.median, 1));
    say(goal('10 of 10,000 rows, rows from getMany records', 2 / patched.getMany.script.median, 1));
    if (errors.length) throw errors[0];
  } finally {
    await browser?.close();
    await srv.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { makeReport } = await import('./harness.js');
  await run(makeReport());
}

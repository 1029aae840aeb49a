// script-context.test.js - values in Datastar expressions of mounted live
// views (issue 15, item 2), in real Chromium: a live patch writes the same
// JS-string encoding as render(), and Datastar 1.0.2 (when ../shared has it)
// posts the value as one URL instead of running it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startTestServer, launchChromium } from './server.js';

const CHROMIUM = '/usr/bin/chromium';
const noChromium = !fs.existsSync(CHROMIUM) && `${CHROMIUM} is not installed (apt-get install -y chromium)`;
const noBuild = !fs.existsSync(new URL('../../dist/nitro.js', import.meta.url)) && 'dist/ is not built (npm run build)';
const noV1 = !fs.existsSync(new URL('../../../shared/datastar-1.0.2/datastar.js', import.meta.url)) && '../shared/datastar-1.0.2/ is not present';

const ATTACKS = ["x');window.__pwned=1;('", '"><img src=x onerror="window.__pwned=2">', "x');alert(1);('"];
const ROW = `<ul>{{#rows}}<li id="r{{n}}" title="{{id}}" data-on:click="@post('/tasks/{{id}}/toggle')">{{id}}</li>{{/rows}}</ul>`;

const PRELUDE = `
import { createNitro } from '/dist/nitro.js';
window.nitro = await createNitro();
window.parsed = (html) => {
  const t = document.createElement('template');
  t.innerHTML = '<div>' + html + '</div>';
  return t.content.firstChild.innerHTML;
};
// what a Datastar expression made of @post/@get calls does, actions recorded
window.runExpression = (expr) => {
  const calls = [];
  new Function('post', 'get', 'alert', expr.replace(/@(post|get)\\(/g, '$1('))(
    (...a) => calls.push(['post', ...a]), (...a) => calls.push(['get', ...a]), (...a) => calls.push(['alert', ...a]));
  return calls;
};
window.__ready = true;
`;

describe('script contexts of live views in Chromium', { skip: noChromium || noBuild }, () => {
  let browser, srv;

  before(async () => {
    srv = await startTestServer();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  async function fresh(head = '') {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e.stack || e)));
    page.on('dialog', (d) => { errors.push(`dialog: ${d.message()}`); d.dismiss(); });
    await page.route(srv.origin + '/script-context.html', (route) => route.fulfill({
      status: 200, contentType: 'text/html; charset=utf-8',
      body: `<!doctype html><meta charset="utf-8">${head}<body><div id="root"></div><script type="module">${PRELUDE}</script></body>`,
    }));
    await page.goto(srv.origin + '/script-context.html');
    await page.waitForFunction(() => window.__ready === true);
    return { page, errors, done: () => context.close() };
  }

  test('mount() and update() write a value in a Datastar string as render() does: one string argument', async () => {
    const { page, errors, done } = await fresh();
    const r = await page.evaluate(({ ROW, ATTACKS }) => {
      const tpl = nitro.template(ROW);
      const el = document.getElementById('root');
      const view = tpl.mount(el, { rows: [{ n: 0, id: 'first' }] });
      const bad = [];
      const check = (rows) => {
        view.update({ rows });
        const want = parsed(tpl.render({ rows }));
        if (el.innerHTML !== want) bad.push({ got: el.innerHTML, want });
        for (const [i, row] of rows.entries()) {
          const li = el.querySelector('#r' + i);
          const calls = runExpression(li.getAttribute('data-on:click'));
          if (JSON.stringify(calls) !== JSON.stringify([['post', `/tasks/${row.id}/toggle`]])) bad.push({ id: row.id, calls });
          if (li.title !== row.id || li.textContent !== row.id) bad.push({ id: row.id, title: li.title });
        }
      };
      for (const id of ATTACKS) check([{ n: 0, id }]);            // patched in place
      check(ATTACKS.map((id, n) => ({ n, id })));                   // new items
      return { bad, imgs: el.querySelectorAll('img').length };
    }, { ROW, ATTACKS });
    assert.deepEqual(r.bad, []);
    assert.equal(r.imgs, 0);
    assert.deepEqual(errors, []);
    await done();
  });

  test('values in on* handlers and Datastar code positions are refused for mount() as for render()', async () => {
    const { page, errors, done } = await fresh();
    const r = await page.evaluate(() => ['<a onclick="go(\'{{x}}\')">', '<p data-show="{{x}}">', '<script>{{>p}}</script>'].map((src) => {
      try { nitro.template(src, { partials: { p: '{{x}}' } }).mount(document.getElementById('root'), { x: 1 }); return 'mounted'; }
      catch (e) { return `${e.code} ${e.rule}`; }
    }));
    assert.deepEqual(r, ['TEMPLATE context', 'TEMPLATE context', 'TEMPLATE context']);
    assert.deepEqual(errors, []);
    await done();
  });

  test('Datastar 1.0.2 posts the value as one URL when a mounted row is clicked', { skip: noV1 }, async () => {
    const { page, errors, done } = await fresh('<script type="module" src="/datastar.js"></script>');
    const posted = [];
    await page.route('**/tasks/**', (route) => { posted.push(decodeURIComponent(new URL(route.request().url()).pathname)); route.fulfill({ status: 204 }); });
    await page.evaluate(({ ROW, ATTACKS }) => {
      window.view = nitro.template(ROW).mount(document.getElementById('root'), { rows: [{ n: 0, id: 'a' }] });
      view.update({ rows: ATTACKS.map((id, n) => ({ n, id })) });
    }, { ROW, ATTACKS });
    // Datastar processes the rows the view inserted (its MutationObserver), then each click posts once
    await page.waitForFunction((n) => document.querySelectorAll('#root li').length === n, ATTACKS.length);
    for (let i = 0; i < ATTACKS.length; i++) {
      await Promise.all([page.waitForRequest('**/tasks/**', { timeout: 10_000 }), page.click('#r' + i)]);
    }
    assert.deepEqual(posted.sort(), ATTACKS.map((id) => `/tasks/${id}/toggle`).sort());
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(errors.filter((e) => !e.includes('datastar')), []);
    await done();
  });
});

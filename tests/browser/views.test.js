// views.test.js - live views in real Chromium: Template.mount patches the
// page in place. After every step the mounted DOM must serialize exactly as
// the browser parses a fresh render() of the same data.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startTestServer, launchChromium } from './server.js';

const CHROMIUM = '/usr/bin/chromium';
const noChromium = !fs.existsSync(CHROMIUM) && `${CHROMIUM} is not installed (apt-get install -y chromium)`;
const noBuild = !fs.existsSync(new URL('../../dist/nitro.js', import.meta.url)) && 'dist/ is not built (npm run build)';

// Runs in the page: a fixture with helpers, then the test body.
const PRELUDE = `
import { createNitro, NitroError } from '/dist/nitro.js';
window.nitro = await createNitro();
window.NitroError = NitroError;
window.parsed = (html, tag = 'div') => {
  const t = document.createElement('template');
  t.innerHTML = '<' + tag + '>' + html + '</' + tag + '>';
  return t.content.firstChild.innerHTML;
};
window.tick = () => new Promise((r) => queueMicrotask(r));
window.rng = (seed) => () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
window.__ready = true;
`;

describe('live views in Chromium', { skip: noChromium || noBuild }, () => {
  let browser, srv, page;

  before(async () => {
    srv = await startTestServer();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  async function fresh(body = '<div id="root"></div>') {
    const context = await browser.newContext();
    page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e.stack || e)));
    await page.route(srv.origin + '/views.html', (route) => route.fulfill({
      status: 200, contentType: 'text/html; charset=utf-8',
      body: `<!doctype html><meta charset="utf-8"><body>${body}<script type="module">${PRELUDE}</script></body>`,
    }));
    await page.goto(srv.origin + '/views.html');
    await page.waitForFunction(() => window.__ready === true);
    return { errors, done: () => context.close() };
  }

  test('a query view follows the store: rows keep their nodes, moved rows are moved', async () => {
    const { errors, done } = await fresh('<table><tbody id="tb"></tbody></table>');
    const r = await page.evaluate(async () => {
      const Row = nitro.entity('Row', { fields: { label: { type: 'string' }, pos: { type: 'int' }, selected: { type: 'bool', default: false } }, indexes: ['pos'] });
      const tpl = nitro.template('{{#rows}}<tr class="{{#selected}}danger{{/selected}}"><td>{{id}}</td><td><a>{{label}}</a></td></tr>{{/rows}}');
      const tb = document.getElementById('tb');
      const q = Row.query().orderBy('pos');
      tpl.mount(tb, { rows: q });
      const same = () => tb.innerHTML === parsed(tpl.render({ rows: q }), 'tbody');
      const out = {};
      Row.insertMany([1, 2, 3, 4].map((i) => ({ id: String(i), label: 'row ' + i, pos: i })));
      out.beforeTick = tb.children.length;
      await tick();
      out.created = tb.children.length;
      out.same1 = same();
      const [a, b, c, d] = tb.children;
      Row.update('2', { label: 'two <&>', selected: true });
      await tick();
      out.updatedKeepsNode = tb.children[1] === b && b.className === 'danger' && b.textContent.includes('two <&>');
      out.othersUntouched = tb.children[0] === a && tb.children[2] === c;
      nitro.transaction(() => { Row.update('1', { pos: 4 }); Row.update('4', { pos: 1 }); });
      await tick();
      out.swapped = tb.children[0] === d && tb.children[3] === a && tb.children[1] === b;
      out.same2 = same();
      Row.delete('3');
      await tick();
      out.removed = tb.children.length === 3 && !tb.contains(c);
      const old = [...tb.children];
      nitro.transaction(() => { Row.query().delete(); Row.insertMany([7, 8].map((i) => ({ id: String(i), label: 'new ' + i, pos: i }))); });
      await tick();
      out.replaced = tb.children.length === 2 && old.every((n) => !tb.contains(n)) && same();
      Row.insertMany([9, 10, 11].map((i) => ({ id: String(i), label: 'more ' + i, pos: i })));
      await tick();
      out.appended = tb.children.length === 5 && same();
      Row.query().delete();
      await tick();
      out.cleared = tb.children.length === 0 && same();
      return out;
    });
    assert.deepEqual(r, { beforeTick: 0, created: 4, same1: true, updatedKeepsNode: true, othersUntouched: true, swapped: true, same2: true, removed: true, replaced: true, appended: true, cleared: true });
    assert.deepEqual(errors, []);
    await done();
  });

  test('focus and an input\'s typed value survive an update of another row', async () => {
    const { errors, done } = await fresh();
    const r = await page.evaluate(async () => {
      const Item = nitro.entity('Item', { fields: { name: { type: 'string' }, n: { type: 'int', default: 0 } } });
      const tpl = nitro.template('<ul>{{#items}}<li><input value="{{name}}"><span>{{n}}</span></li>{{/items}}</ul>');
      const root = document.getElementById('root');
      tpl.mount(root, { items: Item.query() });
      Item.insertMany([{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }]);
      await tick();
      const input = root.querySelector('input');
      input.focus();
      input.value = 'typed';
      input.setSelectionRange(1, 3);
      Item.update('b', { n: 7 });
      await tick();
      return {
        focus: document.activeElement === input, value: input.value, sel: [input.selectionStart, input.selectionEnd],
        spans: [...root.querySelectorAll('span')].map((s) => s.textContent),
      };
    });
    assert.deepEqual(r, { focus: true, value: 'typed', sel: [1, 3], spans: ['0', '7'] });
    assert.deepEqual(errors, []);
    await done();
  });

  test('random creates, updates, deletes, reorders and transactions: the DOM equals a fresh render after each step', async () => {
    const { errors, done } = await fresh();
    const r = await page.evaluate(async () => {
      const T = nitro.entity('T', { fields: { title: { type: 'string' }, pos: { type: 'int' }, done: { type: 'bool', default: false }, tags: { type: 'list', of: 'string', default: [] } } });
      const templates = [
        '<ul>{{#ts}}<li class="t {{#done}}done{{/done}}" data-pos="{{pos}}">{{title}} ({{pos}}){{#tags}}<b>{{.}}</b>{{/tags}}</li>{{/ts}}</ul><p>{{^ts}}nothing{{/ts}}</p>',
        '{{#ts}}\n  <div title="{{title}}">\n    {{{title}}} <a href="{{title}}">x</a>\n  </div>\n{{/ts}}',
        '<section>{{#open}}<h2>{{title}}</h2>{{/open}}<em>{{count}}</em>{{#ts}}{{>row}}{{/ts}}</section>',
      ];
      const row = nitro.template('<p>{{title}}{{#done}} &check;{{/done}}</p>\n');
      const texts = ['a', 'b & c', '<i>x</i>', '"q"', 'javascript:alert(1)', ' spaced  out ', 'é ü 中文 😀', '', 'line\r\nbreak', '&amp;'];
      const rnd = rng(42);
      const pick = (a) => a[Math.floor(rnd() * a.length)];
      const roots = templates.map((src) => {
        const el = document.createElement('div');
        document.body.appendChild(el);
        return { tpl: nitro.template(src, { partials: { row } }), el };
      });
      const q = () => T.where({ pos: { gte: 0 } }).orderBy('pos', '-title');
      const data = () => ({ ts: q(), open: T.where({ done: false }).orderBy('title').limit(3), count: 0 });
      for (const r of roots) r.view = r.tpl.mount(r.el, data());
      let next = 0;
      const failures = [];
      for (let step = 0; step < 250; step++) {
        const ids = T.query().ids();
        const op = rnd();
        try {
          if (op < 0.3 || ids.length < 3) T.create({ id: 'r' + next++, title: pick(texts), pos: Math.floor(rnd() * 20), tags: rnd() < 0.3 ? [pick(texts)] : [] });
          else if (op < 0.55) T.update(pick(ids), { title: pick(texts) });
          else if (op < 0.7) T.update(pick(ids), { pos: Math.floor(rnd() * 20) - 2, done: rnd() < 0.5 });
          else if (op < 0.8) T.delete(pick(ids));
          else if (op < 0.92) nitro.transaction(() => { for (let k = 0; k < 4; k++) { const l = T.query().ids(); if (l.length) T.update(pick(l), { pos: Math.floor(rnd() * 20) }); } T.create({ id: 'r' + next++, title: pick(texts), pos: 3 }); });
          else for (const r of roots) r.view.update({ ...data(), count: step });
        } catch (e) { failures.push('op ' + e.message); }
        await tick();
        if (step === 120) {   // server-rendered copies, taken over as they are
          for (const [i, r] of [...roots.entries()]) {
            const el = document.createElement('div');
            document.body.appendChild(el);
            el.innerHTML = r.tpl.render({ ...data(), count: r.el.querySelector('em')?.textContent ?? 0 });
            const mo = new MutationObserver(() => {});
            mo.observe(el, { subtree: true, childList: true, attributes: true, characterData: true });
            const view = r.tpl.mount(el, { ...data(), count: r.el.querySelector('em')?.textContent ?? 0 }, { adopt: true });
            const mutated = mo.takeRecords().length;
            mo.disconnect();
            if (!view.adopted || mutated) failures.push({ adopt: i, adopted: view.adopted, mutated });
            roots.push({ tpl: r.tpl, el, view });
          }
        }
        for (const [i, r] of roots.entries()) {
          const want = parsed(r.tpl.render({ ...data(), count: r.el.querySelector('em')?.textContent ?? 0 }));
          if (r.el.innerHTML !== want) { failures.push({ step, i, got: r.el.innerHTML, want }); break; }
        }
        if (failures.length) break;
      }
      return { failures, records: T.count() };
    });
    assert.deepEqual(r.failures, []);
    assert.ok(r.records > 0);
    assert.deepEqual(errors, []);
    await done();
  });

  test('escaping and URL rules are those of render() (XSS table against mounted views)', async () => {
    const { errors, done } = await fresh();
    const cases = JSON.parse(fs.readFileSync(new URL('../fixtures/escape-cases.json', import.meta.url), 'utf8'));
    const values = [];
    for (const c of cases) if (typeof c.input === 'string') values.push(c.input);
    values.push('javascript:alert(1)', ' JaVaScRiPt:alert(1)', 'java\tscript:x', '&#106;avascript:x', 'data:text/html,<script>x</script>', 'data:image/png;base64,AA', '"><script>alert(1)</script>', "x');alert(1);('");
    const r = await page.evaluate(async (values) => {
      const tpl = nitro.template('<div>{{#vs}}<a href="{{v}}" title="t {{v}}">{{v}}</a><img src="{{v}}">{{/vs}}</div>');
      const el = document.getElementById('root');
      const view = tpl.mount(el, { vs: [] });
      const bad = [];
      for (const v of values) {
        view.update({ vs: [{ v }] });
        const want = parsed(tpl.render({ vs: [{ v }] }));
        if (el.innerHTML !== want) bad.push({ v, got: el.innerHTML, want });
      }
      view.update({ vs: values.map((v) => ({ v })) });
      if (el.innerHTML !== parsed(tpl.render({ vs: values.map((v) => ({ v })) }))) bad.push('all at once');
      return { bad, scripts: el.querySelectorAll('script').length, n: values.length };
    }, values);
    assert.deepEqual(r.bad, []);
    assert.equal(r.scripts, 0);
    assert.ok(r.n > 8);
    assert.deepEqual(errors, []);
    await done();
  });

  test('adopt: server-rendered HTML is taken over with no DOM mutation, then patched in place', async () => {
    const { errors, done } = await fresh();
    const r = await page.evaluate(async () => {
      const Task = nitro.entity('Task', { fields: { title: { type: 'string' }, n: { type: 'int', default: 0 } } });
      Task.insertMany([{ id: 'a', title: 'first & one' }, { id: 'b', title: '' }, { id: 'c', title: 'third' }]);
      const tpl = nitro.template('<h1 class="{{cls}}">{{heading}}</h1>\n<ul>\n{{#tasks}}  <li data-n="{{n}}">{{title}}<b>{{#n}}{{n}}{{/n}}</b>{{^n}} none{{/n}}</li>\n{{/tasks}}</ul>{{^tasks}}<p>empty</p>{{/tasks}}');
      const root = document.getElementById('root');
      const data = { heading: 'Tasks', cls: 'big', tasks: Task.query() };
      root.innerHTML = tpl.render(data);   // as a server would have sent it
      const lis = [...root.querySelectorAll('li')];
      const seen = [];
      const mo = new MutationObserver((m) => seen.push(...m));
      mo.observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
      const view = tpl.mount(root, data, { adopt: true });
      await tick();
      const onMount = seen.length + mo.takeRecords().length;
      const parsed0 = root.innerHTML === parsed(tpl.render(data));
      Task.update('b', { title: 'second', n: 2 });
      await tick();
      const kept = [...root.querySelectorAll('li')].every((li, i) => li === lis[i]);
      Task.create({ id: 'd', title: 'fourth' });
      Task.delete('a');
      await tick();
      const same = root.innerHTML === parsed(tpl.render(data));
      view.update({ ...data, heading: 'All' });
      const h1 = root.querySelector('h1').textContent;
      mo.disconnect();
      return { adopted: view.adopted, onMount, parsed0, kept, same, h1, count: root.querySelectorAll('li').length };
    });
    assert.deepEqual(r, { adopted: true, onMount: 0, parsed0: true, kept: true, same: true, h1: 'All', count: 3 });
    assert.deepEqual(errors, []);
    await done();
  });

  test('delegated events give the record id; unmount stops following; unsupported templates say why', async () => {
    const { errors, done } = await fresh();
    const r = await page.evaluate(async () => {
      const Task = nitro.entity('Task', { fields: { title: { type: 'string' } } });
      const tpl = nitro.template('<ul>{{#tasks}}<li><span>{{title}}</span> <button class="rm">x</button></li>{{/tasks}}</ul>');
      const root = document.getElementById('root');
      const view = tpl.mount(root, { tasks: Task.query() });
      Task.insertMany([{ id: 't1', title: 'one' }, { id: 't2', title: 'two' }]);
      await tick();
      const seen = [];
      view.on('click', '.rm', (e, id) => { seen.push(id); Task.delete(id); });
      root.querySelectorAll('.rm')[1].click();
      await tick();
      const afterClick = root.querySelectorAll('li').length;
      view.unmount();
      Task.create({ id: 't3', title: 'three' });
      await tick();
      const refused = [];
      for (const src of ['<div {{#on}}hidden{{/on}}></div>', '<ul>{{#xs}}<li>{{/xs}}</ul>', '<p><!-- {{x}} --></p>', '<table><tr><td>{{x}}</td></tr></table>']) {
        try { nitro.template(src).mount(document.createElement('div'), {}); refused.push('mounted'); } catch (e) { refused.push(e instanceof NitroError && e.code === 'TEMPLATE' && /cannot mount/.test(e.message)); }
      }
      return { seen, afterClick, unmounted: root.innerHTML, refused };
    });
    assert.deepEqual(r, { seen: ['t2'], afterClick: 1, unmounted: '', refused: [true, true, true, true] });
    assert.deepEqual(errors, []);
    await done();
  });
});

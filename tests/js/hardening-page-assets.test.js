// hardening-page-assets.test.js - Page() loads its CDN assets pinned: an
// exact version and file in every default URL (no @latest, no bare major),
// an `integrity` (SRI sha384) that matches the file's bytes where a local copy
// exists, and crossorigin="anonymous"; overrides keep working and may bring
// their own integrity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Page, PAGE_ASSETS, PAGE_INTEGRITY } from '../../js/html.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const s = (x) => String(x);
const sri = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
const urls = [PAGE_ASSETS.datastar, PAGE_ASSETS.tailwind, PAGE_ASSETS.lucide, PAGE_ASSETS.highlight.css, PAGE_ASSETS.highlight.js];

/** The package, exact version and file a default URL names. */
function parts(url) {
  let m = /^https:\/\/cdn\.jsdelivr\.net\/gh\/([^/]+\/[^@/]+)@([^/]+)\/(.+)$/.exec(url);
  if (m) return { repo: m[1], version: m[2], file: m[3] };
  m = /^https:\/\/(?:cdn\.jsdelivr\.net\/npm|unpkg\.com)\/((?:@[^/]+\/)?[^@/]+)@([^/]+)\/(.+)$/.exec(url);
  if (m) return { pkg: m[1], version: m[2], file: m[3] };
  return null;
}

test('every default asset names an exact version and file and carries an sha384 integrity', () => {
  for (const url of urls) {
    const p = parts(url);
    assert.ok(p, `${url}: a jsDelivr or unpkg URL with a version and a file path`);
    assert.match(p.version, /^\d+\.\d+\.\d+$/, `${url}: an exact version`);
    assert.match(p.file, /\.(js|css)$/, `${url}: an explicit file`);
    assert.match(PAGE_INTEGRITY[url] ?? '', /^sha384-[A-Za-z0-9+/]{64}$/, `${url}: sha384 of 48 bytes`);
  }
  assert.equal(Object.keys(PAGE_INTEGRITY).length, urls.length);
  const out = s(Page({ datastar: true, tailwind: true, lucide: true, highlight: true }));
  assert.ok(!/@latest|@\d+"/.test(out), 'no floating versions');
  for (const url of urls) {
    const attr = url.endsWith('.css') ? 'href' : 'src';
    assert.ok(out.includes(`${attr}="${url}" integrity="${PAGE_INTEGRITY[url]}" crossorigin="anonymous"`), url);
  }
});

test('the Datastar integrity matches the v1.0.2 bundle the URL serves', { skip: !fs.existsSync('/work/shared/datastar-1.0.2/datastar.js') && 'no local Datastar 1.0.2 bundle (/work/shared)' }, () => {
  const bytes = fs.readFileSync('/work/shared/datastar-1.0.2/datastar.js');
  assert.ok(bytes.toString('utf8', 0, 40).startsWith('// Datastar v1.0.2'), 'the release bundle');
  assert.deepEqual(parts(PAGE_ASSETS.datastar), { repo: 'starfederation/datastar', version: '1.0.2', file: 'bundles/datastar.js' });
  assert.equal(PAGE_INTEGRITY[PAGE_ASSETS.datastar], sri(bytes));
});

test('npm-served assets: the integrity matches the package file where that version is installed', (t) => {
  let checked = 0;
  for (const url of urls) {
    const p = parts(url);
    if (!p.pkg) continue;
    const dir = path.join(root, 'node_modules', p.pkg);
    let version = null;
    try { version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version; } catch { /* not installed */ }
    if (version !== p.version) continue;
    assert.equal(PAGE_INTEGRITY[url], sri(fs.readFileSync(path.join(dir, p.file))), url);
    checked++;
  }
  if (!checked) t.skip('none of the CDN packages is installed at its pinned version (their hashes were computed from `npm pack` of it)');
});

test('overrides keep working; an override may bring its integrity, or none', () => {
  const plain = s(Page({ datastar: true, lucide: true, assets: { datastar: '/ds.js', lucide: '/lucide.js' } }));
  assert.ok(plain.includes('<script type="module" src="/ds.js"></script>'), 'another URL has no integrity of its own');
  assert.ok(plain.includes('<script src="/lucide.js"></script>'));
  const own = 'sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC';
  const given = s(Page({ datastar: true, highlight: { js: { url: '/hl.js', integrity: own } }, assets: { datastar: { url: 'https://example.test/ds.js', integrity: own } } }));
  assert.ok(given.includes(`<script type="module" src="https://example.test/ds.js" integrity="${own}" crossorigin="anonymous"></script>`));
  assert.ok(given.includes(`<script src="/hl.js" integrity="${own}" crossorigin="anonymous"></script>`));
  assert.ok(given.includes(`href="${PAGE_ASSETS.highlight.css}" integrity="${PAGE_INTEGRITY[PAGE_ASSETS.highlight.css]}"`), 'the unset part keeps its default and its hash');
  const off = s(Page({ tailwind: { url: PAGE_ASSETS.tailwind, integrity: null } }));
  assert.ok(off.includes(`<script src="${PAGE_ASSETS.tailwind}"></script>`), 'integrity: null opts out');
  assert.throws(() => Page({ datastar: true, assets: { datastar: { url: '/x.js', integrity: 'md5-abc' } } }), /integrity is "sha384-/);
  assert.throws(() => Page({ datastar: true, assets: { datastar: 42 } }), TypeError);
});

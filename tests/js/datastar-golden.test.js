// Datastar SDK golden cases (../shared/datastar-golden) replayed through a real
// node:http server built on sse() + readSignals(), compared the way the
// upstream runner compares: event by event, `event`/`id`/`retry` exact, data
// lines grouped by their first word (group order free, order inside a group
// fixed), values trimmed, `elements` HTML compared with attribute order free.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFragment, serialize } from 'parse5';
import { sse, readSignals } from '../../js/datastar/sse.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const goldenDir = path.resolve(repoRoot, '..', 'shared', 'datastar-golden');
const haveGolden = fs.existsSync(goldenDir);

function listCases() {
  if (!haveGolden) return [];
  const cases = [];
  for (const method of ['get', 'post']) {
    const dir = path.join(goldenDir, method);
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      const caseDir = path.join(dir, name);
      if (!fs.existsSync(path.join(caseDir, 'input.json'))) continue;
      cases.push({
        method: method.toUpperCase(),
        name,
        input: fs.readFileSync(path.join(caseDir, 'input.json'), 'utf8'),
        output: fs.readFileSync(path.join(caseDir, 'output.txt'), 'utf8'),
      });
    }
  }
  return cases;
}

// The /test endpoint of the upstream harness, on our writer.
function replay(stream, event) {
  const { eventId, retryDuration } = event;
  switch (event.type) {
    case 'patchElements': {
      const { elements, selector, mode, useViewTransition } = event;
      return stream.patchElements(elements, { selector, mode, useViewTransition, eventId, retryDuration });
    }
    case 'patchSignals':
      return stream.patchSignals(event['signals-raw'] ?? event.signals, { onlyIfMissing: event.onlyIfMissing, eventId, retryDuration });
    case 'executeScript':
      return stream.executeScript(event.script, { attributes: event.attributes, autoRemove: event.autoRemove, eventId, retryDuration });
    default:
      throw new Error(`unknown golden event type ${event.type}`);
  }
}

let server;
let base;

before(async () => {
  if (!haveGolden) return;
  server = http.createServer(async (req, res) => {
    if (new URL(req.url, 'http://localhost').pathname !== '/test') {
      res.writeHead(404).end();
      return;
    }
    let signals;
    try {
      signals = await readSignals(req);
    } catch (err) {
      res.writeHead(err.status ?? 500).end(err.message);
      return;
    }
    const stream = sse(res, { keepAlive: 0 });
    for (const event of signals.events ?? []) replay(stream, event);
    stream.close();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => new Promise((resolve) => (server ? server.close(resolve) : resolve())));

// Normalise HTML so attribute order does not matter.
function sortAttributes(node) {
  if (node.attrs) node.attrs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const child of node.childNodes ?? []) sortAttributes(child);
  if (node.content) sortAttributes(node.content);
  return node;
}
const normaliseHtml = (html) => serialize(sortAttributes(parseFragment(html)));

// One SSE body -> [{ fields: {event, id, retry}, groups: Map<firstWord, values[]> }].
function parseEvents(text) {
  const blocks = text.split(/\r?\n\r?\n/).filter((b) => b.trim() !== '');
  return blocks.map((block) => {
    const fields = {};
    const groups = new Map();
    for (const line of block.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      const key = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (key === 'data') {
        const space = value.indexOf(' ');
        const word = space < 0 ? value : value.slice(0, space);
        const rest = space < 0 ? '' : value.slice(space + 1);
        if (!groups.has(word)) groups.set(word, []);
        groups.get(word).push(rest.trim());
      } else {
        assert.equal(fields[key], undefined, `field ${key} appears twice in one event`);
        fields[key] = value.trim();
      }
    }
    if (groups.has('elements')) groups.set('elements', [normaliseHtml(groups.get('elements').join('\n'))]);
    return { fields, groups: Object.fromEntries([...groups].sort(([a], [b]) => (a < b ? -1 : 1))) };
  });
}

const cases = listCases();

test('golden cases are present', { skip: haveGolden ? false : `no golden cases at ${goldenDir}` }, () => {
  assert.equal(cases.length, 20, 'expected 19 GET cases and 1 POST case');
});

for (const c of cases) {
  test(`golden ${c.method.toLowerCase()}/${c.name}`, async () => {
    const headers = { Accept: 'text/event-stream', 'datastar-request': 'true' };
    const response = c.method === 'GET'
      ? await fetch(`${base}/test?datastar=${encodeURIComponent(c.input)}`, { headers })
      : await fetch(`${base}/test`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: c.input });
    const body = await response.text();
    assert.equal(response.status, 200, body);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    assert.ok(body.endsWith('\n\n'), 'the last event ends with a blank line');
    assert.deepEqual(parseEvents(body), parseEvents(c.output));
  });
}

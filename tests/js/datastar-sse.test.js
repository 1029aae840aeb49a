// Unit tests for js/datastar/sse.js: the Datastar SSE writer and readSignals.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { EventEmitter, once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { ServerSentEventGenerator as SdkGenerator } from '@starfederation/datastar-sdk/abstractServerSentEventGenerator';
import {
  sse, readSignals, MODES, formatPatchElements, formatPatchSignals, formatExecuteScript, removalPatch,
} from '../../js/datastar/sse.js';

const modulePath = fileURLToPath(new URL('../../js/datastar/sse.js', import.meta.url));

// A stand-in response that records what the writer does.
class FakeResponse extends EventEmitter {
  constructor({ httpVersionMajor = 1 } = {}) {
    super();
    this.req = { httpVersionMajor };
    this.body = '';
    this.headersSent = false;
    this.writableEnded = false;
    this.destroyed = false;
    this.flushed = false;
  }
  writeHead(status, headers) {
    this.status = status;
    this.headers = headers;
    this.headersSent = true;
    return this;
  }
  flushHeaders() { this.flushed = true; }
  write(chunk) {
    if (this.writableEnded) throw new Error('write after end');
    this.body += chunk;
    return true;
  }
  end() {
    this.writableEnded = true;
    this.emit('close');
  }
}

function open(options = { keepAlive: 0 }) {
  const res = new FakeResponse();
  return { res, stream: sse(res, options) };
}

// Network tests fail instead of hanging when an expected byte never arrives.
const NET = { timeout: 5000 };

// Servers started by a test; all closed at the end.
const servers = [];
after(() => Promise.all(servers.map((s) => new Promise((resolve) => { s.closeAllConnections(); s.close(resolve); }))));

async function serve(handler) {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${server.address().port}`;
}

// Reads an SSE body chunk by chunk until `predicate(textSoFar)` holds.
async function readUntil(reader, predicate, state = { text: '' }) {
  const decoder = new TextDecoder();
  while (!predicate(state.text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`stream ended before the expected text; got ${JSON.stringify(state.text)}`);
    state.text += decoder.decode(value, { stream: true });
  }
  return state.text;
}

describe('sse(res): response head', NET, () => {
  test('writes 200 with the SSE headers once and flushes them', () => {
    const { res } = open();
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    assert.equal(res.flushed, true);
    assert.equal(res.body, '');
  });

  test('omits Connection on HTTP/2', () => {
    const res = new FakeResponse({ httpVersionMajor: 2 });
    sse(res, { keepAlive: 0 });
    assert.equal(res.headers.Connection, undefined);
    assert.equal(res.headers['Content-Type'], 'text/event-stream');
  });

  test('works with setHeader when there is no writeHead', () => {
    const set = {};
    const res = { setHeader: (k, v) => { set[k] = v; }, write() { return true; }, end() {} };
    const stream = sse(res, { keepAlive: 0 });
    assert.equal(res.statusCode, 200);
    assert.equal(set['Content-Type'], 'text/event-stream');
    assert.equal(set['Cache-Control'], 'no-cache');
    assert.equal(stream.patchSignals({ a: 1 }), true);
  });

  test('refuses a response whose headers were already sent', () => {
    const res = new FakeResponse();
    res.headersSent = true;
    assert.throws(() => sse(res), /already sent/);
  });

  test('over real HTTP: headers arrive before any event, caller headers are kept', async () => {
    let stream;
    const base = await serve((req, res) => {
      res.setHeader('X-Trace', 'abc');
      stream = sse(res, { keepAlive: 0 });
    });
    const response = await fetch(base);   // resolves only once the head was flushed
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    assert.equal(response.headers.get('x-trace'), 'abc');
    stream.close();
    assert.equal(await response.text(), '');
  });

  test('options.retry is sent once at the start', () => {
    const { res, stream } = open({ keepAlive: 0, retry: 3000 });
    stream.patchSignals({ a: 1 });
    assert.equal(res.body, 'retry: 3000\n\nevent: datastar-patch-signals\ndata: signals {"a":1}\n\n');
  });

  test('rejects bad keepAlive and retry options', () => {
    assert.throws(() => sse(new FakeResponse(), { keepAlive: -1 }), TypeError);
    assert.throws(() => sse(new FakeResponse(), { retry: 1.5 }), TypeError);
    assert.throws(() => sse({}), TypeError);
  });
});

describe('patchElements', () => {
  test('defaults are omitted', () => {
    const { res, stream } = open();
    assert.equal(stream.patchElements('<div id="a">x</div>', { mode: 'outer', useViewTransition: false, namespace: 'html', retryDuration: 1000, eventId: '' }), true);
    assert.equal(res.body, 'event: datastar-patch-elements\ndata: elements <div id="a">x</div>\n\n');
  });

  test('every option', () => {
    const { res, stream } = open();
    stream.patchElements('<circle r="1"/>', {
      selector: '#chart', mode: 'inner', namespace: 'svg', useViewTransition: true,
      viewTransitionSelector: '#main', eventId: 'e1', retryDuration: 2000,
    });
    assert.equal(res.body, [
      'event: datastar-patch-elements', 'id: e1', 'retry: 2000', 'data: selector #chart', 'data: mode inner',
      'data: namespace svg', 'data: useViewTransition true', 'data: viewTransitionSelector #main',
      'data: elements <circle r="1"/>', '', '',
    ].join('\n'));
  });

  test('retry 0 is sent, numeric ids are accepted, viewTransitionSelector needs useViewTransition', () => {
    const out = formatPatchElements('<p id="p"></p>', { retryDuration: 0, eventId: 7, viewTransitionSelector: '#x' });
    assert.equal(out, 'event: datastar-patch-elements\nid: 7\nretry: 0\ndata: elements <p id="p"></p>\n\n');
  });

  test('each mode is accepted and written (outer omitted)', () => {
    for (const mode of MODES) {
      const out = formatPatchElements(mode === 'remove' ? '' : '<p id="p"></p>', { selector: '#p', mode });
      assert.equal(out.includes(`data: mode ${mode}\n`), mode !== 'outer', mode);
    }
  });

  test('multi-line HTML becomes several elements lines, indentation kept, CR/CRLF too', () => {
    const out = formatPatchElements('<ul id="l">\n  <li>a</li>\r\n\t<li>b</li>\r</ul>');
    assert.equal(out, 'event: datastar-patch-elements\ndata: elements <ul id="l">\ndata: elements   <li>a</li>\n'
      + 'data: elements \t<li>b</li>\ndata: elements </ul>\n\n');
  });

  test('accepts printable objects such as Html from the builders', () => {
    const html = { toString: () => '<b id="b">x</b>' };
    assert.equal(formatPatchElements(html), 'event: datastar-patch-elements\ndata: elements <b id="b">x</b>\n\n');
  });

  test('empty elements with a selector writes no elements line', () => {
    assert.equal(formatPatchElements('', { selector: '#list', mode: 'inner' }),
      'event: datastar-patch-elements\ndata: selector #list\ndata: mode inner\n\n');
  });

  test('argument validation', () => {
    const { stream } = open();
    assert.throws(() => stream.patchElements('<p id="p"></p>', { mode: 'morph' }),
      (err) => err instanceof TypeError && MODES.every((m) => err.message.includes(m)) && err.message.includes('morph'));
    assert.throws(() => stream.patchElements('<p></p>', { selector: '#a\n#b', mode: 'inner' }), { name: 'TypeError', message: /line break/ });
    assert.throws(() => stream.patchElements('<p></p>', { selector: '#a\r', mode: 'inner' }), TypeError);
    assert.throws(() => stream.patchElements('<p id="p"></p>', { eventId: 'a\nb' }), { name: 'TypeError', message: /eventId/ });
    assert.throws(() => stream.patchElements('<p id="p"></p>', { eventId: 'a\0b' }), TypeError);
    assert.throws(() => stream.patchElements('<p id="p"></p>', { namespace: 'xml' }), /html, svg, mathml/);
    assert.throws(() => stream.patchElements('<p id="p"></p>', { retryDuration: -1 }), TypeError);
    assert.throws(() => stream.patchElements('<p id="p"></p>', { retryDuration: 1.5 }), TypeError);
    assert.throws(() => stream.patchElements('<p id="p"></p>', { mode: 'append' }), /needs a selector/);
    assert.throws(() => stream.patchElements(''), TypeError);
    assert.throws(() => stream.patchElements('<p id="p"></p>', { useViewTransition: true, viewTransitionSelector: 'a\nb' }), TypeError);
  });
});

describe('patchSignals / removeSignals', () => {
  test('objects are sent as one compact line; defaults omitted', () => {
    const { res, stream } = open();
    assert.equal(stream.patchSignals({ task: { title: 'a\nb' }, n: 1 }, { onlyIfMissing: false, retryDuration: 1000 }), true);
    assert.equal(res.body, 'event: datastar-patch-signals\ndata: signals {"task":{"title":"a\\nb"},"n":1}\n\n');
  });

  test('onlyIfMissing, id and retry', () => {
    assert.equal(formatPatchSignals({ a: 1 }, { onlyIfMissing: true, eventId: 'e', retryDuration: 50 }),
      'event: datastar-patch-signals\nid: e\nretry: 50\ndata: onlyIfMissing true\ndata: signals {"a":1}\n\n');
  });

  test('a JSON string is sent as is, one signals line per line', () => {
    assert.equal(formatPatchSignals('{\n  "a": 1,\r\n  "b": 2\n}'),
      'event: datastar-patch-signals\ndata: signals {\ndata: signals   "a": 1,\ndata: signals   "b": 2\ndata: signals }\n\n');
  });

  test('rejects what is not a merge patch', () => {
    for (const bad of [null, undefined, 3, [1], '', '   ']) {
      assert.throws(() => formatPatchSignals(bad), TypeError, String(bad));
    }
  });

  test('removeSignals builds nested nulls from dotted paths', () => {
    const { res, stream } = open();
    assert.equal(stream.removeSignals(['user.name', 'user.address.city', 'theme'], { eventId: 'r1' }), true);
    assert.equal(res.body, 'event: datastar-patch-signals\nid: r1\ndata: signals {"user":{"name":null,"address":{"city":null}},"theme":null}\n\n');
    assert.deepEqual(JSON.parse(JSON.stringify(removalPatch('a'))), { a: null });
  });

  test('removeSignals: a removed parent absorbs its children, in either order', () => {
    assert.equal(JSON.stringify(removalPatch(['a', 'a.b'])), '{"a":null}');
    assert.equal(JSON.stringify(removalPatch(['a.b', 'a'])), '{"a":null}');
  });

  test('removeSignals: "__proto__" is an ordinary key and pollutes nothing', () => {
    assert.equal(JSON.stringify(removalPatch(['__proto__.polluted', 'constructor'])), '{"__proto__":{"polluted":null},"constructor":null}');
    assert.equal({}.polluted, undefined);
  });

  test('removeSignals validation', () => {
    for (const bad of [[], '', 'a..b', '.a', [1], null]) {
      assert.throws(() => removalPatch(bad), TypeError, JSON.stringify(bad));
    }
  });
});

describe('removeElements / executeScript / comment', () => {
  test('removeElements writes mode remove with the selector and nothing else by default', () => {
    const { res, stream } = open();
    assert.equal(stream.removeElements('#t1, .gone'), true);
    assert.equal(stream.removeElements('#t2', { eventId: 'x', retryDuration: 10, useViewTransition: true }), true);
    assert.equal(res.body,
      'event: datastar-patch-elements\ndata: selector #t1, .gone\ndata: mode remove\n\n'
      + 'event: datastar-patch-elements\nid: x\nretry: 10\ndata: selector #t2\ndata: mode remove\ndata: useViewTransition true\n\n');
    assert.throws(() => stream.removeElements(''), TypeError);
    assert.throws(() => stream.removeElements('#a\n#b'), TypeError);
  });

  test('executeScript appends a self-removing script to body by default', () => {
    const { res, stream } = open();
    assert.equal(stream.executeScript("console.log('hi')"), true);
    assert.equal(res.body, 'event: datastar-patch-elements\ndata: mode append\ndata: selector body\n'
      + `data: elements <script data-effect="el.remove()">console.log('hi')</script>\n\n`);
  });

  test('executeScript attributes: escaped, true is bare, false/null dropped; autoRemove false', () => {
    const out = formatExecuteScript('x()', {
      attributes: { type: 'module', nonce: 'a"b&c', async: true, defer: false, integrity: null },
      autoRemove: false, eventId: 's1', retryDuration: 5,
    });
    assert.equal(out, 'event: datastar-patch-elements\nid: s1\nretry: 5\ndata: mode append\ndata: selector body\n'
      + 'data: elements <script type="module" nonce="a&quot;b&amp;c" async>x()</script>\n\n');
    assert.throws(() => formatExecuteScript('x()', { attributes: { 'on load': 'y' } }), TypeError);
    assert.throws(() => formatExecuteScript('x()', { attributes: ['type="module"'] }), TypeError);
    assert.throws(() => formatExecuteScript(42), TypeError);
  });

  test('executeScript: multi-line code is split, "</script" cannot end the tag early', () => {
    const out = formatExecuteScript('if (a) {\n  s = "</SCRIPT><b>";\n}', { autoRemove: false });
    assert.equal(out, 'event: datastar-patch-elements\ndata: mode append\ndata: selector body\n'
      + 'data: elements <script>if (a) {\ndata: elements   s = "<\\/SCRIPT><b>";\ndata: elements }</script>\n\n');
  });

  test('comment writes SSE comment lines', () => {
    const { res, stream } = open();
    assert.equal(stream.comment('hello\nworld'), true);
    assert.equal(res.body, ': hello\n: world\n\n');
  });
});

describe('closing', NET, () => {
  test('close() ends the response, sets closed, aborts signal; later writes return false', () => {
    const { res, stream } = open();
    assert.equal(stream.closed, false);
    assert.equal(stream.signal.aborted, false);
    stream.close();
    assert.equal(res.writableEnded, true);
    assert.equal(stream.closed, true);
    assert.equal(stream.signal.aborted, true);
    assert.equal(stream.patchElements('<p id="p"></p>'), false);
    assert.equal(stream.patchSignals({ a: 1 }), false);
    assert.equal(stream.removeElements('#p'), false);
    assert.equal(stream.removeSignals('a'), false);
    assert.equal(stream.executeScript('x()'), false);
    assert.equal(stream.comment('x'), false);
    stream.close();   // idempotent
    assert.equal(res.body, '');
  });

  test('invalid arguments still throw after close', () => {
    const { stream } = open();
    stream.close();
    assert.throws(() => stream.patchElements('<p></p>', { mode: 'nope' }), TypeError);
  });

  test('a write that throws marks the stream closed instead of throwing', () => {
    const res = new FakeResponse();
    const stream = sse(res, { keepAlive: 0 });
    res.write = () => { throw new Error('EPIPE'); };
    assert.equal(stream.patchSignals({ a: 1 }), false);
    assert.equal(stream.closed, true);
  });

  test('after the client disconnects (real socket), writes return false and never throw', async () => {
    let stream;
    let serverClosed;
    const closedOnServer = new Promise((resolve) => { serverClosed = resolve; });
    const base = await serve((req, res) => {
      stream = sse(res, { keepAlive: 0 });
      stream.signal.addEventListener('abort', serverClosed);
      stream.patchSignals({ hello: 1 });
    });
    const abort = new AbortController();
    const response = await fetch(base, { signal: abort.signal });
    const reader = response.body.getReader();
    await readUntil(reader, (t) => t.includes('"hello":1'));
    abort.abort();
    await closedOnServer;
    assert.equal(stream.closed, true);
    for (let i = 0; i < 3; i++) {
      assert.equal(stream.patchElements('<p id="p">x</p>'), false);
      assert.equal(stream.patchSignals({ a: i }), false);
      assert.equal(stream.executeScript('x()'), false);
    }
    stream.close();
  });
});

describe('long-lived streams', NET, () => {
  test('keep-alive comments arrive periodically and stop on close', async () => {
    let stream;
    const base = await serve((req, res) => { stream = sse(res, { keepAlive: 20 }); });
    const response = await fetch(base);
    const reader = response.body.getReader();
    const text = await readUntil(reader, (t) => t.split(': keep-alive\n\n').length > 2);   // two or more
    assert.match(text, /^(: keep-alive\n\n)+$/);
    stream.close();
    assert.equal((await reader.read()).done, true);
  });

  test('the keep-alive timer is cleared by close and by a disconnect', async (t) => {
    // Unref'd timers are invisible to process.getActiveResourcesInfo(), so watch the timer API.
    const live = new Set();
    const realSet = globalThis.setInterval;
    const realClear = globalThis.clearInterval;
    globalThis.setInterval = (...args) => { const h = realSet(...args); live.add(h); return h; };
    globalThis.clearInterval = (h) => { live.delete(h); return realClear(h); };
    t.after(() => { globalThis.setInterval = realSet; globalThis.clearInterval = realClear; });

    const res = new FakeResponse();
    const stream = sse(res, { keepAlive: 5 });
    assert.equal(live.size, 1);
    while (!res.body.includes(': keep-alive')) await new Promise((r) => setTimeout(r, 5));
    stream.close();
    assert.equal(live.size, 0);
    const before = res.body;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(res.body, before);

    const gone = new FakeResponse();
    sse(gone, { keepAlive: 5 });
    assert.equal(live.size, 1);
    gone.emit('close');   // what a client disconnect looks like on the response
    assert.equal(live.size, 0);
  });

  test('the keep-alive timer does not keep the process alive', () => {
    // A child that opens a stream with the default keepAlive and never closes it must still exit.
    const code = `import { sse } from ${JSON.stringify(modulePath)};
      const res = { writeHead() {}, write() { return true; }, end() {}, on() {} };
      sse(res); console.log('started');`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { timeout: 10_000, encoding: 'utf8' });
    assert.equal(out.trim(), 'started');
  });

  test('keepAlive 0 starts no timer', async () => {
    const res = new FakeResponse();
    const stream = sse(res, { keepAlive: 0 });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(res.body, '');
    stream.close();
  });

  test('the client reads events one by one while the stream stays open', async () => {
    let stream;
    let ready;
    const opened = new Promise((resolve) => { ready = resolve; });
    const base = await serve((req, res) => { stream = sse(res, { keepAlive: 0 }); ready(); });
    const response = await fetch(base);
    await opened;
    const reader = response.body.getReader();
    const state = { text: '' };
    for (let i = 1; i <= 3; i++) {
      assert.equal(stream.patchSignals({ count: i }), true);
      await readUntil(reader, (t) => t.includes(`{"count":${i}}`), state);
      assert.equal(stream.closed, false);
      assert.ok(!state.text.includes(`{"count":${i + 1}}`));
    }
    stream.close();
    assert.equal((await reader.read()).done, true);
    assert.equal(state.text.split('event: datastar-patch-signals\n').length - 1, 3);
  });
});

describe('readSignals', NET, () => {
  // Echo server: answers { signals } or { status, message }.
  let base;
  const echo = (options) => async (req, res) => {
    try {
      const signals = await readSignals(req, options);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ signals }));
    } catch (err) {
      res.writeHead(err.status ?? 500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: err.status, message: err.message }));
    }
  };
  const call = async (url, init) => {
    const r = await fetch(url, init);
    return { status: r.status, body: await r.json() };
  };
  const q = (signals) => `?datastar=${encodeURIComponent(JSON.stringify(signals))}`;

  test('GET and DELETE read the datastar query parameter', async () => {
    base ??= await serve(echo());
    const signals = { task: { title: 'a & b ü' }, tags: ['x'], n: 1.5 };
    assert.deepEqual(await call(`${base}/x${q(signals)}`), { status: 200, body: { signals } });
    assert.deepEqual(await call(`${base}/x${q(signals)}`, { method: 'DELETE' }), { status: 200, body: { signals } });
  });

  test('GET without the parameter gives {}', async () => {
    base ??= await serve(echo());
    assert.deepEqual(await call(`${base}/x?other=1`), { status: 200, body: { signals: {} } });
  });

  for (const method of ['POST', 'PUT', 'PATCH']) {
    test(`${method} reads the JSON body`, async () => {
      base ??= await serve(echo());
      const signals = { filter: { q: 'ü' }, page: 2 };
      assert.deepEqual(await call(`${base}/x${q({ ignored: true })}`, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(signals) }),
        { status: 200, body: { signals } });
    });
  }

  test('an empty body gives {}', async () => {
    base ??= await serve(echo());
    assert.deepEqual(await call(base, { method: 'POST' }), { status: 200, body: { signals: {} } });
    assert.deepEqual(await call(base, { method: 'POST', body: '' }), { status: 200, body: { signals: {} } });
  });

  test('malformed JSON is a 400 saying so, in the body and in the query', async () => {
    base ??= await serve(echo());
    const fromBody = await call(base, { method: 'POST', body: '{"a":' });
    assert.equal(fromBody.status, 400);
    assert.match(fromBody.body.message, /malformed JSON in the request body/);
    const fromQuery = await call(`${base}/?datastar=${encodeURIComponent('{nope')}`);
    assert.equal(fromQuery.status, 400);
    assert.match(fromQuery.body.message, /malformed JSON in the datastar query parameter/);
  });

  test('JSON that is not an object is a 400', async () => {
    base ??= await serve(echo());
    for (const body of ['[1,2]', '"x"', 'null', '3']) {
      const r = await call(base, { method: 'POST', body });
      assert.equal(r.status, 400, body);
      assert.match(r.body.message, /must be a JSON object/);
    }
  });

  test('an oversize body is a 413 (declared length, and streamed without one)', async () => {
    const small = await serve(echo({ limit: 64 }));
    const declared = await call(small, { method: 'POST', body: JSON.stringify({ a: 'x'.repeat(100) }) });
    assert.equal(declared.status, 413);
    assert.match(declared.body.message, /exceeds the limit of 64 bytes/);
    const chunks = [JSON.stringify({ a: 'x'.repeat(40) }).slice(0, 30), 'x'.repeat(60)];
    const streamed = await call(small, {
      method: 'POST', duplex: 'half',
      body: new ReadableStream({ start(c) { for (const s of chunks) c.enqueue(new TextEncoder().encode(s)); c.close(); } }),
    });
    assert.equal(streamed.status, 413);
    base ??= await serve(echo());
    const huge = await call(base, { method: 'POST', body: JSON.stringify({ a: 'x'.repeat(1024 * 1024) }) });
    assert.equal(huge.status, 413, 'the default limit is 1 MiB');
  });

  test('a declared Content-Length over the limit is refused before reading', async () => {
    // This request never sends its body: only the header can decide.
    const req = Object.assign(new EventEmitter(), { method: 'POST', url: '/', headers: { 'content-length': '5000' } });
    await assert.rejects(readSignals(req, { limit: 4096 }), { status: 413, message: /4096 bytes/ });
  });

  test('a body exactly at the limit is accepted', async () => {
    const body = JSON.stringify({ a: 'y'.repeat(50) });
    const exact = await serve(echo({ limit: Buffer.byteLength(body) }));
    assert.deepEqual(await call(exact, { method: 'POST', body }), { status: 200, body: { signals: { a: 'y'.repeat(50) } } });
  });

  test('accepts a fetch Request', async () => {
    const signals = { a: { b: [1, 2] } };
    assert.deepEqual(await readSignals(new Request(`http://h/p${q(signals)}`)), signals);
    assert.deepEqual(await readSignals(new Request('http://h/p', { method: 'DELETE' })), {});
    assert.deepEqual(await readSignals(new Request('http://h/p', { method: 'POST', body: JSON.stringify(signals) })), signals);
    assert.deepEqual(await readSignals(new Request('http://h/p', { method: 'PUT' })), {});
    await assert.rejects(readSignals(new Request('http://h/p', { method: 'PATCH', body: '{' })), { status: 400 });
    await assert.rejects(readSignals(new Request('http://h/p', { method: 'POST', body: 'x'.repeat(20) }), { limit: 10 }), { status: 413 });
  });

  test('uses a body a framework already parsed', async () => {
    const req = Object.assign(new EventEmitter(), { method: 'POST', url: '/', headers: {}, body: { a: 1 } });
    assert.deepEqual(await readSignals(req), { a: 1 });
    await assert.rejects(readSignals({ ...req, body: [1] }), { status: 400 });
    assert.deepEqual(await readSignals({ ...req, body: '{"b":2}' }), { b: 2 });
  });
});

describe('cross-check against @starfederation/datastar-sdk', () => {
  // The SDK's abstract generator returns the event lines without writing them.
  const sdk = new SdkGenerator();
  const line = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/[\r\n\0]/.test(s) && s.trim() !== '');
  const html = fc.array(fc.string({ maxLength: 15 }).filter((s) => !s.includes('\r')), { minLength: 1, maxLength: 4 })
    .map((lines) => lines.join('\n')).filter((s) => s.trim() !== '');
  const common = { eventId: fc.option(line, { nil: undefined }), retryDuration: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }) };

  test('patchElements output is byte-identical', () => {
    fc.assert(fc.property(html, line, fc.constantFrom(...MODES), fc.constantFrom('html', 'svg', 'mathml'), fc.boolean(), common.eventId, common.retryDuration,
      (elements, selector, mode, namespace, useViewTransition, eventId, retryDuration) => {
        // Key order = our line order (the SDK follows key order).
        const opts = { selector, mode, namespace, useViewTransition, eventId, retryDuration };
        assert.equal(formatPatchElements(elements, opts), sdk.patchElements(elements, opts).join(''));
      }), { seed: 7, numRuns: 300 });
  });

  test('patchSignals output is byte-identical', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.boolean(), common.eventId, common.retryDuration,
      (signals, onlyIfMissing, eventId, retryDuration) => {
        const opts = { onlyIfMissing, eventId, retryDuration };
        assert.equal(formatPatchSignals(signals, opts), sdk.patchSignals(JSON.stringify(signals), opts).join(''));
      }), { seed: 7, numRuns: 300 });
  });

  test('executeScript output is byte-identical (attributes without quotes or ampersands)', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
    const value = fc.string({ maxLength: 10 }).filter((s) => !/["&\r\n]/.test(s));
    const code = fc.array(fc.string({ maxLength: 15 }).filter((s) => !/\r|<\/script/i.test(s)), { minLength: 1, maxLength: 3 }).map((l) => l.join('\n'));
    fc.assert(fc.property(code, fc.dictionary(name, value, { maxKeys: 3 }), fc.boolean(), common.eventId, common.retryDuration,
      (script, attributes, autoRemove, eventId, retryDuration) => {
        const opts = { attributes, autoRemove, eventId, retryDuration };
        assert.equal(formatExecuteScript(script, opts), sdk.executeScript(script, opts).join(''));
      }), { seed: 7, numRuns: 300 });
  });

  test('removeSignals of top-level names matches the SDK', () => {
    assert.equal(formatPatchSignals(removalPatch(['a', 'b'])), sdk.removeSignals(['a', 'b']).join(''));
  });
});

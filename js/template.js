// template.js - Mustache templates compiled and rendered inside WebAssembly.
//
// compileTemplate() crosses once: C parses the source and every partial into
// one op array and keeps it under an id. render() crosses once more: the
// data is encoded into the input buffer (js/nval.js), C renders into the
// output buffer, and JS turns those bytes into one string. The syntax, the
// escaping and the URL rules are documented in src/template.h.
//
// Turning the output bytes into a string is the costly part for big pages,
// so it was measured (bench-style, mean per call including GC, dev box,
// output of a task table, ASCII unless noted):
//
//   output size                 300 B     15 KB    470 KB   1.1 MB   3.2 MB
//   Node 20  TextDecoder utf-8  0.14 us   4 us     2.8 ms   3.9 ms   11.9 ms
//            TextDecoder latin1 0.25 us   4 us     2.0 ms   4.1 ms   13.9 ms
//            Buffer latin1Slice 0.34 us   4 us     2.3 ms   2.6 ms    3.8 ms
//            C->UTF-16+ucs2Slice 0.75 us  24 us    2.3 ms   3.7 ms    4.3 ms
//            C->UTF-16+TextDecoder('utf-16le')             4.8 ms*   8.6 ms
//            32 KiB chunks + concat (flattened)            3.3 ms*  12.0 ms
//   Chromium TextDecoder utf-8  0.8 us    7.9 us   2.3 ms*           10.2 ms
//            TextDecoder latin1 0.8 us    7.0 us   2.4 ms*            9.8 ms
//            TextDecoder utf-16le 1.7 us  58 us    6.6 ms*           27 ms
//            fromCharCode chunks 1.8 us   66 us    2.6 ms*           12.6 ms
//   (* 780 KB)
//
// What follows: creating any string above ~150 KB costs a few ns per byte
// (V8 allocates it in large-object space), whatever decodes it; only Node's
// external strings avoid that, and Node makes them for Buffer latin1/ucs2
// slices of at least EXTERN_APEX (0xFBEE9) bytes. So: in Node, outputs that
// big are sliced as Latin-1 when C reports pure ASCII (nw_template_ascii),
// else C converts them to UTF-16LE (about 0.6 ns per byte) and they are
// sliced as UCS-2; everything else, and everything in browsers, goes through
// one UTF-8 TextDecoder (Latin-1 and chunking were never clearly faster, and
// UTF-16 decoding is slower there). The result is always one flat string.
// renderBytes() skips decoding altogether: the fastest path to a socket.

import { NitroError } from './errors.js';
import { Query } from './query.js';
import { T, EncodeError } from './nval.js';
import { mountView } from './dom/view.js';

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const NodeBuffer = typeof globalThis.Buffer === 'function' && typeof globalThis.Buffer.prototype.latin1Slice === 'function'
  ? globalThis.Buffer : null;
// Node turns Buffer slices of this many bytes or more into external strings.
const EXTERN_APEX = 0xFBEE9;
// In browsers one TextDecoder call over a multi-MB output was 5-25x slower
// than decoding it in 64 KiB pieces and joining them (Chromium 156, 3.6 MB;
// bench/templates-browser.js); below about 256 KiB they tie.
const CHUNKED_FROM = 256 << 10;
const CHUNK = 64 << 10;

/** @internal exported for tests */
export function decodeChunked(u8, p, n) {
  const dec = new TextDecoder('utf-8', { ignoreBOM: true });
  const parts = [];
  for (let i = 0; i < n; i += CHUNK) {
    const end = Math.min(n, i + CHUNK);
    parts.push(dec.decode(u8.subarray(p + i, p + end), { stream: end < n }));
  }
  return parts.join('');
}

// Templates that are dropped without free() release their C side anyway.
const registry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry(({ core, id }) => {
    if (!core.closed) core.x.nw_template_free(core.I, id);
  })
  : null;

/** A compiled template. Render it any number of times; free() when done
 * (templates that are garbage collected are freed too). */
export class Template {
  #core;
  #id;

  /** @internal use compileTemplate() */
  #nitro;

  constructor(core, id, source, partials, nitro = null) {
    this.#core = core;
    this.#nitro = nitro;
    this.#id = id;
    /** The template source, as given. */
    this.source = source;
    /** Partial sources the template was compiled with (name -> source). */
    this.partials = partials;
    registry?.register(this, { core, id }, this);
  }

  /** Renders `data` to an HTML string. */
  render(data = {}) {
    const core = this.#core;
    this.#renderInto(data);
    const p = core.x.nw_out_ptr(core.I);
    const n = core.x.nw_out_len(core.I);
    if (!n) return '';
    if (NodeBuffer && n >= EXTERN_APEX) {
      if (core.x.nw_template_ascii(core.I)) return NodeBuffer.prototype.latin1Slice.call(core.u8, p, p + n);
      const q = core.x.nw_template_utf16(core.I);
      core.refresh();
      if (q) return NodeBuffer.prototype.ucs2Slice.call(core.u8, q, q + core.x.nw_template_utf16_len(core.I));
    }
    if (!NodeBuffer && n > CHUNKED_FROM) return decodeChunked(core.u8, p, n);
    return utf8.decode(core.u8.subarray(p, p + n));
  }

  /** Renders `data` to UTF-8 bytes (a copy), e.g. for an HTTP or SSE body. */
  renderBytes(data = {}) {
    this.#renderInto(data);
    return this.#core.outBytes();
  }

  /** Renders `data` into `element` and keeps it current: query handles in
   * the data follow the store (after every committed write, before the next
   * frame), view.update(data) takes new plain data. Returns the View. */
  mount(element, data = {}, options = {}) {
    if (!this.#id) throw new NitroError('CLOSED', 'this template was freed');
    if (!this.#nitro) throw new NitroError('TEMPLATE', 'mount() needs a template made by nitro.template()', { rule: 'mount' });
    return mountView(this.#nitro._liveRegistry(), this, element, data, options);
  }

  /** @internal */
  _id() {
    if (!this.#id) throw new NitroError('CLOSED', 'this template was freed');
    return this.#id;
  }

  /** @internal encodes { data, queries } for nw_view_new/update; returns the length sent. */
  _encodeView(data) {
    const core = this.#core;
    const enc = core.enc.reset();
    enc.byte(T.OBJ);
    enc.u32(2);
    enc.str('data');
    const queries = encodeData(core, enc, data);
    enc.str('queries');
    enc.value(querySpecs(queries));
    return core.send(enc);
  }

  /** Releases the compiled template; render() then throws CLOSED. */
  free() {
    if (!this.#id) return;
    registry?.unregister(this);
    const core = this.#core;
    const id = this.#id;
    this.#id = 0;
    if (!core.closed) core.call0('nw_template_free', id);
  }

  #renderInto(data) {
    const core = this.#core;
    if (!this.#id) throw new NitroError('CLOSED', 'this template was freed');
    const enc = core.enc.reset();
    // Queries in the data become handles, their specs follow the data in the
    // same input, and one crossing runs them and renders over their records.
    const queries = encodeData(core, enc, data);
    if (!queries.length) {
      core.call0('nw_template_render', this.#id, core.send(enc));
      return;
    }
    const dlen = enc.len;
    enc.value(querySpecs(queries));
    core.call0('nw_template_render_queries', this.#id, core.send(enc), dlen);
  }
}

/** Encodes template data; each query in it becomes a handle (its index in
 * the array returned). Data that cannot be encoded is TEMPLATE, too deep LIMIT. */
function encodeData(core, enc, data) {
  const queries = [];
  enc.handleOf = (v) => {
    if (!(v instanceof Query)) return undefined;
    if (v.entity.core !== core) throw new NitroError('ARG', `a ${v.entity.name} query from another Nitro instance cannot render here`, { entity: v.entity.name });
    return queries.push(v) - 1;
  };
  try {
    enc.value(data);
  } catch (err) {
    if (!(err instanceof TypeError) && !(err instanceof EncodeError)) throw err;
    const code = /deep/.test(err.message) ? 'LIMIT' : 'TEMPLATE';
    throw new NitroError(code, `cannot render this data: ${err.message}`, { cause: err, ...(code === 'LIMIT' ? { rule: 'depth' } : {}) });
  } finally {
    enc.handleOf = null;
  }
  return queries;
}

/** What C needs to run the queries of some data, with the clock set for TTLs. */
function querySpecs(queries) {
  if (queries.length) queries[0].entity.nitro._now();
  return queries.map((q) => ({ table: q.entity.table, query: q.spec() }));
}

/** Compiles `src` with `options.partials` ({ name: source string or
 * Template }) and `options.strict` (unknown partials are an error). Throws
 * NitroError TEMPLATE (with line and column) on a syntax or context error. */
export function compileTemplate(core, src, options = {}, nitro = null) {
  if (typeof src !== 'string') throw new NitroError('TEMPLATE', 'a template source must be a string');
  const partials = {};
  const inherited = {};
  for (const [name, p] of Object.entries(options.partials ?? {})) {
    if (typeof p === 'string') partials[name] = p;
    else if (p && typeof p.source === 'string') {
      partials[name] = p.source;
      // a Template brings the partials it was compiled with
      for (const [k, v] of Object.entries(p.partials ?? {})) if (!(k in inherited)) inherited[k] = v;
    } else {
      throw new NitroError('TEMPLATE', `partial "${name}" must be a source string or a template`);
    }
  }
  for (const [k, v] of Object.entries(inherited)) if (!(k in partials)) partials[k] = v;
  const enc = core.enc.reset();
  enc.value({ src, partials, strict: !!options.strict });
  core.call0('nw_template_compile', core.send(enc));
  const id = core.dv.getUint32(core.x.nw_out_ptr(core.I), true);
  return new Template(core, id, src, partials, nitro);
}

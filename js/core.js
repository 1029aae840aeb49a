// core.js - loads nitro.wasm and runs calls across the boundary.
//
// Convention (src/api.h): JS encodes one request into the WASM input
// buffer, makes one call, and reads one response from the output buffer.
// Views of WASM memory are re-created after every call because a call that
// allocates may grow memory and detach the old ArrayBuffer.

import { NitroError, errorMessage } from './errors.js';
import { Encoder } from './nval.js';

const latin1 = new TextDecoder('latin1');
const utf8enc = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the text (an id '\uFEFFk' is not 'k').
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

let defaultWasmOverride = null;
const moduleCache = new Map();

/** Used by the script-tag bundle, which has no import.meta. */
export function setDefaultWasm(source) { defaultWasmOverride = source; }

/** The bundled nitro.wasm; in Node, env NITRO_WASM (a path) names another
 * build of the same exports (the Emscripten one, docs/toolchains.md). */
function defaultWasm() {
  if (defaultWasmOverride) return defaultWasmOverride;
  if (isNode && process.env.NITRO_WASM) return process.env.NITRO_WASM;
  return new URL('./nitro.wasm', import.meta.url);
}

async function readBytes(source) {
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return source;
  let url = source;
  if (typeof source === 'string') {
    if (isNode && !/^[a-z][a-z0-9+.-]*:/i.test(source)) {
      const { readFile } = await import('node:fs/promises');
      return readFile(source);
    }
    url = new URL(source, globalThis.location?.href);
  }
  if (url instanceof URL && url.protocol === 'file:' && isNode) {
    const { readFile } = await import('node:fs/promises');
    return readFile(url);
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`nitro-wasm: cannot load ${url}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

/** Compiles (once per source) the WebAssembly module. `source` may be a URL,
 * a path or URL string, bytes, a WebAssembly.Module, or a fetch Response. */
export async function compileModule(source = defaultWasm()) {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof Response !== 'undefined' && source instanceof Response) {
    return WebAssembly.compile(await source.arrayBuffer());
  }
  const key = source instanceof URL ? source.href : typeof source === 'string' ? source : null;
  if (key && moduleCache.has(key)) return moduleCache.get(key);
  const p = readBytes(source).then((bytes) => WebAssembly.compile(bytes));
  if (key) {
    moduleCache.set(key, p);
    p.catch(() => moduleCache.delete(key));
  }
  return p;
}

/** The one import of the Emscripten build (clang's has none, and ignores it):
 * a memory growth notice, rare, so views are refreshed right away. The
 * check after every call (refresh, check) stays what keeps views valid. */
function growthImports(onGrowth) {
  return { env: { emscripten_notify_memory_growth: onGrowth } };
}

/** Input capacity above which a batch gives its buffers back (nw_trim's floor). */
const TRIM_ABOVE = 1 << 20;

/** The instance's encoder: it writes straight into the WASM input buffer,
 * so sending what it encoded copies nothing and a large write allocates no
 * JS buffer. The input buffer holds one call's input: reset, encode, send,
 * call (sendStr and sendBytes write the same buffer). */
class InputEncoder extends Encoder {
  constructor(core) {
    super(0);
    this.core = core;
  }

  reset() {
    this.len = 0;
    this.attach();
    return this;
  }

  /** Views over the input buffer, renewed when it or WASM memory moved. */
  attach() {
    const c = this.core;
    // a grown memory detaches its old buffer, whose views then have length 0
    if (c.inCap > 0 && this.u8.length === c.inCap && this.u8.byteOffset === c.inPtr) return;
    const buf = c.memory.buffer;
    this.u8 = new Uint8Array(buf, c.inPtr, c.inCap);
    this.dv = new DataView(buf, c.inPtr, c.inCap);
  }

  grow(need) {
    this.core.reserveInput(Math.max(need, this.u8.length * 2));   // nw_input keeps the bytes
    this.attach();
  }
}

export class Core {
  /** @param {WebAssembly.Instance} instance */
  constructor(instance) {
    this.x = instance.exports;
    this.memory = this.x.memory;
    this.x._initialize?.();
    // All C state lives in one instance (src/instance.h); every export takes
    // its address first.
    this.I = this.x.nw_instance_new();
    if (!this.I) throw new NitroError('LIMIT', 'out of memory', { rule: 'memory' });
    this.u8 = new Uint8Array(this.memory.buffer);
    this.dv = new DataView(this.memory.buffer);
    this.enc = new InputEncoder(this);
    this.closed = false;
    this.inPtr = 0;
    this.inCap = 0;
    this.call0('nw_constants');
    this.constants = JSON.parse(this.outString());
    this.codes = this.constants.codes;
    this.enc.maxDepth = this.constants.maxDepth;
  }

  static async create(options = {}) {
    let mod;
    try {
      mod = await compileModule(options.wasm ?? defaultWasm());
    } catch (err) {
      throw new NitroError('LIMIT', `cannot load nitro.wasm: ${err.message}`, { cause: err });
    }
    let core = null;
    const instance = await WebAssembly.instantiate(mod, growthImports(() => core?.refresh()));
    core = new Core(instance);
    return core;
  }

  /** Renews the views after WASM memory grew. Growing detaches the old
   * ArrayBuffer (the memory is not shared), so a view of length 0 says it
   * happened; reading `memory.buffer` instead is a call into the engine
   * that cost 25-140 ns a call (Node 20: a get by id sent its id in 170 ns
   * with it, 29 ns without). */
  refresh() {
    if (this.u8.length === 0) {
      this.u8 = new Uint8Array(this.memory.buffer);
      this.dv = new DataView(this.memory.buffer);
    }
  }

  /** Makes the WASM input buffer hold at least n bytes. The buffer only
   * moves when it grows, so small calls write straight into it. */
  reserveInput(n) {
    if (n > this.inCap) {
      const cap = Math.max(n, 4096, this.inCap * 2);
      const ptr = this.x.nw_input(this.I, cap);
      if (!ptr) throw new NitroError('LIMIT', 'out of memory', { rule: 'memory' });
      this.inPtr = ptr;
      this.inCap = cap;
    }
    this.refresh();
    return this.inPtr;
  }

  /** Gives the input and output buffers back (nw_trim) once a big batch
   * grew them past 1 MiB, so that their memory serves the store again
   * instead of idling until the next batch as big. */
  trim() {
    if (this.closed || this.inCap <= TRIM_ABOVE) return;
    this.x.nw_trim(this.I);
    this.inPtr = 0;
    this.inCap = 0;
    this.enc.reset();
  }

  /** The encoder's bytes as the next call's input; returns their length.
   * The instance's own encoder (`this.enc`) is already there. */
  send(enc = this.enc) {
    const len = enc.len;
    if (enc === this.enc) return len;
    const ptr = this.reserveInput(len);
    this.u8.set(len === enc.u8.length ? enc.u8 : enc.u8.subarray(0, len), ptr);
    return len;
  }

  /** Sends raw bytes as the input; returns length. */
  sendBytes(bytes) {
    const ptr = this.reserveInput(bytes.length);
    this.u8.set(bytes, ptr);
    return bytes.length;
  }

  /** Writes a string's UTF-8 bytes straight into the input buffer (no
   * length prefix); returns the byte count. */
  sendStr(s) {
    const n = s.length;
    let ptr = this.reserveInput(n * 3);
    const u8 = this.u8;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      u8[ptr + i] = c;
    }
    if (i === n) return n;
    return i + utf8enc.encodeInto(s.slice(i), u8.subarray(ptr + i, ptr + n * 3)).written;
  }

  /** Calls an export that follows the status-code convention. */
  call0(name, a, b, c, d, e) {
    if (this.closed) throw new NitroError('CLOSED', 'this nitro instance is closed');
    const rc = this.x[name](this.I, a, b, c, d, e);
    this.refresh();
    if (rc !== 0) throw this.lastError();
    return rc;
  }

  /** Checks the status of an export called directly (hot paths). */
  check(rc) {
    this.refresh();
    if (rc !== 0) throw this.lastError();
  }

  /** The response of the last call, as a view (valid until the next call). */
  outView() {
    const p = this.x.nw_out_ptr(this.I);
    return this.u8.subarray(p, p + this.x.nw_out_len(this.I));
  }

  outString() {
    const v = this.outView();
    return v.length ? utf8.decode(v) : '';
  }

  /** A copy of the response bytes. */
  outBytes() { return this.outView().slice(); }

  /** The error of the last failed call. */
  lastError() { return this.errorAt(this.x.nw_err_ptr(this.I)).error; }

  /** The error encoded at byte `p` (nw_api_put_error's layout, src/api.h)
   * as one NitroError, and the byte after it. */
  errorAt(p) {
    const dv = this.dv;
    const code = this.codes?.[dv.getUint32(p, true)] ?? 'LIMIT';
    const index = dv.getInt32(p + 4, true);
    const line = dv.getUint32(p + 8, true);
    const column = dv.getUint32(p + 12, true);
    let at = p + 16;
    const strs = [];
    for (let i = 0; i < 4; i++) {
      const n = dv.getUint32(at, true);
      strs.push(utf8.decode(this.u8.subarray(at + 4, at + 4 + n)));
      at += 4 + n;
    }
    const [entity, field, rule, message] = strs;
    const d = { entity, field, rule, index: index >= 0 ? index : undefined, line: line || undefined, column: column || undefined };
    const mapped = code === 'ARG' ? 'QUERY' : code;
    return { error: new NitroError(mapped, errorMessage({ ...d, message }), d), end: at };
  }

  heapBytes() { return this.x.nw_heap_bytes(this.I); }
  memoryBytes() { return this.memory.buffer.byteLength; }

  close() { this.closed = true; }
}

export { latin1, utf8 };

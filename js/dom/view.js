// view.js - live views: templates mounted on the page, patched in place.
//
// C renders and diffs (src/view.h); this file only applies the edits. Each
// block of a template's DOM program is parsed once into a <template>; items
// are cloneNode(true) copies whose slot nodes are found by child-index
// paths. An edit stream is one Uint32Array plus one string, applied by the
// loop in View.applyFrom: no HTML is parsed after the first paint except for
// raw {{{values}}}, and nodes whose data did not change are never touched.

import { NitroError } from '../errors.js';
import { readEdits } from './live.js';
import { Reader } from '../record.js';
import { EDIT, SLOT, SLOTFLAG } from '../wire.js';

// DOM program slot kinds and flags (src/wire.h), looked up by name.
const SLOTS = Object.freeze({ ...SLOT, ...SLOTFLAG });

/** Decodes the DOM program of a template (src/tpl_dom.h encoding). */
function readProgram(core) {
  const r = new Reader().reset(core.u8, core.dv, core.outView().byteOffset);
  const blocks = [];
  for (let b = r.u32(); b > 0; b--) {
    const ntop = r.u32(), html = r.value0Str(), slots = [];
    for (let n = r.u32(); n > 0; n--) {
      const kind = r.u8[r.at], flags = r.u8[r.at + 1];
      r.at += 4;
      const attr = r.u32(), tag = r.value0Str(), path = [];
      for (let p = r.u32(); p > 0; p--) path.push(r.u32());
      slots.push({ kind, flags, attr, tag, path, name: null });
    }
    blocks.push({ ntop, html, slots, content: null });
  }
  return blocks;
}

function nodeAt(root, path) {
  let n = root;
  for (let k = 0; k < path.length; k++) {
    n = n.firstChild;
    for (let i = path[k]; i > 0 && n; i--) n = n.nextSibling;
    if (!n) return null;
  }
  return n;
}

function mountError(msg) {
  return new NitroError('TEMPLATE', `cannot mount this template: ${msg} (render() supports it)`, { rule: 'mount' });
}

/** Parses a block's skeleton once and checks every slot path against it. */
function prepareBlock(doc, block, K, root) {
  const t = doc.createElement('template');
  t.innerHTML = block.html;
  const content = t.content;
  const walker = doc.createTreeWalker(content, 128 /* SHOW_COMMENT */);
  const marks = [];
  while (walker.nextNode()) if (walker.currentNode.data === 'nw') marks.push(walker.currentNode);
  for (const m of marks) m.replaceWith(doc.createTextNode(''));
  if (content.childNodes.length !== block.ntop) {
    throw mountError(`the browser parses "${block.html.slice(0, 80)}" into ${content.childNodes.length} top-level nodes, not ${block.ntop} (close every element explicitly; tables need <tbody>)`);
  }
  for (const s of block.slots) {
    const n = nodeAt(content, s.path);
    const element = s.kind === K.ATTR || s.kind === K.CONTENT;
    const ok = element ? n && n.nodeType === 1 && n.localName.toLowerCase() === s.tag : n && n.nodeType === 3;
    if (!ok) throw mountError(`the browser moves the elements of "${block.html.slice(0, 80)}" (close every element explicitly; tables need <tbody>)`);
    if (s.kind === K.ATTR) {
      const a = n.attributes[s.attr];
      if (!a) throw mountError(`an attribute of <${s.tag}> is lost when the browser parses it (duplicate attribute?)`);
      s.name = a.name;
    }
  }
  block.content = content;
  // A block of one top-level node is cloned as that node: walking a cloned
  // DocumentFragment costs Chromium several times more than walking an element.
  // (Not the root: its nodes go into the mount element through a fragment.)
  block.single = block.ntop === 1 && !root ? content.firstChild : null;
  block.paths = block.slots.map((s) => (block.single ? s.path.slice(1) : s.path));
}

const decoder = { el: null };
/** Character references only a browser decodes (rare): its own parser. */
function browserDecode(doc, html, attr) {
  if (!decoder.el) decoder.el = doc.createElement('template');
  decoder.el.innerHTML = attr ? `<i title="${html.replace(/"/g, '&quot;')}"></i>` : html;
  const c = decoder.el.content;
  return attr ? c.firstChild.getAttribute('title') : c.textContent;
}

/** A template mounted on an element (Template.mount). */
export class View {
  #live; #core; #K; #E;

  constructor(live, template, element, blocks, options) {
    this.#live = live;
    this.#core = live.core;
    this.#K = SLOTS;
    this.#E = EDIT;
    this.template = template;
    this.element = element;
    this.blocks = blocks;
    this.doc = element.ownerDocument;
    this.insts = [null];
    this.keys = new WeakMap();
    this.listeners = [];
    this.id = 0;
    this.options = options;
  }

  /** @internal adopt: points every instance at the paired nodes; the
   * unpaired markers go in on the first patch. */
  remap(pairs, later) {
    const to = (n) => pairs.get(n) ?? n;
    for (const inst of this.insts) {
      if (!inst) continue;
      inst.first = to(inst.first);
      inst.last = to(inst.last);
      for (let j = 0; j < inst.refs.length; j++) inst.refs[j] = to(inst.refs[j]);
      if (inst.html) for (const nodes of inst.html) if (nodes) for (let k = 0; k < nodes.length; k++) nodes[k] = to(nodes[k]);
    }
    for (const [node, key] of this.keyLog) this.keys.set(to(node), key);
    this.keyLog = null;
    this.#later = later.length ? later : null;
  }

  #later = null;

  #insertLater() {
    const later = this.#later;
    this.#later = null;
    for (const x of later) if (x.length === 2) x[0].data = x[0].data.slice(0, x[1]);   // joined text keeps its first piece
    for (const x of later) if (x.length === 3) x[0].insertBefore(x[2], x[1]);
  }

  /** @internal first render */
  start(id) {
    this.id = id;
    this.#live.addView(this);
  }

  /** New plain data (query handles in it are followed live). */
  update(data) {
    this.#open();
    this.#live.flush();   // pending store changes first, so edits apply in order
    const core = this.#core;
    const len = this.template._encodeView(data);
    core.call0('nw_view_update', this.id, len);
    const batch = readEdits(core, core.outView().byteOffset);
    this.applyFrom(batch.ops, 2, batch.strs, batch.ops.length);
    return this;
  }

  /** Applies pending store changes now instead of in the next microtask. */
  flush() { this.#live.flush(); return this; }

  /** Stops following the store; the DOM stays as it is. */
  stop() {
    if (!this.id) return;
    for (const [type, fn] of this.listeners) this.element.removeEventListener(type, fn);
    this.listeners = [];
    this.#live.removeView(this);
    if (!this.#core.closed) this.#core.call0('nw_view_free', this.id);
    this.id = 0;
    this.insts = [null];
  }

  /** Stops following the store and empties the element. */
  unmount() {
    if (!this.id) return;
    this.stop();
    this.element.textContent = '';
  }

  /** Delegated events: `handler(event, id, element)` for events inside
   * elements matching `selector`; `id` is the record id (or item `id`) of
   * the innermost list item the element belongs to. Returns an off(). */
  on(type, selector, handler) {
    this.#open();
    const root = this.element;
    const fn = (event) => {
      const target = event.target && event.target.closest ? event.target.closest(selector) : null;
      if (!target || !root.contains(target)) return;
      handler.call(target, event, this.keyOf(target), target);
    };
    root.addEventListener(type, fn);
    this.listeners.push([type, fn]);
    return () => {
      root.removeEventListener(type, fn);
      this.listeners = this.listeners.filter((l) => l[1] !== fn);
    };
  }

  /** The key (record id) of the list item `node` is in, or undefined. */
  keyOf(node) {
    for (let n = node; n && n !== this.element; n = n.parentNode) {
      const k = this.keys.get(n);
      if (k !== undefined) return k;
    }
    return undefined;
  }

  #open() { if (!this.id) throw new NitroError('CLOSED', 'this view was unmounted'); }

  // ---- applying edits ------------------------------------------------------------

  #create(id, block, key) {
    const b = this.blocks[block];
    const single = b.single;
    const f = single ? single.cloneNode(true) : b.content.cloneNode(true);
    const paths = b.paths;
    const refs = new Array(paths.length);
    for (let i = 0; i < paths.length; i++) refs[i] = nodeAt(f, paths[i]);
    const inst = single ? { first: f, last: f, refs, block: b, frag: null } : { first: f.firstChild, last: f.lastChild, refs, block: b, frag: f };
    if (key !== undefined) {
      let n = inst.first;
      while (n && n.nodeType !== 1 && n !== inst.last) n = n.nextSibling;
      if (n && n.nodeType === 1) {
        this.keys.set(n, key);
        if (this.keyLog) this.keyLog.push([n, key]);
      }
    }
    this.insts[id] = inst;
  }

  #set(inst, j, v) {
    const s = inst.block.slots[j];
    const K = this.#K;
    if (s.kind === K.ATTR) inst.refs[j].setAttribute(s.name, v);
    else if (s.kind === K.CONTENT) {
      // an element's only text child is updated in place (textContent would replace the node)
      const el = inst.refs[j], t = el.firstChild;
      if (t !== null && t === el.lastChild && t.nodeType === 3 && v !== '') t.data = v;
      else el.textContent = v;
    }
    else inst.refs[j].data = v;
  }

  #html(inst, j, html) {
    const anchor = inst.refs[j];
    const parent = anchor.parentNode;
    const old = inst.html?.[j];
    if (old) for (const n of old) n.remove();
    const range = this.doc.createRange();
    range.selectNode(anchor);
    const frag = range.createContextualFragment(html);
    const nodes = Array.from(frag.childNodes);
    parent.insertBefore(frag, anchor);
    (inst.html ??= [])[j] = nodes;
  }

  #place(inst, parentInst, j, before) {
    const anchor = parentInst.refs[j];
    const ref = before ? this.insts[before].first : anchor;
    const parent = anchor.parentNode;
    if (inst.frag) {
      if (!inst.frag.firstChild) { inst.frag = null; return; }
      parent.insertBefore(inst.frag, ref);
      inst.frag = null;
      return;
    }
    if (inst.first === inst.last) { parent.insertBefore(inst.first, ref); return; }
    for (let n = inst.first; ;) {
      const next = n.nextSibling;
      parent.insertBefore(n, ref);
      if (n === inst.last) break;
      n = next;
    }
  }

  #remove(inst) {
    if (inst.first === inst.last) { inst.first.remove(); return; }
    for (let n = inst.first; n;) {
      const next = n.nextSibling;
      n.remove();
      if (n === inst.last) break;
      n = next;
    }
  }

  // Items appended at a list's end one after another go into one
  // DocumentFragment, inserted when anything else touches the tree.
  #run = null;   // { parent inst, slot, frag }

  #flushRun() {
    const r = this.#run;
    if (!r) return;
    this.#run = null;
    const anchor = r.inst.refs[r.slot];
    anchor.parentNode.insertBefore(r.frag, anchor);
  }

  #append(inst, parentInst, j) {
    let r = this.#run;
    if (!r || r.inst !== parentInst || r.slot !== j) {
      this.#flushRun();
      r = this.#run = { inst: parentInst, slot: j, frag: this.doc.createDocumentFragment() };
    }
    if (inst.frag) { r.frag.appendChild(inst.frag); inst.frag = null; }
    else r.frag.appendChild(inst.first);
  }

  /** @internal applies edits from ops[i] up to the next view marker. */
  applyFrom(ops, i, strs, end = ops.length) {
    if (this.#later !== null) this.#insertLater();
    const E = this.#E;
    const insts = this.insts;
    while (i < end) {
      const op = ops[i];
      if (this.#run !== null && op !== E.CREATE && op !== E.TEXT && op !== E.ATTR && op !== E.DECODE &&
          !(op === E.INSERT && ops[i + 4] === 0)) this.#flushRun();
      switch (op) {
        case E.VIEW: this.#flushRun(); return i;
        case E.CREATE: {
          const len = ops[i + 4];
          this.#create(ops[i + 1], ops[i + 2], len === 0xFFFFFFFF ? undefined : strs.substr(ops[i + 3], len));
          i += 5;
          break;
        }
        case E.TEXT: case E.ATTR:
          this.#set(insts[ops[i + 1]], ops[i + 2], strs.substr(ops[i + 3], ops[i + 4]));
          i += 5;
          break;
        case E.DECODE: {
          const inst = insts[ops[i + 1]], j = ops[i + 2];
          const attr = inst.block.slots[j].kind === this.#K.ATTR;
          this.#set(inst, j, browserDecode(this.doc, strs.substr(ops[i + 3], ops[i + 4]), attr));
          i += 5;
          break;
        }
        case E.HTML:
          this.#html(insts[ops[i + 1]], ops[i + 2], strs.substr(ops[i + 3], ops[i + 4]));
          i += 5;
          break;
        case E.INSERT:
          if (ops[i + 4] === 0 && insts[ops[i + 1]].first === insts[ops[i + 1]].last) this.#append(insts[ops[i + 1]], insts[ops[i + 2]], ops[i + 3]);
          else this.#place(insts[ops[i + 1]], insts[ops[i + 2]], ops[i + 3], ops[i + 4]);
          i += 5;
          break;
        case E.MOVE:
          this.#place(insts[ops[i + 1]], insts[ops[i + 2]], ops[i + 3], ops[i + 4]);
          i += 5;
          break;
        case E.REMOVE:
          this.#remove(insts[ops[i + 1]]);
          insts[ops[i + 1]] = null;
          i += 2;
          break;
        case E.CLEAR: {
          const anchor = insts[ops[i + 1]].refs[ops[i + 2]];
          const parent = anchor.parentNode;
          parent.textContent = '';
          parent.appendChild(anchor);
          i += 3;
          break;
        }
        case E.DROP:
          insts[ops[i + 1]] = null;
          i += 2;
          break;
        case E.ROOT: {
          const inst = insts[ops[i + 1]];
          this.element.replaceChildren(inst.frag ?? inst.first);
          inst.frag = null;
          inst.first = this.element.firstChild;
          inst.last = this.element.lastChild;
          i += 2;
          break;
        }
        default:
          throw new NitroError('LIMIT', `nitro-wasm: unknown view edit ${op}`);
      }
    }
    this.#flushRun();
    return i;
  }
}

/** Pairs the nodes built in `ours` with those already in `theirs`: the
 * same render parsed by the browser. What has no pair goes in on the first
 * patch (`later`): empty text nodes of ours (markers, empty text slots),
 * and text the parser joined into one node across items (that node keeps
 * its first piece; ours carry the rest). False when the two differ. */
function pairNodes(ours, theirs, pairs, later) {
  let t = theirs.firstChild, off = 0, first = 0;   // off: the part of text node t paired so far
  const done = () => {
    if (first < t.data.length) later.push([t, first]);
    t = t.nextSibling;
    off = first = 0;
  };
  for (let o = ours.firstChild; o; o = o.nextSibling) {
    if (o.nodeType === 3) {
      const n = o.data.length;
      if (off > 0) {   // inside a joined text node: ours goes after it
        if (n && t.data.substr(off, n) !== o.data) return false;
        later.push([theirs, t.nextSibling, o]);
        off += n;
        if (off === t.data.length) done();
        continue;
      }
      if (n === 0) { later.push([theirs, t, o]); continue; }
      if (!t || t.nodeType !== 3 || !t.data.startsWith(o.data)) return false;
      pairs.set(o, t);
      off = first = n;
      if (off === t.data.length) done();
      continue;
    }
    if (!t || off > 0 || t.nodeType !== o.nodeType) return false;
    if (o.nodeType === 1) {
      if (t.localName !== o.localName || !pairNodes(o, t, pairs, later)) return false;
    } else if (t.data !== o.data) {
      return false;
    }
    pairs.set(o, t);
    t = t.nextSibling;
  }
  return t === null;
}

/** Takes over `target`'s server-rendered content (mount with adopt). */
function adoptInto(view, built, target) {
  const pairs = new Map(), later = [];
  view.element = target;
  if (!pairNodes(built, target, pairs, later)) {
    // not the same HTML (other data, or text the parser merged): render it
    target.replaceChildren(...built.childNodes);
    view.adopted = false;
    view.keyLog = null;
    return;
  }
  view.remap(pairs, later);
  view.adopted = true;
}

/** Mounts `template` on `element` (Template.mount). */
export function mountView(live, template, element, data, options = {}) {
  if (!element || typeof element.appendChild !== 'function' || !element.ownerDocument) {
    throw new NitroError('TEMPLATE', 'mount(element, data) needs a DOM element', { rule: 'mount' });
  }
  const core = live.core;
  const doc = element.ownerDocument;
  let blocks = template._domBlocks;
  if (!blocks || blocks.doc !== doc) {
    core.call0('nw_view_program', template._id());
    blocks = readProgram(core);
    blocks.forEach((b, i) => prepareBlock(doc, b, SLOTS, i === 0));
    blocks.doc = doc;
    template._domBlocks = blocks;
  }
  live.flush();
  // replace: the rendered nodes take the element's place (Datastar fragments
  // patched by the id of their root element); the view then works on them
  // from a detached container.
  // adopt: the view is built apart, then mapped onto the same HTML already
  // in the element (render() on a server), which is left untouched.
  const target = options.replace || options.adopt ? element : null;
  if (target) element = doc.createElement('div');
  const view = new View(live, template, element, blocks, options);
  if (options.adopt) view.keyLog = [];
  const len = template._encodeView(data);
  core.call0('nw_view_new', template._id(), len);
  const out = core.outView().byteOffset;
  const id = core.dv.getUint32(out, true);
  const batch = readEdits(core, out + 4);
  view.start(id);
  view.applyFrom(batch.ops, 2, batch.strs);
  if (options.adopt) adoptInto(view, element, target);
  else if (target) target.replaceWith(...element.childNodes);
  return view;
}

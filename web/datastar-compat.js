// datastar-compat.js - lets the demo, written in Datastar 1.0 syntax, run on
// the Datastar client that `npm install` brings (1.0.0-beta.11, the only one
// on npm). The two differ in the key separator (`data-on:click` in 1.0,
// `data-on-click` in beta.11) and in the event that reports signal changes
// (`datastar-signal-patch` with a merge patch, `datastar-signals` with
// paths). Each wrong spelling is silently ignored, so the demo converts its
// markup before Datastar reads it.

/** The attribute syntax of a Datastar client at `url`: 'beta' for a
 * 1.0.0-beta build (the npm package), else '1.0'. */
export function syntaxOf(url, version) {
  return /beta/.test(version || '') || /beta|@starfederation\/datastar\//.test(url) ? 'beta' : '1.0';
}

const KEYED = /^data-([a-z][a-z0-9-]*):(.+)$/;

/** `data-on:click__prevent` -> `data-on-click__prevent` (beta.11 spelling). */
export function betaName(name) {
  const m = KEYED.exec(name);
  return m ? `data-${m[1]}-${m[2]}` : name;
}

/** beta.11 replaces only `$a.b.c` paths of leaf signals, so `$errors.Task[id]`
 * (an object signal indexed at run time) becomes a read of that object; and
 * its expressions reach the element as `ctx.el`, not `el`. */
export function betaExpression(value) {
  return value
    .replace(/\$([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)\[/g, (m, path) => `ctx.signals.subset('${path}').${path}[`)
    .replace(/(^|[^\w$.])el(?=\.)/g, '$1ctx.el');
}

/** Converts a template's source: attribute names, and the values of
 * Datastar attributes. */
export function toBetaMarkup(html) {
  return html.replace(/(\s)(data-[a-z][a-z0-9-]*(?::[A-Za-z0-9_.:-]+)?)(="[^"]*")?/g,
    (m, space, name, value) => `${space}${betaName(name)}${value ? betaExpression(value) : ''}`);
}

/** Takes every data-* attribute off `root` and its descendants and returns
 * a function that puts them back in beta.11 spelling (`data-signals` first).
 * Take them before beta.11 is imported and put them back once the actions
 * they name are registered: beta.11 compiles an expression when it first
 * sees it, and applies attributes added later. */
export function holdForBeta(root) {
  const held = [];
  for (const el of [root, ...root.querySelectorAll('*')]) {
    for (const { name, value } of [...el.attributes]) {
      if (!name.startsWith('data-') || name === 'data-testid') continue;
      held.push([el, name, value]);
      el.removeAttribute(name);
    }
  }
  return async () => {
    const isSignals = (a) => a[1].startsWith('data-signals');
    for (const [el, name, value] of held.filter(isSignals)) el.setAttribute(betaName(name), value);
    await new Promise((r) => setTimeout(r, 0));   // beta.11 applies the signals first
    for (const [el, name, value] of held.filter((a) => !isSignals(a))) el.setAttribute(betaName(name), betaExpression(value));
  };
}

/**
 * Calls `fn(patch)` after Datastar changed signals, with a merge patch of what
 * changed on either client: 1.0 sends one; beta.11 sends paths, whose values
 * are read back with `readSignal`. Returns a function that stops listening.
 */
export function onSignalPatch(doc, syntax, readSignal, fn) {
  if (syntax === '1.0') {
    const listener = (e) => fn(e.detail);
    doc.addEventListener('datastar-signal-patch', listener);
    return () => doc.removeEventListener('datastar-signal-patch', listener);
  }
  const listener = (e) => {
    const d = e.detail || {};
    const patch = Object.create(null);
    for (const p of [...(d.updated || []), ...(d.added || [])]) setPath(patch, p, readSignal(p));
    for (const p of d.removed || []) setPath(patch, p, null);
    fn(patch);
  };
  doc.addEventListener('datastar-signals', listener);
  return () => doc.removeEventListener('datastar-signals', listener);
}

function setPath(root, path, value) {
  const keys = String(path).split('.');
  let o = root;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) o[k] = Object.create(null);
    o = o[k];
  }
  o[keys[keys.length - 1]] = value;
}

// crossings.js - counts the calls from JS into WebAssembly while a function
// runs, by export name: the tests that hold a user action to one crossing.

/** Runs fn() with every export of nitro's instance counted (not the buffer
 * accessors, nor nw_input: the input buffer growing once); returns
 * { counts: { exportName: calls }, calls: total, out: fn's result }. */
export function countCrossings(nitro, fn) {
  const core = nitro.core;
  const real = core.x;
  const counts = {};
  core.x = Object.fromEntries(Object.entries(real).map(([name, v]) => [name,
    typeof v !== 'function' || /^nw_(out|in|err)_|^nw_input$/.test(name) ? v
      : (...a) => { counts[name] = (counts[name] ?? 0) + 1; return v(...a); }]));
  let out;
  try { out = fn(); } finally { core.x = real; }
  return { counts, calls: Object.values(counts).reduce((a, b) => a + b, 0), out };
}

// harness.js - timing and the table every benchmark prints.
// Contenders run side by side in one process, alternating per round; the
// median round counts. Names starting with "nitro" are ours; the ratio column
// compares each row with the fastest peer (non-nitro) of its table.

export function now() { return performance.now(); }

/** Runs fn `rounds` times (after one warm-up) and returns the median ms. */
export function timeMs(fn, rounds = 5) {
  fn();
  const t = [];
  for (let i = 0; i < rounds; i++) {
    const a = now();
    fn();
    t.push(now() - a);
  }
  t.sort((x, y) => x - y);
  return t[t.length >> 1];
}

/** ops/s of `ops` operations done by fn, median of rounds. */
export function opsPerSec(fn, ops, rounds = 5) {
  return (ops / timeMs(fn, rounds)) * 1000;
}

function fmt(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(1);
}

export function makeReport(out = console.log) {
  const tables = [];
  return {
    tables,
    goals: [],
    table(title, rows) {
      tables.push({ title, rows });
      const peers = rows.filter((r) => !r.name.startsWith('nitro') && r.opsPerSec > 0);
      const best = peers.length ? Math.max(...peers.map((r) => r.opsPerSec)) : 0;
      out(`\n${title}`);
      out(`  ${'contender'.padEnd(34)} ${'ops/s'.padStart(10)}  ${'vs fastest peer'.padStart(15)}  note`);
      for (const r of rows) {
        const ratio = best && r.opsPerSec > 0 ? `${(r.opsPerSec / best).toFixed(2)}x` : 'n/a';
        out(`  ${r.name.padEnd(34)} ${(r.opsPerSec > 0 ? fmt(r.opsPerSec) : 'n/a').padStart(10)}  ${ratio.padStart(15)}  ${r.note || ''}`);
      }
    },
    line(text) { out(text); },
  };
}

/** ops/s of fn (one operation per call), run until `ms` have passed after a
 * short warm-up; good for operations whose cost varies by orders of
 * magnitude between contenders. */
export function rate(fn, ms = 300) {
  const warm = now() + Math.min(50, ms / 4);
  while (now() < warm) fn();
  let n = 0;
  const start = now();
  let t = start;
  while (t - start < ms) {
    for (let i = 0; i < 8; i++) fn();
    n += 8;
    t = now();
  }
  return (n / (t - start)) * 1000;
}

// ---- side-by-side comparisons (store, events) ------------------------------------
// The machine a bench runs on may be shared: these tables time CPU time of
// this process (process.cpuUsage, user + system, every thread: GC helpers
// count) rather than wall-clock time, which other processes inflate; in a
// browser, performance.now().

/** Milliseconds of CPU time used by this process so far. */
export const cpuMs = typeof process !== 'undefined' && typeof process.cpuUsage === 'function'
  ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }
  : now;

/** Times `fn` once: CPU ms. */
export function cpuTime(fn) {
  const a = cpuMs();
  fn();
  return cpuMs() - a;
}

/** Per-operation times of `rounds` rounds; round r calls run(r) and does `ops` operations. */
export function stats(times, ops = 1) {
  const per = times.map((t) => t / ops).sort((x, y) => x - y);
  const mid = per.length >> 1;
  const median = per.length % 2 ? per[mid] : (per[mid - 1] + per[mid]) / 2;
  return { median, min: per[0], rounds: per.length };
}

/** Runs every contender's `op(round)` round by round, interleaved (so a load
 * spike hits everyone alike), after `warmup` untimed rounds. `op` returns
 * (or resolves with) the CPU ms it measured (it may set up untimed state first), or null when
 * the contender cannot do the operation. Returns { name: stats | null }. */
export async function interleave(contenders, { rounds = 5, warmup = 1, ops = 1 }, op) {
  const times = new Map(contenders.map((c) => [c, []]));
  for (let r = 0; r < warmup + rounds; r++) {
    for (const c of contenders) {
      const t = times.get(c);
      if (t === null) continue;
      const ms = await op(c, r);
      if (ms === null || ms === undefined) { times.set(c, null); continue; }
      if (r >= warmup) t.push(ms);
    }
  }
  const out = {};
  for (const c of contenders) out[c.name] = times.get(c) === null ? null : stats(times.get(c), typeof ops === 'function' ? ops(c) : ops);
  return out;
}

/** "1.23 us" from milliseconds. */
export function fmtTime(ms) {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 1) return `${ms.toFixed(ms >= 100 ? 0 : 2)} ms`;
  if (ms >= 1e-3) return `${(ms * 1e3).toFixed(ms >= 0.1 ? 0 : 2)} us`;
  return `${(ms * 1e6).toFixed(1)} ns`;
}

/**
 * Prints one comparison: per contender the median and min time per
 * operation, and the ratio of medians to the reference contender (`ref`),
 * then the table's goals. `results` is { name: stats | null | string } (a
 * string is a note such as 'not available'). `goals` is a list of
 * { text, met(results) -> boolean | null, why(results) -> string }.
 */
export function compare(report, title, results, { ref, unit = 'per op', goals = [], notes = {} } = {}) {
  const out = report.line ? (s) => report.line(s) : console.log;
  const base = results[ref] && typeof results[ref] === 'object' ? results[ref].median : null;
  out(`\n${title}`);
  out(`  ${'contender'.padEnd(52)} ${`median ${unit}`.padStart(16)} ${'min'.padStart(10)} ${base ? `x ${ref}`.padStart(12) : ''}`);
  for (const [name, s] of Object.entries(results)) {
    if (s === null || typeof s !== 'object') {
      out(`  ${name.padEnd(52)} ${String(s ?? 'not available').padStart(16)}`);
      continue;
    }
    const ratio = base ? `${(s.median / base).toFixed(2)}x` : '';
    out(`  ${name.padEnd(52)} ${fmtTime(s.median).padStart(16)} ${fmtTime(s.min).padStart(10)} ${ratio.padStart(12)}${notes[name] ? `  ${notes[name]}` : ''}`);
  }
  for (const g of goals) {
    let met;
    try { met = g.met(results); } catch { met = null; }
    const verdict = met === null ? 'NOT MEASURED' : met ? 'met' : 'MISSED';
    const why = g.why ? safe(() => g.why(results)) : '';
    out(`  goal: ${g.text}: ${verdict}${why ? ` (${why})` : ''}`);
    (report.goals ||= []).push({ text: g.text, verdict, why });
  }
}

function safe(fn) { try { return fn(); } catch { return ''; } }

/** median of `a` over median of `b` in results, or NaN. */
export function ratioOf(results, a, b) {
  const x = results[a], y = results[b];
  return x && y && typeof x === 'object' && typeof y === 'object' ? x.median / y.median : NaN;
}

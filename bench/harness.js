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

// data.js (bench/pages/, so the Chromium pages load it too) - the one record generator every benchmark and every contender
// uses: the same ids, titles, statuses and numbers for nitro-wasm and each
// peer. About 40% of titles hold characters HTML must escape (< > & " '),
// the rest none, as in an app where some users type markup-like text.
export const STATUSES = ['open', 'done', 'blocked'];
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'report', 'fix', 'write', 'review', 'deploy', 'café', 'naïve', 'test',
  'server', 'client', 'index', 'query', 'render', 'patch', 'signal', 'event'];

/** True for the ~40% of records whose title needs escaping. */
export function needsEscape(i) { return i % 5 < 2; }

/** The title of record i: three words and its number; 40% with markup-like text. */
export function title(i) {
  const a = WORDS[i % 20], b = WORDS[(i * 7) % 20], c = WORDS[(i * 3) % 17];
  if (!needsEscape(i)) return `${a} ${b} ${c} #${i}`;
  return i % 5 === 0 ? `${a} <${b}> & ${c} #${i}` : `${a} "${b}" isn't ${c} #${i}`;
}

/** n task records: { id, title, status, priority, tags, created }. */
export function makeTasks(n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      id: `t${String(i).padStart(7, '0')}`,
      title: title(i),
      status: STATUSES[i % 3],
      priority: 1 + ((i * 7) % 5),
      tags: i % 2 ? ['a', 'b'] : ['c'],
      created: 1_700_000_000_000 + i * 1000,
    };
  }
  return out;
}

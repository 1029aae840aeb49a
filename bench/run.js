// run.js - `npm run bench`: every benchmark module, one process, one report,
// then every goal marked met or missed. One suite: `npm run bench -- store`
// or BENCH_SUITE=store,events npm run bench.
import { makeReport } from './harness.js';

const only = [...process.argv.slice(2), ...(process.env.BENCH_SUITE || '').split(',')].filter(Boolean);
// events before store: the store suite leaves a large heap behind
const modules = ['jsfb', 'live', 'events', 'store', 'templates', 'html', 'datastar', 'sync'];
const report = makeReport();
const failed = [];
console.log(`nitro-wasm bench, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${process.arch}`);
console.log('(store and events tables: CPU time of this process, median and min of interleaved rounds)');
for (const m of modules) {
  if (only.length && !only.includes(m)) continue;
  let mod;
  try {
    mod = await import(`./${m}.js`);
  } catch (err) {
    if (err.code === 'ERR_MODULE_NOT_FOUND' && err.message.includes(`${m}.js`)) continue;
    throw err;
  }
  try {
    await mod.run(report);
  } catch (err) {
    // one suite failing (a browser timing out on a loaded machine, say) does not hide the others
    failed.push(m);
    console.log(`\n${m}: FAILED: ${err && err.stack ? err.stack.split('\n').slice(0, 3).join(' | ') : err}`);
  }
}
if (report.goals && report.goals.length) {
  console.log('\ngoals (issue 16)');
  for (const g of report.goals) console.log(`  ${g.verdict.padEnd(12)} ${g.text}${g.why ? ` (${g.why})` : ''}`);
}
if (failed.length) {
  console.log(`\nsuites that failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}

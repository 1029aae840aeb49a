// run.js - `npm run bench`: every benchmark module, one process, one report.
import { makeReport } from './harness.js';

const only = process.argv.slice(2);
const modules = ['jsfb', 'live', 'store', 'events', 'templates', 'html', 'datastar', 'sync'];
const report = makeReport();
console.log(`nitro-wasm bench, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${process.arch}`);
for (const m of modules) {
  if (only.length && !only.includes(m)) continue;
  let mod;
  try {
    mod = await import(`./${m}.js`);
  } catch (err) {
    if (err.code === 'ERR_MODULE_NOT_FOUND' && err.message.includes(`${m}.js`)) continue;
    throw err;
  }
  await mod.run(report);
}

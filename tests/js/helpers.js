// helpers.js - shared set-up for the Node tests: the built package in dist/.
import { createNitro, NitroError } from '../../dist/nitro.js';

export { createNitro, NitroError };

export const taskFields = {
  id: { type: 'id' },
  title: { type: 'string', required: true, minLength: 1, maxLength: 200 },
  status: { type: 'enum', values: ['open', 'done', 'blocked'], default: 'open' },
  priority: { type: 'int', min: 1, max: 5, default: 3 },
  estimate: { type: 'float', optional: true },
  done: { type: 'bool', default: false },
  due: { type: 'datetime', optional: true },
  tags: { type: 'list', of: 'string', default: [] },
  meta: { type: 'json', optional: true },
};

export async function setup(def = {}) {
  const nitro = await createNitro();
  const Task = nitro.entity('Task', { fields: taskFields, ...def });
  return { nitro, Task };
}

/** Asserts fn throws a NitroError with the given properties. */
export function throwsNitro(assert, fn, props) {
  let caught;
  try { fn(); } catch (err) { caught = err; }
  assert.ok(caught, `expected a NitroError ${JSON.stringify(props)}`);
  assert.ok(caught instanceof NitroError, `expected NitroError, got ${caught && caught.name}: ${caught && caught.message}`);
  for (const [k, v] of Object.entries(props)) {
    if (v instanceof RegExp) assert.match(caught[k], v, k);
    else assert.equal(caught[k], v, `${k} of ${caught.message}`);
  }
  return caught;
}

// The store drives Datastar signals and fragments; @nitro writes back through the entities.
import { createNitro } from 'nitro-wasm';
import { connectDatastar } from 'nitro-wasm/datastar';

const nitro = await createNitro();
const Task = nitro.entity('Task', { fields: {
  id: { type: 'id' }, title: { type: 'string', required: true, minLength: 1 },
  status: { type: 'enum', values: ['open', 'done'], default: 'open' },
} });
Task.insertMany([{ id: 't1', title: 'Bind me' }, { id: 't2', title: 'Second' }]);
const list = nitro.template('<ul id="tasks">{{#tasks}}<li id="li-{{id}}">{{title}} ({{status}})</li>{{/tasks}}</ul>');

const ds = connectDatastar(nitro);  await ds.ready;  // Datastar 1.0.x, or 1.0.0-beta.11
ds.bind('tasks', Task.where({ status: 'open' }));   // $tasks = { [id]: record }, kept current by merge patches
ds.bindRecord('draft', Task, 't1');                 // one record, written back through the entity
ds.fragment(list, { tasks: Task.query() });         // patched from the store, before the next frame
ds.patchSignals({ filter: { q: '' } });
// <button data-on:click="@nitro('Task.update', 't1', {status: 'done'})">  (create/update/upsert/delete/methods)
// <input data-bind="draft.title"> <span data-text="$errors.Task.t1.title"></span>   validation errors become signals
window.example = { nitro, Task, ds };

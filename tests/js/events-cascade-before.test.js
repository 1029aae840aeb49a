// Cascaded writes run the other entity's before-handlers and validate, also
// when the entity written first has only after-listeners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro } from '../../dist/nitro.js';

async function projectsAndTasks(taskDef = {}) {
  const nitro = await createNitro();
  const Project = nitro.entity('Project', { fields: { name: { type: 'string' } } });
  const Task = nitro.entity('Task', {
    fields: { title: { type: 'string' }, projectId: { type: 'ref', entity: 'Project', onDelete: 'cascade' } },
    ...taskDef,
  });
  const p = Project.create({ name: 'p' });
  Task.create({ id: 't1', title: 'a', projectId: p.id });
  return { nitro, Project, Task, p };
}

test('a cascade delete runs Task.beforeDelete while Project has an after-listener', async () => {
  const { nitro, Project, Task, p } = await projectsAndTasks();
  const before = [];
  nitro.on('Project.deleted', () => {});
  nitro.on('Task.beforeDelete', (e) => { before.push(e.id); });
  Project.delete(p.id);
  assert.deepEqual(before, ['t1']);
  assert.equal(Task.get('t1'), null);
  nitro.close();
});

test('a cancelling Task.beforeDelete stops the cascade while Project has an after-listener', async () => {
  const { nitro, Project, Task, p } = await projectsAndTasks();
  nitro.on('Project.deleted', () => {});
  nitro.on('Task.beforeDelete', (e) => e.cancel('keep tasks'));
  assert.throws(() => Project.delete(p.id), (err) => err.code === 'CANCELLED');
  assert.ok(Project.get(p.id), 'the project stays');
  assert.ok(Task.get('t1'), 'the task stays');
  nitro.close();
});

test("a nullify cascade runs Task's validate while Project has an after-listener", async () => {
  const nitro = await createNitro();
  const Project = nitro.entity('Project', { fields: { name: { type: 'string' } } });
  const Task = nitro.entity('Task', {
    fields: { title: { type: 'string' }, projectId: { type: 'ref', entity: 'Project', onDelete: 'nullify' } },
    validate: (t) => (t.projectId == null ? 'a task needs a project' : null),
  });
  const p = Project.create({ name: 'p' });
  Task.create({ id: 't1', title: 'a', projectId: p.id });
  nitro.on('Project.deleted', () => {});
  assert.throws(() => Project.delete(p.id), (err) => err.code === 'VALIDATION' && err.rule === 'validate');
  assert.equal(Task.get('t1').projectId, p.id);
  nitro.close();
});

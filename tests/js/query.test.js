import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, createNitro, throwsNitro } from './helpers.js';

async function seeded() {
  const s = await setup({ indexes: ['status', ['status', 'priority']] });
  s.Task.insertMany([
    { id: 'a', title: 'alpha', status: 'open', priority: 3, tags: ['x'], estimate: 2 },
    { id: 'b', title: 'beta', status: 'done', priority: 5, tags: ['y'] },
    { id: 'c', title: 'gamma', status: 'open', priority: 5, tags: ['x', 'y'], estimate: 1 },
    { id: 'd', title: 'delta', status: 'blocked', priority: 1, due: '2030-01-01' },
    { id: 'e', title: 'Alphabet', status: 'open', priority: 4, done: true },
  ]);
  return s;
}

test('equality, AND of several fields, operators', async () => {
  const { Task } = await seeded();
  assert.deepEqual(Task.where({ status: 'open' }).ids(), ['a', 'c', 'e']);
  assert.deepEqual(Task.where({ status: 'open', priority: 5 }).ids(), ['c']);
  assert.deepEqual(Task.where({ priority: { gte: 4 } }).ids(), ['b', 'c', 'e']);
  assert.deepEqual(Task.where({ priority: { gt: 1, lt: 5 } }).ids(), ['a', 'e']);
  assert.deepEqual(Task.where({ priority: { lte: 3 } }).ids(), ['a', 'd']);
  assert.deepEqual(Task.where({ status: { in: ['done', 'blocked'] } }).ids(), ['b', 'd']);
  assert.deepEqual(Task.where({ status: { nin: ['open'] } }).ids(), ['b', 'd']);
  assert.deepEqual(Task.where({ title: { startsWith: 'Alpha' } }).ids(), ['e']);
  assert.deepEqual(Task.where({ title: { contains: 'lph' } }).ids(), ['a', 'e']);
  assert.deepEqual(Task.where({ tags: { contains: 'y' } }).ids(), ['b', 'c']);
  assert.deepEqual(Task.where({ due: { gt: '2029-12-31' } }).ids(), ['d']);
  assert.deepEqual(Task.where({ done: true }).ids(), ['e']);
});

test('null and absent values follow docs/contract.md', async () => {
  const { Task } = await seeded();
  assert.deepEqual(Task.where({ estimate: { exists: false } }).ids(), ['b', 'd', 'e']);
  assert.deepEqual(Task.where({ estimate: { exists: true } }).ids(), ['a', 'c']);
  assert.deepEqual(Task.where({ estimate: null }).ids(), ['b', 'd', 'e']);
  assert.deepEqual(Task.where({ estimate: { eq: null } }).ids(), ['b', 'd', 'e']);
  assert.deepEqual(Task.where({ estimate: { ne: 2 } }).ids(), ['b', 'c', 'd', 'e']);
  assert.deepEqual(Task.where({ estimate: { nin: [2] } }).ids(), ['b', 'c', 'd', 'e']);
  assert.deepEqual(Task.where({ estimate: { lt: 100 } }).ids(), ['a', 'c']);
  assert.deepEqual(Task.where({ estimate: { in: [1, 2] } }).ids(), ['a', 'c']);
});

test('$or, $and, $not and chained where', async () => {
  const { Task } = await seeded();
  assert.deepEqual(Task.where({ $or: [{ status: 'done' }, { priority: 1 }] }).ids(), ['b', 'd']);
  assert.deepEqual(Task.where({ $and: [{ status: 'open' }, { priority: { gt: 3 } }] }).ids(), ['c', 'e']);
  assert.deepEqual(Task.where({ $not: { status: 'open' } }).ids(), ['b', 'd']);
  assert.deepEqual(Task.where({ status: 'open' }).where({ tags: { contains: 'x' } }).ids(), ['a', 'c']);
});

test('orderBy several keys, enum declaration order, nulls, ties by id', async () => {
  const { Task } = await seeded();
  assert.deepEqual(Task.where({}).orderBy('-priority', 'id').ids(), ['b', 'c', 'e', 'a', 'd']);
  assert.deepEqual(Task.query().orderBy('status').ids(), ['a', 'c', 'e', 'b', 'd']);
  assert.deepEqual(Task.query().orderBy('estimate').ids(), ['b', 'd', 'e', 'c', 'a']);
  assert.deepEqual(Task.query().orderBy('-estimate').ids(), ['a', 'c', 'b', 'd', 'e']);
  assert.deepEqual(Task.query().orderBy('done', '-title').ids(), ['c', 'd', 'b', 'a', 'e']);
});

test('limit, offset, first, count ignores the window', async () => {
  const { Task } = await seeded();
  const q = Task.query().orderBy('-priority', 'id');
  assert.deepEqual(q.limit(2).ids(), ['b', 'c']);
  assert.deepEqual(q.offset(1).limit(2).ids(), ['c', 'e']);
  assert.deepEqual(q.offset(4).ids(), ['d']);
  assert.deepEqual(q.offset(9).ids(), []);
  assert.equal(q.first().id, 'b');
  assert.equal(q.offset(1).first().id, 'c');
  assert.equal(q.limit(1).count(), 5);
  assert.equal(Task.where({ status: 'gone' }).first(), null);
  assert.equal(Task.findBy({ title: 'beta' }).id, 'b');
  assert.equal(Task.findBy({ title: 'nope' }), null);
  assert.equal(Task.count({ status: 'open' }), 3);
  assert.deepEqual(q.limit(2).all().map((r) => r.title), ['beta', 'gamma']);
});

test('bulk update and delete return counts, honour limit, and emit events', async () => {
  const { nitro, Task } = await seeded();
  const seen = [];
  nitro.on('Task.updated', (e) => seen.push(e.id));
  assert.equal(Task.where({ status: 'open' }).orderBy('id').limit(2).update({ priority: 2 }), 2);
  assert.deepEqual(seen, ['a', 'c']);
  assert.deepEqual(Task.where({ priority: 2 }).ids(), ['a', 'c']);
  assert.equal(Task.where({ status: 'open' }).delete(), 3);
  assert.deepEqual(Task.all().map((r) => r.id), ['b', 'd']);
});

test('a failing bulk update changes nothing and names the index', async () => {
  const { Task } = await seeded();
  const before = Task.all().map((r) => r.toJSON());
  throwsNitro(assert, () => Task.where({}).update({ priority: 9 }), { code: 'VALIDATION', rule: 'max', index: 0 });
  throwsNitro(assert, () => Task.where({}).update({ nope: 1 }), { code: 'VALIDATION', rule: 'unknown' });
  assert.deepEqual(Task.all().map((r) => r.toJSON()), before);
});

test('unknown fields, operators and bad values throw QUERY', async () => {
  const { Task } = await seeded();
  throwsNitro(assert, () => Task.where({ nope: 1 }).all(), { code: 'QUERY', field: 'nope', rule: 'unknown' });
  throwsNitro(assert, () => Task.where({ priority: { around: 3 } }).all(), { code: 'QUERY', field: 'priority', rule: 'operator' });
  throwsNitro(assert, () => Task.where({ priority: 'high' }).all(), { code: 'QUERY', field: 'priority' });
  throwsNitro(assert, () => Task.where({ priority: { in: 3 } }).all(), { code: 'QUERY', field: 'priority' });
  throwsNitro(assert, () => Task.query().orderBy('nope').all(), { code: 'QUERY', field: 'nope' });
  throwsNitro(assert, () => Task.query().limit(-1), { code: 'QUERY' });
  throwsNitro(assert, () => Task.where({ status: { gt: 'zzz' } }).all(), { code: 'QUERY', field: 'status' });
  assert.equal(Task.where({ status: 'gone' }).count(), 0);
  assert.equal(Task.where({ status: { ne: 'gone' } }).count(), 5);
});

test('relations: related, children, onDelete restrict/cascade/nullify', async () => {
  const nitro = await createNitro();
  const Project = nitro.entity('Project', { fields: { name: { type: 'string' } } });
  const Task = nitro.entity('Task', { fields: { title: { type: 'string' }, projectId: { type: 'ref', entity: 'Project', onDelete: 'cascade' } } });
  const Note = nitro.entity('Note', { fields: { text: { type: 'string' }, projectId: { type: 'ref', entity: 'Project', onDelete: 'nullify' } } });
  const Pin = nitro.entity('Pin', { fields: { taskId: { type: 'ref', entity: 'Task', onDelete: 'restrict' } } });
  const p = Project.create({ id: 'p', name: 'P' });
  const t1 = Task.create({ id: 't1', title: 'a', projectId: 'p' });
  Task.create({ id: 't2', title: 'b', projectId: 'p' });
  Note.create({ id: 'n', text: 'x', projectId: 'p' });
  assert.equal(Task.related(t1, 'projectId').name, 'P');
  assert.deepEqual(Project.children(p, Task, 'projectId').map((r) => r.id), ['t1', 't2']);
  throwsNitro(assert, () => Task.create({ title: 'c', projectId: 'nope' }), { code: 'VALIDATION', rule: 'ref', field: 'projectId' });
  Pin.create({ id: 'pin', taskId: 't1' });
  throwsNitro(assert, () => Project.delete('p'), { code: 'CONFLICT', rule: 'restrict', entity: 'Pin', field: 'taskId' });
  assert.equal(Task.count(), 2);
  assert.ok(Project.get('p'));
  Pin.delete('pin');
  const deleted = [];
  nitro.on('*.deleted', (e) => deleted.push(e.id));
  assert.equal(Project.delete('p'), true);
  assert.deepEqual(deleted.sort(), ['p', 't1', 't2']);
  assert.equal(Task.count(), 0);
  assert.equal(Note.get('n').projectId, null);
});

test('many-to-many through a link entity', async () => {
  const nitro = await createNitro();
  const Tag = nitro.entity('Tag', { fields: { name: { type: 'string' } } });
  const Post = nitro.entity('Post', { fields: { title: { type: 'string' } } });
  const PostTag = nitro.entity('PostTag', {
    fields: { postId: { type: 'ref', entity: 'Post', onDelete: 'cascade' }, tagId: { type: 'ref', entity: 'Tag', onDelete: 'cascade' } },
    unique: [['postId', 'tagId']],
  });
  Post.create({ id: 'p1', title: 'x' });
  Tag.insertMany([{ id: 'red', name: 'red' }, { id: 'blue', name: 'blue' }]);
  PostTag.insertMany([{ postId: 'p1', tagId: 'red' }, { postId: 'p1', tagId: 'blue' }]);
  throwsNitro(assert, () => PostTag.create({ postId: 'p1', tagId: 'red' }), { code: 'DUPLICATE', field: 'postId,tagId' });
  const tags = Post.children(Post.get('p1'), PostTag, 'postId').map((l) => PostTag.related(l, 'tagId').name);
  assert.deepEqual(tags.sort(), ['blue', 'red']);
  Tag.delete('red');
  assert.equal(PostTag.count(), 1);
});

test('unique constraints: DUPLICATE naming the fields; nulls do not collide', async () => {
  const nitro = await createNitro();
  const U = nitro.entity('U', { fields: { email: { type: 'string' }, org: { type: 'string' } }, unique: ['email'] });
  U.create({ email: 'a@x' });
  U.create({});
  U.create({});
  throwsNitro(assert, () => U.create({ email: 'a@x' }), { code: 'DUPLICATE', field: 'email', rule: 'unique', entity: 'U' });
  const b = U.create({ email: 'b@x' });
  throwsNitro(assert, () => U.update(b.id, { email: 'a@x' }), { code: 'DUPLICATE' });
  assert.equal(U.get(b.id).email, 'b@x');
  U.delete(U.findBy({ email: 'a@x' }).id);
  U.update(b.id, { email: 'a@x' });
});

test('id lookups (eq and in) give the same answers as any other query', async () => {
  const { Task } = await seeded();
  assert.deepEqual(Task.where({ id: { in: ['e', 'a', 'zz', 'a', 'c'] } }).ids(), ['a', 'c', 'e'], 'pk order, no duplicates, unknown ids skipped');
  assert.deepEqual(Task.where({ id: { in: ['e', 'a', 'c'] } }).orderBy('-priority').ids(), ['c', 'e', 'a']);
  assert.deepEqual(Task.where({ id: { in: ['e', 'a', 'c'] }, status: 'open', priority: { gte: 4 } }).ids(), ['c', 'e']);
  assert.deepEqual(Task.where({ id: { in: ['e', 'a', 'c'] } }).offset(1).limit(1).ids(), ['c']);
  assert.deepEqual(Task.where({ id: { in: [] } }).ids(), []);
  assert.equal(Task.where({ id: { in: ['a', 'b', 'b', 'nope'] } }).count(), 2);
  assert.equal(Task.where({ id: { in: ['a', 'b'] }, status: 'done' }).count(), 1);
  assert.equal(Task.where({ id: 'a' }).count(), 1);
  assert.equal(Task.where({ id: 'a', status: 'done' }).count(), 0);
  assert.equal(Task.where({ id: 'nope' }).count(), 0);
  assert.equal(Task.where({ id: { in: ['a', 'd'] } }).update({ priority: 2 }), 2);
  assert.deepEqual(Task.where({ priority: 2 }).ids(), ['a', 'd']);
  assert.equal(Task.where({ id: { in: ['a', 'd', 'x'] } }).delete(), 2);
  assert.deepEqual(Task.all().map((r) => r.id), ['b', 'c', 'e']);
});

// Entities, queries, validation, transactions and snapshots, in Node or a browser.
// Run: node examples/entities.mjs   (ES module: .mjs, or "type": "module" in package.json)
import { createNitro, NitroError } from 'nitro-wasm';

const nitro = await createNitro();            // finds nitro.wasm next to the module
const Project = nitro.entity('Project', { fields: { name: { type: 'string', required: true } } });
const Task = nitro.entity('Task', {
  fields: {
    id:        { type: 'id' },                // generated and time-sortable when absent
    title:     { type: 'string', required: true, minLength: 1, maxLength: 200 },
    status:    { type: 'enum', values: ['open', 'done', 'blocked'], default: 'open' },
    priority:  { type: 'int', min: 1, max: 5, default: 3 },
    due:       { type: 'datetime', optional: true },   // ISO string, Date or epoch ms in; ISO string out
    tags:      { type: 'list', of: 'string', default: [] },
    projectId: { type: 'ref', entity: 'Project', onDelete: 'cascade' },
  },
  indexes: ['status', ['status', 'priority']],   // used by the query planner
  unique: [['projectId', 'title']],
  search: ['title'],                             // full-text index
  validate: (t) => t.status === 'done' && !t.due ? 'a done task needs a due date' : null,
  methods: { complete() { return this.update({ status: 'done', due: new Date() }); } },
  computed: { urgent: (t) => t.priority >= 4 },
});

const p = Project.create({ name: 'Apollo' });
const t = Task.create({ title: 'Write docs', projectId: p.id });
t.priority = 5; t.save();                        // records are instances: save/update/delete/toJSON
Task.insertMany([{ title: 'a', projectId: p.id }, { title: 'b', projectId: p.id }]);   // one crossing, all or nothing
t.complete();

console.log(Task.where({ status: 'open', priority: { gte: 3 } }).orderBy('-priority', 'id').limit(50).all().map((r) => r.title));
console.log(Task.where({ $or: [{ tags: { contains: 'x' } }, { title: { startsWith: 'W' } }] }).count());
console.log(Task.where({ status: 'open' }).update({ priority: 1 }));   // bulk, returns how many
console.log(Task.search('write do', { limit: 20 }).map((r) => r.title));   // ranked; accents and case ignored; prefix on the last word
console.log(Task.related(t, 'projectId').name, Project.children(p, Task, 'projectId').length, t.urgent);

try { Task.create({ title: 'x', priority: 9, projectId: p.id }); }
catch (e) { console.log(e instanceof NitroError, e.code, e.entity, e.field, e.rule); }   // true VALIDATION Task priority max

nitro.transaction(() => { Task.create({ title: 'c', projectId: p.id }); Task.create({ title: 'd', projectId: p.id }); });   // together or not at all
const bytes = nitro.snapshot();  nitro.restore(bytes);     // versioned, checksummed
console.log(Task.count());

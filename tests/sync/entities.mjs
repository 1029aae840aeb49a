// entities.mjs - the schema module the sync tests share between clients and
// the server process (`--schema`), as an app would.
export default {
  Project: {
    fields: {
      id: { type: 'id' },
      name: { type: 'string', required: true, minLength: 1, maxLength: 100 },
    },
  },
  Task: {
    fields: {
      id: { type: 'id' },
      title: { type: 'string', required: true, minLength: 1, maxLength: 200 },
      status: { type: 'enum', values: ['open', 'done', 'blocked'], default: 'open' },
      priority: { type: 'int', min: 1, max: 5, default: 3 },
      done: { type: 'bool', default: false },
      due: { type: 'datetime', optional: true },
      tags: { type: 'list', of: 'string', default: [] },
      meta: { type: 'json', optional: true },
      projectId: { type: 'ref', entity: 'Project', optional: true, onDelete: 'cascade' },
    },
    indexes: ['status'],
    validate: (t) => (t.done && t.status !== 'done' ? 'a done task has status done' : null),
  },
  Note: {
    fields: {
      id: { type: 'id' },
      text: { type: 'string', required: true },
      rev: { type: 'int', default: 0 },
    },
    conflict: 'reject',
  },
  Board: {
    fields: {
      id: { type: 'id' },
      title: { type: 'string', required: true },
    },
    shared: true,
  },
};

// schema.js - the demo's entities, one module for both sides: the page
// defines them with `nitro.define(schema)` and the sync server (scripts/serve.js)
// validates every push with the same definitions (docs/contract.md, Sync).
// Keep it dependency-free: browsers import it as it is.

/** Board columns, in display order (enums sort by declaration order). */
export const STATUSES = ['todo', 'doing', 'blocked', 'done'];

export default {
  Project: {
    fields: {
      id: { type: 'id' },
      name: { type: 'string', required: true, minLength: 1, maxLength: 60 },
      color: { type: 'enum', values: ['slate', 'sky', 'emerald', 'amber', 'rose', 'violet'], default: 'sky' },
    },
    unique: [['name']],
  },
  Task: {
    fields: {
      id: { type: 'id' },
      title: { type: 'string', required: true, minLength: 1, maxLength: 140 },
      notes: { type: 'string', optional: true, maxLength: 2000 },
      status: { type: 'enum', values: STATUSES, default: 'todo' },
      priority: { type: 'int', min: 1, max: 5, default: 3 },
      tags: { type: 'list', of: 'string', default: [] },
      due: { type: 'datetime', optional: true },
      // nullify: deleting a project keeps its tasks, unfiled.
      projectId: { type: 'ref', entity: 'Project', optional: true, onDelete: 'nullify' },
    },
    indexes: ['status', 'projectId', ['status', 'priority']],
    search: ['title', 'notes'],
    validate: (t) => (t.tags.length > 8 ? 'at most 8 tags' : null),
  },
};

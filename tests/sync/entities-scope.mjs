// entities-scope.mjs - the schema of hardening-server-scope.test.js: private
// entities with unique keys and references to a shared entity (cascade,
// nullify, restrict, and through a chain of shared records), a shared entity
// with a unique key.
export default {
  Space: {
    fields: { id: { type: 'id' }, name: { type: 'string', required: true } },
    shared: true,
  },
  Project: {
    fields: { id: { type: 'id' }, name: { type: 'string', required: true }, spaceId: { type: 'ref', entity: 'Space', optional: true, onDelete: 'cascade' } },
    shared: true,
  },
  Label: {
    fields: { id: { type: 'id' }, name: { type: 'string', required: true } },
    unique: [['name']],
    shared: true,
  },
  Tag: {
    fields: { id: { type: 'id' }, name: { type: 'string', required: true } },
    unique: [['name']],
    // the server hands validate functions the client's form of a record
    validate: (t) => (t.id.includes('\u001f') || t.$owner !== undefined ? `server form leaked: ${JSON.stringify(t)}` : null),
  },
  Task: {
    fields: {
      id: { type: 'id' },
      title: { type: 'string', required: true },
      projectId: { type: 'ref', entity: 'Project', optional: true, onDelete: 'cascade' },
      tagId: { type: 'ref', entity: 'Tag', optional: true, onDelete: 'nullify' },
    },
    unique: [['projectId', 'title']],
  },
  Pin: {
    fields: { id: { type: 'id' }, projectId: { type: 'ref', entity: 'Project', optional: true, onDelete: 'nullify' } },
  },
  Mark: {
    fields: { id: { type: 'id' }, projectId: { type: 'ref', entity: 'Project', optional: true, onDelete: 'restrict' } },
  },
};

// The entities, one module for client and server: the client calls
// nitro.define(schema), the sync server validates every push with it.
export default {
  Task: {
    fields: {
      id: { type: 'id' },
      title: { type: 'string', required: true, minLength: 1, maxLength: 200 },
      done: { type: 'bool', default: false },
    },
  },
};

// sync.js - the sync client's stable entry (dist/sync.js): the client lives
// in js/sync-client/ (index.js wires transport, schedule, live, persist, outbox).
export * from './sync-client/index.js';

// Types of the sync client's stable entry (js/sync.js): see js/sync-client/index.d.ts.
export * from './sync-client/index.js';

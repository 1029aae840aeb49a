// Types of the sync client's stable entry (js/sync.js): see js/sync/index.d.ts.
export * from './sync/index.js';

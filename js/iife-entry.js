// iife-entry.js - the script-tag build: defines window.Nitro with the same
// exports as the ESM entry, finding nitro.wasm next to the script file.
import { setDefaultWasm } from './core.js';

const script = typeof document !== 'undefined' ? document.currentScript : null;
if (script && script.src) setDefaultWasm(new URL('nitro.wasm', script.src));

export * from './nitro.js';
// Datastar in the page: `Nitro.connectDatastar(nitro)` (the SSE half is Node-only).
export { connectDatastar, DATASTAR_1, DATASTAR_BETA } from './datastar/client.js';

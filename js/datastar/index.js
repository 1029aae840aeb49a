// datastar.js - `nitro-wasm/datastar`: Datastar on the server (SSE events,
// reading signals) and, in the browser, the bridge to entity events.
export { sse, readSignals } from './sse.js';
export { connectDatastar, DATASTAR_1, DATASTAR_BETA } from './client.js';

export { sse, readSignals } from './datastar-sse.js';

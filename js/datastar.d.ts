export { sse, readSignals } from './datastar-sse.js';
export { connectDatastar, DATASTAR_1, DATASTAR_BETA } from './datastar-client.js';
export type {
  DatastarBridge, ConnectOptions, BindOptions, ClientPatchMode, ClientPatchElementsOptions,
  FragmentOptions, LiveFragment, Unbind, DatastarVersion, DocumentLike,
} from './datastar-client.js';

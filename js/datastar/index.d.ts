export { sse, readSignals } from './sse.js';
export { connectDatastar, DATASTAR_1, DATASTAR_BETA } from './client.js';
export type {
  DatastarBridge, ConnectOptions, BindOptions, ClientPatchMode, ClientPatchElementsOptions,
  FragmentOptions, LiveFragment, Unbind, DatastarVersion, DocumentLike,
} from './client.js';

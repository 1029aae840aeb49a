// Types for js/datastar-client.js: the browser half of nitro-wasm/datastar.
import type { Nitro, Entity, Query } from '../nitro.js';
import type { Template } from '../template.js';

/** `ds.version` for Datastar 1.0.x (1.0.0 .. 1.0.2, RC.6 and later). */
export declare const DATASTAR_1: '1.0';
/** `ds.version` for 1.0.0-beta.11, the newest client on npm. */
export declare const DATASTAR_BETA: '1.0.0-beta.11';
export type DatastarVersion = typeof DATASTAR_1 | typeof DATASTAR_BETA;

/** The parts of a DOM document the bridge uses (a real `document` fits). */
export interface DocumentLike {
  addEventListener(type: string, listener: (event: any) => void): void;
  removeEventListener(type: string, listener: (event: any) => void): void;
  dispatchEvent(event: any): boolean;
}

export interface ConnectOptions {
  /** The Datastar module (`import * as datastar from '<the URL the page loads>'`).
   * Without it, the version is found from the page's events and the module is
   * imported from the page's `<script type="module" src="...datastar...">`. */
  datastar?: object;
  /** Default: `globalThis.document`. */
  document?: DocumentLike;
  /** Signal holding error messages (default `'errors'`): `$errors.<Entity>.<id>.<field>`. */
  errors?: string;
  /** Name of the action in expressions (default `'nitro'`: `@nitro('Task.update', id, patch)`). */
  action?: string;
  /** `false`: do not import the page's Datastar module script. */
  import?: boolean;
}

export interface BindOptions {
  /** Write Datastar changes of `$signal.<id>.<field>` (data-bind inputs,
   * expressions) through the entity. Default false for bind(), true for bindRecord(). */
  writable?: boolean;
}

/** Element patch modes of Datastar 1.0 (also mapped onto beta.11). */
export type ClientPatchMode = 'outer' | 'inner' | 'replace' | 'prepend' | 'append' | 'before' | 'after' | 'remove';

export interface ClientPatchElementsOptions {
  /** CSS selector; needed by every mode but `outer`, `replace` (by id) and `remove` of elements with ids. */
  selector?: string;
  /** Default `outer` (morph by id). */
  mode?: ClientPatchMode;
  useViewTransition?: boolean;
}

export interface FragmentOptions {
  /** Entities whose changes re-render it (objects or names). Default: the
   * entities of the queries in `data`; all entities when there are none. */
  entities?: Array<Entity<any> | string> | Entity<any> | string;
  selector?: string;
  mode?: ClientPatchMode;
  /** Render and patch at once (default true). */
  immediate?: boolean;
}

export interface LiveFragment {
  /** Renders and patches now. */
  refresh(): void;
  /** Stops following changes. */
  stop(): void;
}

/** Stops a binding; the signal keeps its last value. */
export type Unbind = () => void;

export interface DatastarBridge {
  readonly version: DatastarVersion;
  /** Resolves once the `@nitro` action is registered (at once when the module was given). Never rejects. */
  readonly ready: Promise<DatastarBridge>;
  /** Whether `@nitro(...)` is registered with Datastar. */
  readonly actions: boolean;

  /** `$signal` = `{ [id]: record }` of an entity, a query or an entity name,
   * kept current by JSON merge patches holding only what changed. A signal
   * path with a reserved segment (`__proto__`, `constructor`, `prototype`)
   * is NitroError VALIDATION, rule `reserved-key`. */
  bind(signal: string, source: Entity<any> | Query<any> | string, options?: BindOptions): Unbind;
  /** `$signal` = one record; writable by default. */
  bindRecord(signal: string, entity: Entity<any> | string, id: string, options?: BindOptions): Unbind;
  /** Merges a JSON merge patch into the signals (null deletes, on beta.11 too).
   * A patch with a reserved key at any depth is NitroError VALIDATION
   * (rule `reserved-key`) and nothing is sent. */
  patchSignals(patch: Record<string, unknown> | string, options?: { onlyIfMissing?: boolean }): void;
  /** Patches elements as a `datastar-patch-elements` event would. 1.0.x also takes a DOM node. */
  patchElements(html: string | { toString(): string } | object, options?: ClientPatchElementsOptions): void;
  removeElements(selector: string): void;
  /** Renders a template (or a function returning HTML) and morphs it in by
   * id, again after changes, batched to one patch per animation frame. */
  fragment(template: Template | ((data: any) => string | { toString(): string }), data?: unknown, options?: FragmentOptions): LiveFragment;
  /** A Datastar signal's value as plain JSON; undefined when absent or the module is out of reach. */
  readSignal(path: string): unknown;
  /** Sends pending store changes now (otherwise a microtask after the writes). */
  flush(): void;
  /** Ends all bindings and fragments; later calls throw NitroError CLOSED. */
  close(): void;
}

/** Connects a Nitro instance to the Datastar on the page. Throws NitroError
 * `NOT_FOUND` when no Datastar 1.0.x or 1.0.0-beta.11 is listening. */
export declare function connectDatastar(nitro: Nitro, options?: ConnectOptions): DatastarBridge;

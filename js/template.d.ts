// Types for js/template.js: Mustache templates rendered in WebAssembly.
/** The instance core from js/core.js (loader and call helpers). */
type Core = object;

/** Values a template can render: plain data, Dates, arrays, and lazy queries. */
export type TemplateData = unknown;

export interface TemplateOptions {
  /** Partials by name: source strings or compiled templates (their `source`
   * and their own partials are used). */
  partials?: Record<string, string | Template>;
  /** Unknown partials are a compile-time TEMPLATE error instead of rendering empty. */
  strict?: boolean;
}

export declare class Template {
  /** The template source, as given. */
  readonly source: string;
  /** Partial sources the template was compiled with (name -> source). */
  readonly partials: Record<string, string>;
  /** Renders `data` to an HTML string. */
  render(data?: TemplateData): string;
  /** Renders `data` to UTF-8 bytes (a copy), e.g. for an HTTP or SSE body. */
  renderBytes(data?: TemplateData): Uint8Array;
  /** Renders `data` into `element` and keeps it current (live view): query
   * handles in the data follow the store after every committed write, before
   * the next frame; `view.update(data)` takes new plain data (list items keyed
   * by record id or their `id`). Throws TEMPLATE (rule `mount`) for templates
   * a live view cannot patch (render() still renders them). */
  mount(element: Element, data?: TemplateData, options?: MountOptions): View;
  /** Releases the compiled template; later render() calls throw NitroError CLOSED. */
  free(): void;
}

/** Compiles a Mustache template. Throws NitroError `TEMPLATE` (with `line`
 * and `column`) on syntax errors and on tags in an unsafe HTML context. */
export declare function compileTemplate(core: Core, src: string, options?: TemplateOptions): Template;

export interface MountOptions {
  /** Take over the HTML render() produced for the same data (on a server)
   * without touching it; later patches apply to those nodes. HTML that does
   * not match is rendered anew (`view.adopted` tells which happened). */
  adopt?: boolean;
  /** The rendered nodes take the element's place instead of filling it. */
  replace?: boolean;
}

/** A mounted template (Template.mount). */
export declare class View {
  readonly element: Element;
  readonly template: Template;
  /** With `adopt`: true when the existing HTML was taken over as it was. */
  readonly adopted?: boolean;
  /** Stops following the store; the DOM stays as it is. */
  stop(): void;
  /** New data; only what changed is patched. */
  update(data: TemplateData): this;
  /** Applies pending store changes now (they apply by themselves in a microtask). */
  flush(): this;
  /** Delegated listener on the mount element: `handler(event, id, element)`,
   * `id` being the record id (or item `id`) of the innermost list item. Returns off(). */
  on(type: string, selector: string, handler: (event: Event, id: string | undefined, element: Element) => void): () => void;
  /** The key (record id) of the list item `node` belongs to. */
  keyOf(node: Node): string | undefined;
  /** Stops following the store and empties the element. */
  unmount(): void;
}

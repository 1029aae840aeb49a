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
  /** Releases the compiled template; later render() calls throw NitroError CLOSED. */
  free(): void;
}

/** Compiles a Mustache template. Throws NitroError `TEMPLATE` (with `line`
 * and `column`) on syntax errors and on tags in an unsafe HTML context. */
export declare function compileTemplate(core: Core, src: string, options?: TemplateOptions): Template;

// Types for nitro-wasm/html: HTML builders, Page, escaping and Datastar 1.0 helpers.

/** Trusted markup. Builders return it; nested Html is never escaped again. */
export declare class Html {
  constructor(html: string);
  readonly html: string;
  toString(): string;
  toJSON(): string;
}

/** A child: strings are escaped, numbers written, Html kept, arrays/iterables flattened; null, undefined and booleans are skipped. */
export type Child = string | number | bigint | Html | null | undefined | boolean | Iterable<Child>;

/** A JSON value (for data-signals and other object-valued attributes). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * An attribute value. `true` renders a bare attribute (for aria-*, draggable,
 * spellcheck and contenteditable: "true"), `false`/`null`/`undefined` omit it
 * (aria-* etc.: "false"); arrays and plain objects are written as JSON; Dates
 * as ISO strings. URL attributes (href, src, action, formaction, xlink:href...)
 * with a javascript:, vbscript: or non-image data: scheme render as about:invalid.
 * on* event handlers take only a JsExpr (js`...`) or raw() code: anything
 * else throws NitroError TEMPLATE (rule "context").
 */
export type AttrValue = string | number | bigint | boolean | null | undefined | Date | URL | Html | JsExpr | Json[] | { [key: string]: Json };

/** `class` accepts a string, an array (falsy entries skipped, nested arrays and objects allowed) or `{ name: boolean }`. */
export type ClassValue = string | number | null | undefined | false | ClassValue[] | { [name: string]: unknown };

/** `style` accepts a string or `{ camelCase: value }` (kebab-cased; numbers as-is; null/undefined/false skipped). */
export type StyleValue = string | null | undefined | false | { [property: string]: string | number | null | undefined | false };

export interface Attrs {
  class?: ClassValue;
  style?: StyleValue;
  [name: string]: AttrValue | ClassValue | StyleValue;
}

/**
 * An element builder: `Div(attrs?, ...children)`. Leading plain objects are
 * attributes (several merge, later keys win). Void elements throw a TypeError
 * when given children; `Script`/`Style` throw when string content could end the element.
 */
export type ElementBuilder = {
  (attrs: Attrs, ...children: Child[]): Html;
  (...children: Child[]): Html;
};

/** Any element by name, e.g. custom elements: `h('my-tag', { a: 1 }, 'x')`. Invalid tag names throw a TypeError. */
export declare function h(tag: string, attrs: Attrs, ...children: Child[]): Html;
export declare function h(tag: string, ...children: Child[]): Html;

/** Marks a string as trusted markup. */
export declare function raw(html: string | Html | number | null | undefined): Html;

// ---- escaping (same rules as the WASM templates) ----

/** Escapes & < > " ' ` ; NUL and lone surrogates become U+FFFD. null/undefined give ''. */
export declare function escapeHtml(s: unknown): string;
/** Same as escapeHtml: attribute values are always double-quoted. */
export declare function escapeAttr(s: unknown): string;
/** The value unchanged, or 'about:invalid' when its effective scheme is javascript:, vbscript: or data: (other than raster images). */
export declare function safeUrl(s: unknown): string;
/** True for href, src, action, formaction, xlink:href, poster, cite, background, codebase, data, manifest, longdesc, usemap, profile, classid, icon (any case). */
export declare function isUrlAttr(name: string): boolean;
/** True when `name` can be written as an attribute name. */
export declare function isValidAttrName(name: unknown): boolean;
/** URL check (for URL attributes) then escaping: ready to sit between double quotes. */
export declare function attrValue(name: string, value: unknown): string;

// ---- Page ----

/** An asset: its URL, or the URL with its Subresource Integrity hash
 * (`'sha384-...'`; null for none). A plain URL equal to a default gets the
 * default's hash (PAGE_INTEGRITY); any other plain URL loads without one. With
 * an integrity, the tag also gets crossorigin="anonymous". */
export type PageAsset = string | { url: string; integrity?: string | null };

export interface PageAssets {
  datastar?: PageAsset;
  tailwind?: PageAsset;
  lucide?: PageAsset;
  /** A string is the script URL. */
  highlight?: string | { css?: PageAsset; js?: PageAsset };
}

export interface PageOptions {
  title?: string;
  /** Default 'en'; null omits it. */
  lang?: string | null;
  /** `{ name: content }` (og:* keys use `property=`) or an array of attribute objects / Meta() nodes. A viewport given here replaces the default. */
  meta?: Record<string, string | null | undefined | false> | Array<Attrs | Html | null | undefined | false>;
  /** Extra nodes at the end of <head>. */
  head?: Child;
  /** Datastar 1.0.2 from jsDelivr (pinned, with integrity); a string is the URL. */
  datastar?: boolean | PageAsset;
  /** Tailwind browser build 4.3.5 from jsDelivr (pinned, with integrity); a string is the URL. */
  tailwind?: boolean | PageAsset;
  /** Lucide 1.65.0 from unpkg (pinned, with integrity) plus a lucide.createIcons() call at the end of <body>; a string is the URL. */
  lucide?: boolean | PageAsset;
  /** highlight.js 11.11.1 CSS + JS from jsDelivr (pinned, with integrity) plus hljs.highlightAll(); a string is the script URL. */
  highlight?: boolean | string | { css?: PageAsset; js?: PageAsset };
  /** URL (and integrity) overrides for any asset. */
  assets?: PageAssets;
  bodyAttrs?: Attrs;
  htmlAttrs?: Attrs;
}

/** A full `<!DOCTYPE html>` document. Unknown options throw a TypeError. */
export declare function Page(opts: PageOptions, ...body: Child[]): Html;
export declare function Page(...body: Child[]): Html;

/** Default CDN URLs used by Page(). */
export declare const PAGE_ASSETS: Readonly<{
  datastar: string;
  tailwind: string;
  lucide: string;
  highlight: Readonly<{ css: string; js: string }>;
}>;

/** SRI hashes (sha384) of the default assets, by URL. */
export declare const PAGE_INTEGRITY: Readonly<Record<string, string>>;

/** Export name -> tag name for every element builder below. */
export declare const ELEMENT_NAMES: Readonly<Record<string, string>>;

// ---- Datastar 1.0 helpers ----

/** A Datastar expression, or several run as statements (joined with '; '). */
export type Expr = string | JsExpr | Expr[];
/** Modifiers: 'debounce.300ms', ['prevent', 'once'] or { debounce: '300ms', prevent: true, throttle: ['1s', 'noleading'] }. */
export type Modifiers = string | string[] | Record<string, string | number | boolean | null | undefined | Array<string | number>>;

/** `{ 'data-signals': JSON }`; `{ ifMissing: true }` gives `data-signals__ifmissing`. A string is used as-is. */
export declare function signals(obj: Json | string, opts?: { ifMissing?: boolean }): Record<string, string>;
/** `{ 'data-on:<event>[__mods]': expr }`; intersect, interval and signal-patch give `data-on-<event>` as Datastar 1.0 names them. */
export declare function on(event: string, expr: Expr, modifiers?: Modifiers): Record<string, string>;
/** `{ 'data-bind': path }` (a leading $ is dropped). Invalid signal paths throw a TypeError. */
export declare function bind(path: string): Record<string, string>;
export declare function text(expr: Expr): Record<string, string>;
export declare function show(expr: Expr): Record<string, string>;
/** `{ 'data-class': '{name: expr, ...}' }`; string values are expressions, others JS literals. */
export declare function classes(obj: Record<string, unknown> | string): Record<string, string>;
/** `{ 'data-attr': '{name: expr, ...}' }`. */
export declare function attr(obj: Record<string, unknown> | string): Record<string, string>;
/** `{ 'data-computed:<kebab-name>': expr }`: camelCase names are kebab-cased so Datastar restores them. */
export declare function computed(name: string, expr: Expr): Record<string, string>;
export declare function init(expr: Expr): Record<string, string>;
export declare function effect(expr: Expr): Record<string, string>;
/** `{ 'data-indicator': name }`. */
export declare function indicator(name: string): Record<string, string>;

/** `$path`. */
export declare function $(path: string): string;
/** `$path = value`: a string value is an expression; anything else is written with js(). */
export declare function set(path: string, value: unknown): string;
export declare function toggle(path: string): string;
/** Number operands must be finite; a string operand is a (parenthesised) expression. */
export declare function inc(path: string, n?: number | string): string;
export declare function dec(path: string, n?: number | string): string;
export declare function add(path: string, n: number | string): string;
export declare function sub(path: string, n: number | string): string;
export declare function mul(path: string, n: number | string): string;
export declare function div(path: string, n: number | string): string;
/** `@post('url')`, URL quoted as a JS string literal; options are an expression string or a JSON object. */
export declare function post(url: string, options?: string | JsExpr | Json): string;
export declare function get(url: string, options?: string | JsExpr | Json): string;
export declare function put(url: string, options?: string | JsExpr | Json): string;
export declare function patch(url: string, options?: string | JsExpr | Json): string;
/** `@delete('url')`. */
export declare function del(url: string, options?: string | JsExpr | Json): string;
/** A single-quoted JS string literal (quotes, backslashes, newlines, `<`, U+2028/9 escaped). */
export declare function jsString(s: unknown): string;
/**
 * js`@post('/t/${id}')`: an expression whose values sit inside its '...' or "..." strings,
 * encoded as JS string content (jsStringContent). A value in code position must be a JsExpr,
 * a number, a boolean, null or a JSON object/array; anything else, or a value inside a `...`
 * literal or after a '/', throws NitroError TEMPLATE (rule "context").
 */
export declare function js(strings: TemplateStringsArray, ...values: unknown[]): JsExpr;
/** A JS literal via JSON.stringify, with `<` written as \u003c. */
export declare function js(value: unknown): string;
/** Code built by js`...`: accepted by on* attributes, Datastar attributes and the expression helpers. */
export declare class JsExpr {
  constructor(code: string);
  readonly code: string;
  toString(): string;
  toJSON(): string;
}
/** JS string content for a value, the way templates encode {{x}} inside a Datastar string:
 * characters outside [A-Za-z0-9 ,._/:-] as \xNN or \uNNNN. */
export declare function jsStringContent(s: unknown): string;

// ---- elements ----
// Names that would shadow a JS or DOM global carry an `El` suffix:
// HtmlEl, MapEl, ObjectEl, SetEl, SymbolEl, TextEl, ImageEl, OptionEl, AudioEl.

export declare const A: ElementBuilder, Abbr: ElementBuilder, Address: ElementBuilder,
  Area: ElementBuilder, Article: ElementBuilder, Aside: ElementBuilder, AudioEl: ElementBuilder,
  B: ElementBuilder, Base: ElementBuilder, Bdi: ElementBuilder, Bdo: ElementBuilder,
  Blockquote: ElementBuilder, Body: ElementBuilder, Br: ElementBuilder, Button: ElementBuilder,
  Canvas: ElementBuilder, Caption: ElementBuilder, Cite: ElementBuilder, Code: ElementBuilder,
  Col: ElementBuilder, Colgroup: ElementBuilder, Data: ElementBuilder, Datalist: ElementBuilder,
  Dd: ElementBuilder, Del: ElementBuilder, Details: ElementBuilder, Dfn: ElementBuilder,
  Dialog: ElementBuilder, Div: ElementBuilder, Dl: ElementBuilder, Dt: ElementBuilder,
  Em: ElementBuilder, Embed: ElementBuilder, Fieldset: ElementBuilder, Figcaption: ElementBuilder,
  Figure: ElementBuilder, Footer: ElementBuilder, Form: ElementBuilder, H1: ElementBuilder,
  H2: ElementBuilder, H3: ElementBuilder, H4: ElementBuilder, H5: ElementBuilder,
  H6: ElementBuilder, Head: ElementBuilder, Header: ElementBuilder, Hgroup: ElementBuilder,
  Hr: ElementBuilder, HtmlEl: ElementBuilder, I: ElementBuilder, Iframe: ElementBuilder,
  Img: ElementBuilder, Input: ElementBuilder, Ins: ElementBuilder, Kbd: ElementBuilder,
  Label: ElementBuilder, Legend: ElementBuilder, Li: ElementBuilder, Link: ElementBuilder,
  Main: ElementBuilder, MapEl: ElementBuilder, Mark: ElementBuilder, Menu: ElementBuilder,
  Meta: ElementBuilder, Meter: ElementBuilder, Nav: ElementBuilder, Noscript: ElementBuilder,
  ObjectEl: ElementBuilder, Ol: ElementBuilder, Optgroup: ElementBuilder, OptionEl: ElementBuilder,
  Output: ElementBuilder, P: ElementBuilder, Picture: ElementBuilder, Pre: ElementBuilder,
  Progress: ElementBuilder, Q: ElementBuilder, Rp: ElementBuilder, Rt: ElementBuilder,
  Ruby: ElementBuilder, S: ElementBuilder, Samp: ElementBuilder, Script: ElementBuilder,
  Search: ElementBuilder, Section: ElementBuilder, Select: ElementBuilder,
  Selectedcontent: ElementBuilder, Slot: ElementBuilder, Small: ElementBuilder,
  Source: ElementBuilder, Span: ElementBuilder, Strong: ElementBuilder, Style: ElementBuilder,
  Sub: ElementBuilder, Summary: ElementBuilder, Sup: ElementBuilder, Table: ElementBuilder,
  Tbody: ElementBuilder, Td: ElementBuilder, Template: ElementBuilder, Textarea: ElementBuilder,
  Tfoot: ElementBuilder, Th: ElementBuilder, Thead: ElementBuilder, Time: ElementBuilder,
  Title: ElementBuilder, Tr: ElementBuilder, Track: ElementBuilder, U: ElementBuilder,
  Ul: ElementBuilder, Var: ElementBuilder, Video: ElementBuilder, Wbr: ElementBuilder;

export declare const Animate: ElementBuilder, AnimateMotion: ElementBuilder,
  AnimateTransform: ElementBuilder, Circle: ElementBuilder, ClipPath: ElementBuilder,
  Defs: ElementBuilder, Desc: ElementBuilder, Ellipse: ElementBuilder, FeBlend: ElementBuilder,
  FeColorMatrix: ElementBuilder, FeComponentTransfer: ElementBuilder, FeComposite: ElementBuilder,
  FeConvolveMatrix: ElementBuilder, FeDiffuseLighting: ElementBuilder,
  FeDisplacementMap: ElementBuilder, FeDistantLight: ElementBuilder, FeDropShadow: ElementBuilder,
  FeFlood: ElementBuilder, FeFuncA: ElementBuilder, FeFuncB: ElementBuilder,
  FeFuncG: ElementBuilder, FeFuncR: ElementBuilder, FeGaussianBlur: ElementBuilder,
  FeImage: ElementBuilder, FeMerge: ElementBuilder, FeMergeNode: ElementBuilder,
  FeMorphology: ElementBuilder, FeOffset: ElementBuilder, FePointLight: ElementBuilder,
  FeSpecularLighting: ElementBuilder, FeSpotLight: ElementBuilder, FeTile: ElementBuilder,
  FeTurbulence: ElementBuilder, Filter: ElementBuilder, ForeignObject: ElementBuilder,
  G: ElementBuilder, ImageEl: ElementBuilder, Line: ElementBuilder, LinearGradient: ElementBuilder,
  Marker: ElementBuilder, Mask: ElementBuilder, Metadata: ElementBuilder, Mpath: ElementBuilder,
  Path: ElementBuilder, Pattern: ElementBuilder, Polygon: ElementBuilder, Polyline: ElementBuilder,
  RadialGradient: ElementBuilder, Rect: ElementBuilder, SetEl: ElementBuilder, Stop: ElementBuilder,
  Svg: ElementBuilder, Switch: ElementBuilder, SymbolEl: ElementBuilder, TextEl: ElementBuilder,
  TextPath: ElementBuilder, Tspan: ElementBuilder, Use: ElementBuilder, View: ElementBuilder;

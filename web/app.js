// app.js - the demo task board: nitro-wasm entities (web/schema.js) kept in
// WebAssembly memory, lists rendered by WASM templates straight from entity
// queries, Datastar 1.0 signals for every input and label, and sync with the
// reference server (scripts/serve.js mounts it at /sync).
//
// Who does what:
// - index.html declares the signals and binds inputs to them; its forms and
//   buttons write through `@nitro('Task.create' | 'Task.update' | ...)`, the
//   bridge's action, which puts validation errors in $errors.<Entity>.<id>.<field>.
// - This module defines the entities, starts sync, and keeps three things
//   current: the board (a live fragment, re-rendered on entity changes and on
//   filter signal changes), the <select> options, and the $counts / $sync signals.
// - User text reaches the page only through template escaping or data-text;
//   expressions in templates read ids from data-* attributes (`el.dataset`),
//   never from interpolated strings, so no record value becomes code.
import { createNitro } from '/dist/nitro.js';
import { connectDatastar } from '/dist/datastar/index.js';
import schema, { STATUSES } from '/schema.js';
import { syntaxOf, toBetaMarkup, holdForBeta, onSignalPatch } from '/datastar-compat.js';

const LABELS = { todo: 'To do', doing: 'Doing', blocked: 'Blocked', done: 'Done' };
const params = new URLSearchParams(location.search);
const loadStatus = document.getElementById('load-status');

// ---- templates (compiled once, rendered in WASM) -------------------------------------

const CARD = `
<li id="task-{{id}}" data-testid="task-card" data-id="{{id}}" data-status="{{status}}"
  class="group rounded-lg bg-white p-3 shadow-sm ring-1 ring-slate-200 hover:ring-indigo-300">
  <div class="flex items-start gap-2">
    <span data-testid="task-title" class="flex-1 text-sm font-medium leading-snug text-slate-900">{{title}}</span>
    <span data-testid="task-priority" class="prio-{{priority}} shrink-0 rounded px-1.5 text-xs font-semibold">P{{priority}}</span>
  </div>
  {{#notes}}<p class="mt-1 line-clamp-2 text-xs text-slate-500">{{notes}}</p>{{/notes}}
  <div class="mt-2 flex flex-wrap items-center gap-1.5 text-xs">
    {{#projectId}}<span data-testid="task-project" data-project="{{projectId}}"
      class="rounded bg-slate-100 px-1.5 py-0.5 text-slate-600"
      data-text="$projects[el.dataset.project]?.name ?? ''"></span>{{/projectId}}
    {{#tags}}<button type="button" data-testid="task-tag" data-tag="{{.}}"
      class="rounded bg-indigo-50 px-1.5 py-0.5 text-indigo-700 hover:bg-indigo-100"
      data-on:click="$filter.tag = el.dataset.tag">#{{.}}</button>{{/tags}}
    {{#due}}<time data-testid="task-due" datetime="{{due}}" class="text-slate-500"
      data-text="'due ' + new Date(el.dateTime).toLocaleDateString('en', {month: 'short', day: 'numeric', timeZone: 'UTC'})">{{due}}</time>{{/due}}
  </div>
  <div class="mt-2 flex items-center gap-1 opacity-70 group-hover:opacity-100">
    {{#prev}}<button type="button" class="icon-btn" data-testid="move-prev" title="Move to {{prevLabel}}" data-to="{{prev}}"
      data-on:click="@nitro('Task.update', el.closest('[data-id]').dataset.id, {status: el.dataset.to})">◀</button>{{/prev}}
    {{#next}}<button type="button" class="icon-btn" data-testid="move-next" title="Move to {{nextLabel}}" data-to="{{next}}"
      data-on:click="@nitro('Task.update', el.closest('[data-id]').dataset.id, {status: el.dataset.to})">▶</button>{{/next}}
    <button type="button" class="icon-btn ml-auto" data-testid="edit-task" data-edit="{{id}}">Edit</button>
    <button type="button" class="icon-btn hover:text-rose-600" data-testid="delete-task"
      data-on:click="@nitro('Task.delete', el.closest('[data-id]').dataset.id)">Delete</button>
  </div>
</li>`;

const BOARD = `
<div id="board" data-testid="board" class="grid gap-3 {{gridClass}}">
{{#columns}}
  <section id="col-{{key}}" data-testid="column" data-status="{{key}}" class="flex min-h-40 flex-col rounded-xl bg-slate-200/60 p-2">
    <header class="mb-2 flex items-center justify-between px-1">
      <h2 class="text-sm font-semibold text-slate-700">{{label}}</h2>
      <span data-testid="column-count" class="rounded-full bg-white px-2 text-xs font-medium text-slate-600">{{count}}</span>
    </header>
    <ul class="flex flex-col gap-2">
      {{#tasks}}{{>card}}{{/tasks}}
      {{#empty}}<li class="rounded-lg border border-dashed border-slate-300 p-3 text-center text-xs text-slate-400">No tasks</li>{{/empty}}
    </ul>
  </section>
{{/columns}}
</div>`;

const PROJECT_OPTIONS = '<option value="">{{none}}</option>{{#extra}}<option value="_none">No project</option>{{/extra}}'
  + '{{#projects}}<option value="{{id}}">{{name}}</option>{{/projects}}';
const TAG_OPTIONS = '<option value="">All tags</option>{{#tags}}<option value="{{.}}">#{{.}}</option>{{/tags}}';
const PROJECT_CHIPS = '<ul id="project-list" data-testid="project-list" class="flex flex-wrap gap-1.5">'
  + '{{#projects}}<li id="project-{{id}}" data-testid="project-chip" class="chip dot-{{color}}" data-project="{{id}}"'
  + ' data-on:click="$filter.project = el.dataset.project">{{name}}</li>{{/projects}}</ul>';

// ---- start ---------------------------------------------------------------------------

try {
  await main();
} catch (err) {
  console.error(err);
  showStartFailure(err);
}

/** A start failure fills a red banner above the board (and the status line). */
function showStartFailure(err) {
  loadStatus.textContent = 'Failed to start';
  loadStatus.dataset.state = 'error';
  loadStatus.classList.add('text-rose-600', 'font-semibold');
  const banner = document.getElementById('start-error');
  banner.querySelector('[data-testid="start-error-message"]').textContent = err.message;
  banner.hidden = false;
}

async function main() {
  const config = await loadConfig();
  const nitro = await createNitro();
  const { Project, Task } = nitro.define(schema);

  // Sync first: a stored snapshot (IndexedDB) is restored before anything
  // renders. ?persist=0 keeps nothing between reloads.
  const sync = config.sync
    ? nitro.sync({
      url: config.sync,
      entities: [Project, Task],
      live: true,
      storage: params.get('persist') === '0' ? undefined : 'nitro-demo-board',
    })
    : null;
  if (sync) await sync.ready;

  loadStatus.textContent = 'Loading Datastar…';
  const { datastar, syntax, label, release } = await loadDatastar(config);
  const ds = connectDatastar(nitro, { datastar });
  await ds.ready;
  document.getElementById('datastar-version').textContent = label;
  // beta.11 reads the page's attributes now that @nitro exists, in its spelling.
  if (release) await release();
  // The templates are written in 1.0 syntax; beta.11 spells keys with '-'.
  const markup = (src) => (syntax === 'beta' ? toBetaMarkup(src) : src);

  // $projects = { [id]: project }: cards show project names from it.
  ds.bind('projects', Project);

  const card = nitro.template(markup(CARD));
  const board = nitro.template(markup(BOARD), { partials: { card } });
  const projectOptions = nitro.template(PROJECT_OPTIONS);
  const tagOptions = nitro.template(TAG_OPTIONS);
  const projectChips = nitro.template(markup(PROJECT_CHIPS));

  const filter = () => ({ q: '', status: '', project: '', tag: '', ...(ds.readSignal('filter') || {}) });

  // The board: one live fragment. Its data is a function, so each render
  // reads the current filters; the columns hold queries, iterated in WASM.
  let lastCounts = '';
  const boardData = () => {
    const f = filter();
    const where = {};
    if (f.project === '_none') where.projectId = { exists: false };
    else if (f.project) where.projectId = f.project;
    if (f.tag) where.tags = { contains: f.tag };
    const q = String(f.q).trim();
    // Search ranks by relevance; without a query, columns sort by priority.
    const found = q ? Task.search(q, { where, limit: 500 }) : null;
    // The chips count the whole board; "showing" counts what the filters let through.
    const counts = { all: Task.count(), shown: 0 };
    const columns = [];
    STATUSES.forEach((status, i) => {
      const tasks = found
        ? found.filter((t) => t.status === status)
        : Task.where({ ...where, status }).orderBy('-priority', 'due', 'title');
      const count = found ? tasks.length : tasks.count();
      counts[status] = Task.where({ status }).count();
      if (f.status && f.status !== status) return;
      counts.shown += count;
      columns.push({
        key: status, label: LABELS[status], count, tasks, empty: count === 0,
        prev: STATUSES[i - 1] || null, prevLabel: LABELS[STATUSES[i - 1]],
        next: STATUSES[i + 1] || null, nextLabel: LABELS[STATUSES[i + 1]],
      });
    });
    const key = JSON.stringify(counts);
    if (key !== lastCounts) {
      lastCounts = key;
      ds.patchSignals({ counts });
    }
    return { columns, gridClass: columns.length > 1 ? 'md:grid-cols-4' : '' };
  };
  const live = ds.fragment(board, boardData, { entities: [Task, Project] });
  let shownFilter = JSON.stringify(filter());

  // Filters are signals: re-render when one changes (1.0 reports each change
  // as a merge patch of what changed).
  // Typing into a field clears that field's error: the message was about
  // the value it replaces (the next save checks again).
  const FORMS = { draft: ['Task', () => '_new'], newProject: ['Project', () => '_new'], edit: ['Task', () => ds.readSignal('edit.id')] };
  onSignalPatch(document, syntax, (p) => ds.readSignal(p), (d) => {
    if (!d || typeof d !== 'object') return;
    // Compared, not looked up in the patch: beta.11 may name only the leaf
    // ('status' for $filter.status = ...).
    const f = JSON.stringify(filter());
    if (f !== shownFilter) { shownFilter = f; live.refresh(); }
    for (const [signal, [entity, idOf]] of Object.entries(FORMS)) {
      if (!d[signal] || typeof d[signal] !== 'object' || 'id' in d[signal]) continue;
      const id = idOf();
      const errs = id ? ds.readSignal(`errors.${entity}.${id}`) : null;
      if (!errs || typeof errs !== 'object') continue;
      const clear = {};
      for (const field of Object.keys(d[signal])) if (errs[field]) clear[field] = '';
      if (errs._record) clear._record = '';
      if (Object.keys(clear).length) ds.patchSignals({ errors: { [entity]: { [id]: clear } } });
    }
  });

  // <select> options follow the projects and the tags in use.
  const renderOptions = () => {
    const projects = Project.where({}).orderBy('name');
    for (const el of document.querySelectorAll('select.project-options')) {
      const isFilter = el.id === 'filter-project';
      const html = projectOptions.render({ projects, none: isFilter ? 'All projects' : 'No project', extra: isFilter });
      setOptions(ds, el, html);
    }
    const tags = new Set();
    for (const t of Task.all()) for (const tag of t.tags) tags.add(tag);
    setOptions(ds, document.getElementById('filter-tag'), tagOptions.render({ tags: [...tags].sort() }));
  };
  ds.fragment(projectChips, { projects: Project.where({}).orderBy('name') });
  let optionsQueued = false;
  nitro.on('*', (e) => {
    if (!e || (e.entity !== 'Task' && e.entity !== 'Project') || optionsQueued) return;
    optionsQueued = true;
    queueMicrotask(() => { optionsQueued = false; renderOptions(); });
  });
  renderOptions();

  // A new attempt starts clean: errors the bridge set on an earlier attempt
  // (say on title) would otherwise stay while another field fails. Capture
  // phase, so this runs before Datastar's submit handler writes.
  document.addEventListener('submit', (ev) => {
    const blank = (fields) => Object.fromEntries([...fields, '_record'].map((f) => [f, '']));
    if (ev.target.id === 'task-form') ds.patchSignals({ errors: { Task: { _new: blank(Task.fields.map((f) => f.name)) } } });
    else if (ev.target.id === 'project-form') ds.patchSignals({ errors: { Project: { _new: blank(Project.fields.map((f) => f.name)) } } });
    else if (ev.target.id === 'edit-form') {
      const id = ds.readSignal('edit.id');
      if (id) ds.patchSignals({ errors: { Task: { [id]: blank(Task.fields.map((f) => f.name)) } } });
    }
  }, true);

  // Edit: fill $edit from the record (and give its error signals a value, so
  // the editor's data-text expressions have something to follow).
  document.addEventListener('click', (ev) => {
    const button = ev.target.closest?.('[data-edit]');
    if (!button) return;
    const t = Task.get(button.dataset.edit);
    if (!t) return;
    const blank = { title: '', notes: '', status: '', priority: '', tags: '', due: '', projectId: '', _record: '' };
    ds.patchSignals({
      errors: { Task: { [t.id]: blank } },
      edit: {
        id: t.id, title: t.title, notes: t.notes ?? '', status: t.status, priority: t.priority,
        tags: t.tags.join(', '), due: t.due ? t.due.slice(0, 10) : '', projectId: t.projectId ?? '',
      },
    });
    setTimeout(() => document.getElementById('edit-title').focus(), 0);
  });
  // A task deleted elsewhere (another window) closes its editor.
  nitro.on('Task.deleted', (e) => { if (ds.readSignal('edit.id') === e.id) ds.patchSignals({ edit: { id: '' } }); });

  // Sync status: $sync = { online, pending, error }, after every exchange and
  // write, and once a second (a network failure has no event of its own).
  if (sync) {
    let shown = '';
    const showStatus = () => {
      const s = sync.status;
      const next = { online: s.online, pending: s.pending, error: s.error ? String(s.error.message ?? s.error) : '' };
      const key = JSON.stringify(next);
      if (key !== shown) { shown = key; ds.patchSignals({ sync: next }); }
    };
    nitro.on('sync.*', () => queueMicrotask(showStatus));
    nitro.on('Task.*', () => queueMicrotask(showStatus));
    nitro.on('Project.*', () => queueMicrotask(showStatus));
    setInterval(showStatus, 1000);
    document.getElementById('sync-now').addEventListener('click', () => {
      sync.push().then(() => sync.pull()).catch(() => {}).finally(showStatus);
    });
    // The browser saying it is back: try at once rather than at the next backoff.
    window.addEventListener('online', () => sync.push().catch(() => {}));
    sync.start();
    showStatus();
  } else {
    document.getElementById('sync-now').disabled = true;
  }

  // Handy from the devtools console (and the tests): nitroDemo.Task.all()
  window.nitroDemo = { nitro, Task, Project, sync, ds, config };
  document.getElementById('add-task').disabled = false;
  loadStatus.textContent = sync ? 'Ready' : 'Ready (no sync server)';
  loadStatus.classList.remove('text-rose-600', 'font-semibold');
  loadStatus.dataset.state = 'ready';
}

/** Where Datastar and the sync server are: what the dev server says
 * (/demo-config.json: the npm Datastar client unless told otherwise), and
 * ?datastar=<url> / ?sync=0 over that. */
async function loadConfig() {
  let config = { datastar: '/datastar-npm.js', version: null, fallback: null, sync: null };
  try {
    const res = await fetch('/demo-config.json', { cache: 'no-store' });
    if (res.ok) config = { ...config, ...(await res.json()) };
  } catch { /* a plain static server: defaults */ }
  if (params.get('datastar')) config = { ...config, datastar: params.get('datastar'), version: null };
  if (params.get('sync') === '0') config.sync = null;
  if (!config.datastar) throw new Error(`no Datastar client: ${config.error}`);
  return config;
}

/** Imports the configured Datastar, else (unreachable CDN) the fallback at
 * once; says which syntax it reads. */
async function loadDatastar(config) {
  const tried = [];
  for (const c of [config, config.fallback].filter(Boolean)) {
    const syntax = syntaxOf(c.datastar, c.version);
    const release = syntax === 'beta' ? holdForBeta(document.documentElement) : null;
    try {
      const datastar = await import(c.datastar);
      const version = c.version || (syntax === 'beta' ? '1.0.0-beta' : '1.0');
      const where = c.datastar.startsWith('/') ? 'served locally' : new URL(c.datastar).host;
      const label = `Datastar ${version} (${where}${tried.length ? `; ${tried[0]} failed to load` : ''})`;
      return { datastar, syntax, label, release };
    } catch (err) {
      console.error(`Datastar from ${c.datastar} did not load:`, err);
      tried.push(c.datastar);
      if (c === config && config.fallback) continue;
      throw new Error(`Datastar did not load from ${tried.join(', then ')}: ${err.message}`);
    }
  }
  throw new Error('no Datastar client configured');
}

/** Replaces a select's options through the bridge and keeps its value: the
 * selected option is the bound signal's, which new options must not reset. */
function setOptions(ds, select, html) {
  const value = select.value;
  ds.patchElements(html, { selector: `#${select.id}`, mode: 'inner' });
  if ([...select.options].some((o) => o.value === value)) select.value = value;
}

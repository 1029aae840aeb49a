// app.js - the demo task page. It uses the script-tag build (window.Nitro,
// loaded by index.html before this module runs) and plain DOM code.
//
// How it is put together: the form and the row buttons only call the entity
// API (Task.create / update / delete); the list redraws when the store emits
// Task.created / updated / deleted. Every failure is a NitroError shown next
// to what caused it; user text only ever reaches the page via textContent.

const $ = (id) => document.getElementById(id);
const STATUSES = ['open', 'done', 'blocked'];

const loadStatus = $('load-status');
const form = $('task-form');
const formError = $('form-error');
const list = $('task-list');
const listError = $('list-error');

if (!window.Nitro) {
  fail(new Error('window.Nitro is missing: /dist/nitro.iife.js did not load (run bash build.sh)'));
}
const { createNitro, NitroError } = window.Nitro;

let nitro, Task;
try {
  nitro = await createNitro();
  Task = nitro.entity('Task', {
    fields: {
      title: { type: 'string', required: true, minLength: 1, maxLength: 200 },
      status: { type: 'enum', values: STATUSES, default: 'open' },
      priority: { type: 'int', min: 1, max: 5, default: 3 },
      tags: { type: 'list', of: 'string', default: [] },
      due: { type: 'datetime', optional: true },
    },
  });
} catch (err) {
  fail(err);
}

// Handy from the devtools console: nitroDemo.Task.all()
window.nitroDemo = { nitro, Task };

// ---- events drive the list -----------------------------------------------------

let renderQueued = false;
function scheduleRender() {
  // One redraw per burst of events (e.g. several writes in one task).
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => {
    renderQueued = false;
    render();
  });
}

for (const type of ['created', 'updated', 'deleted']) {
  nitro.on(`Task.${type}`, (e) => {
    logEvent(e);
    scheduleRender();
  });
}
// A throwing event handler lands here instead of breaking the write.
nitro.on('error', (err) => console.error('nitro event handler failed:', err));

// ---- the new-task form ---------------------------------------------------------

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  clearError(formError, form);
  try {
    Task.create(readNewTask());
    form.reset();
    form.elements.title.focus();
  } catch (err) {
    showError(formError, err, form);
  }
});

// Typing in a field that was flagged clears its flag.
form.addEventListener('input', (ev) => ev.target.removeAttribute('aria-invalid'));

/** Reads the form into entity data. Conversions stay lenient on purpose:
 * the entity schema decides what is valid and says why. */
function readNewTask() {
  const f = form.elements;
  const data = { title: f.title.value.trim(), status: f.status.value };
  const priority = readNumber(f.priority.value);
  if (priority !== undefined) data.priority = priority;
  const tags = f.tags.value.split(',').map((t) => t.trim()).filter(Boolean);
  if (tags.length) data.tags = tags;
  // datetime-local gives local wall-clock time without a zone; Date reads it as local.
  if (f.due.value) data.due = new Date(f.due.value);
  return data;
}

/** '' means "use the default"; a number-looking string becomes a number;
 * anything else is passed through so the schema reports a type error. */
function readNumber(text) {
  const s = text.trim();
  if (s === '') return undefined;
  return /^[+-]?\d+(\.\d+)?$/.test(s) ? Number(s) : s;
}

// ---- the list ------------------------------------------------------------------

let editingId = null;

function render() {
  const tasks = Task.all();
  $('task-count').textContent = String(tasks.length);
  $('task-count-label').textContent = tasks.length === 1 ? 'task' : 'tasks';
  $('empty').hidden = tasks.length > 0;

  // Keep an open editor as it is (typed text, error shown) across redraws.
  const openEditor = editingId && $(rowId(editingId));
  const rows = tasks.map((t) => {
    if (t.id !== editingId) return viewRow(t);
    return openEditor && openEditor.classList.contains('editing') ? openEditor : editRow(t);
  });
  if (editingId && !tasks.some((t) => t.id === editingId)) editingId = null;
  list.replaceChildren(...rows);
}

const rowId = (id) => `task-${id}`;

function viewRow(t) {
  const li = el('li', { id: rowId(t.id), class: 'task', 'data-testid': 'task-row', 'data-id': t.id, 'data-status': t.status });

  const main = el('div', { class: 'task-main' });
  main.append(el('span', { class: 'task-title', 'data-testid': 'task-title' }, t.title));

  const meta = el('div', { class: 'task-meta' });
  meta.append(
    el('span', { class: 'badge status', 'data-status': t.status, 'data-testid': 'task-status' }, t.status),
    el('span', { class: 'badge priority', 'data-testid': 'task-priority', title: 'priority' }, `P${t.priority ?? '–'}`),
  );
  for (const tag of t.tags) meta.append(el('span', { class: 'tag' }, `#${tag}`));
  if (t.due) {
    const due = new Date(t.due);
    const overdue = t.status !== 'done' && due.getTime() < Date.now();
    meta.append(el('span', { class: overdue ? 'due overdue' : 'due', 'data-testid': 'task-due' },
      `due ${due.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}`));
  }
  main.append(meta);

  const actions = el('div', { class: 'task-actions' });
  const edit = el('button', { type: 'button', 'data-testid': 'edit-task' }, 'Edit');
  edit.setAttribute('aria-label', `Edit "${t.title}"`);
  edit.addEventListener('click', () => {
    editingId = t.id;
    render();
    $(rowId(t.id))?.querySelector('input')?.focus();
  });
  const del = el('button', { type: 'button', class: 'danger', 'data-testid': 'delete-task' }, 'Delete');
  del.setAttribute('aria-label', `Delete "${t.title}"`);
  del.addEventListener('click', () => {
    clearError(listError);
    try {
      Task.delete(t.id);
    } catch (err) {
      showError(listError, err);
    }
  });
  actions.append(edit, del);

  li.append(main, actions);
  return li;
}

function editRow(t) {
  const li = el('li', { id: rowId(t.id), class: 'task editing', 'data-testid': 'task-row', 'data-id': t.id });
  const f = el('form', { class: 'edit-form', 'data-testid': 'edit-form', novalidate: '', autocomplete: 'off' });

  const title = el('input', { name: 'title', type: 'text', 'data-testid': 'edit-title', 'aria-label': 'Title' });
  title.value = t.title;
  const status = el('select', { name: 'status', 'data-testid': 'edit-status', 'aria-label': 'Status' });
  for (const s of STATUSES) status.append(el('option', { value: s }, s));
  status.value = t.status;
  const priority = el('input', { name: 'priority', type: 'text', inputmode: 'numeric', class: 'narrow', 'data-testid': 'edit-priority', 'aria-label': 'Priority' });
  priority.value = String(t.priority);

  const save = el('button', { type: 'submit', class: 'primary', 'data-testid': 'save-task' }, 'Save');
  const cancel = el('button', { type: 'button', 'data-testid': 'cancel-edit' }, 'Cancel');
  const error = el('p', { class: 'error', role: 'alert', 'data-testid': 'row-error' });
  error.hidden = true;

  const close = () => {
    editingId = null;
    render();
  };
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearError(error, f);
    const patch = { title: title.value.trim(), status: status.value };
    const p = readNumber(priority.value);
    if (p !== undefined) patch.priority = p; // left blank: keep the current priority
    try {
      Task.update(t.id, patch);
      close();
    } catch (err) {
      showError(error, err, f);
    }
  });
  f.addEventListener('input', (ev) => ev.target.removeAttribute('aria-invalid'));
  f.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') close(); });
  cancel.addEventListener('click', close);

  f.append(title, status, priority, save, cancel);
  li.append(f, error);
  return li;
}

// ---- recent events -------------------------------------------------------------

function logEvent(e) {
  const log = $('activity');
  let text = `${e.type} "${e.record.title}"`;
  if (e.type === 'Task.updated') text += `: ${Object.keys(e.changes).join(', ')}`;
  const item = el('li', {}, text);
  item.dataset.type = e.type;
  log.prepend(item);
  while (log.children.length > 6) log.lastElementChild.remove();
}

// ---- errors --------------------------------------------------------------------

/** Shows an error where the user acted: the message reads like
 * "Task.priority: must be <= 5 (got 9)", with the code and rule beside it,
 * and the offending input is flagged. */
function showError(target, err, formEl) {
  target.replaceChildren(el('span', { class: 'error-message', 'data-testid': 'error-message' }, err.message));
  if (err instanceof NitroError) {
    target.dataset.code = err.code;
    target.dataset.field = err.field ?? '';
    target.dataset.rule = err.rule ?? '';
    const detail = err.rule ? `${err.code} · rule: ${err.rule}` : err.code;
    target.append(' ', el('small', { class: 'error-detail', 'data-testid': 'error-detail' }, detail));
    const input = err.field && formEl?.elements.namedItem(err.field);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  } else {
    // Not a validation problem: a bug worth seeing in the console too.
    console.error(err);
  }
  target.hidden = false;
}

function clearError(target, formEl) {
  target.hidden = true;
  target.replaceChildren();
  delete target.dataset.code;
  delete target.dataset.field;
  delete target.dataset.rule;
  formEl?.querySelectorAll('[aria-invalid]').forEach((n) => n.removeAttribute('aria-invalid'));
}

function fail(err) {
  loadStatus.textContent = `Could not start: ${err.message}`;
  loadStatus.dataset.state = 'error';
  throw err;
}

/** Creates an element; text becomes a text node, never markup. */
function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- start ---------------------------------------------------------------------

render();
$('add-task').disabled = false;
loadStatus.textContent = 'Ready';
loadStatus.dataset.state = 'ready';

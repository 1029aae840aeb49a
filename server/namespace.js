// namespace.js - each user's own namespace in the sync server's store
// (docs/sync.md, "Users, sharing, tokens"): in the store a private record's
// id is `owner SEP id`, its references to private records are prefixed
// alike, and a hidden OWNER field (on entities with unique keys) leads every
// unique key of a private entity, so ids and unique keys hold per user and
// no write of one user can meet (and so detect) a private record of
// another. Shared entities keep plain ids and global keys. User ids hold no
// control characters (auth.js), so `owner SEP id` splits back
// unambiguously. Records leave the server in the clients' form (outward):
// plain id and references, no OWNER. authority.js keeps the state.

export const SEP = '\u001f';
export const OWNER = '$owner';

export function key(entity, id) { return `${entity}\u0000${id}`; }

/** The owner part of an internal private id. */
export function ownerOf(iid) { return iid.slice(0, iid.indexOf(SEP)); }

const refsTo = (def, name) => Object.entries((def && def.fields) || {}).filter(([, f]) => f && f.type === 'ref' && f.entity === name);

/** Plain error details for a result, in the user's terms: no OWNER field,
 * no namespace prefix. */
export function errorJson(err, user) {
  const e = { code: err && err.code ? err.code : 'SYNC', message: err && err.message ? String(err.message) : String(err) };
  for (const k of ['entity', 'field', 'rule']) if (err && err[k] !== undefined) e[k] = err[k];
  if (typeof e.field === 'string' && e.field.includes(OWNER)) {
    e.field = e.field.split(',').filter((f) => f !== OWNER).join(',');
    e.message = e.message.replaceAll(`${OWNER},`, '');
  }
  if (user) e.message = e.message.replaceAll(`${user}${SEP}`, '');
  return e;
}

/** The refusal of a delete that references hold back. */
export function restrictError(m, kind) {
  const idName = kind ? kind.idName : 'id';
  return { code: 'CONFLICT', message: `${m.entity}.${idName}: other records still refer to ${m.entity} ${JSON.stringify(m.id)}; it was not deleted`, entity: m.entity, field: idName, rule: 'restrict' };
}

/** The namespace plan of a schema: `kinds` maps entity -> { shared, owned,
 * idName, refs (reference fields to private entities), validated,
 * reachesValidated }. Throws for a schema the server cannot serve. */
export class Namespaces {
  constructor(schema) {
    this.schema = schema;
    this.kinds = new Map();
    this.#plan();
  }

  /** Checks the schema and plans each entity's namespace. */
  #plan() {
    const isShared = (name) => !!this.schema[name] && this.schema[name].shared === true;
    const kinds = new Map();
    for (const [name, def] of Object.entries(this.schema)) {
      const fields = Object.entries((def && def.fields) || {});
      const shared = def.shared === true;
      const refs = fields.filter(([, f]) => f && f.type === 'ref' && !isShared(f.entity)).map(([n]) => n);
      if (shared && refs.length) {
        const f = fields.find(([n]) => n === refs[0]);
        throw new Error(`nitro-wasm server: ${name}.${refs[0]}: a shared entity cannot reference the private entity ${f[1].entity} (each user has their own ${f[1].entity} records; make it shared or drop the reference)`);
      }
      if (!shared && fields.some(([n]) => n === OWNER)) throw new Error(`nitro-wasm server: ${name}.${OWNER}: the field name is reserved by the sync server`);
      // the OWNER field only where unique keys need it (the id tells the owner too)
      const owned = !shared && Array.isArray(def.unique) && def.unique.length > 0;
      kinds.set(name, { shared, owned, idName: (fields.find(([, f]) => f && f.type === 'id') || ['id'])[0], refs, validated: typeof def.validate === 'function' });
    }
    for (const [name, kind] of kinds) kind.reachesValidated = this.#reachesValidated(kinds, name, new Set());
    this.kinds = kinds;
  }

  /** Whether deleting a record of `name` may, through onDelete effects,
   * save a record whose entity has a validate function. */
  #reachesValidated(kinds, name, seen) {
    if (seen.has(name)) return false;
    seen.add(name);
    for (const [child, def] of Object.entries(this.schema)) {
      for (const [, f] of refsTo(def, name)) {
        if (f.onDelete === 'nullify' && kinds.get(child).validated) return true;
        if (f.onDelete === 'cascade' && (kinds.get(child).validated || this.#reachesValidated(kinds, child, seen))) return true;
      }
    }
    return false;
  }

  /** The definition the server's store uses for `name`. */
  serverDef(name, def) {
    const kind = this.kinds.get(name);
    if (kind.shared) return def;
    const out = { ...def };
    if (kind.owned) {
      out.fields = { ...def.fields, [OWNER]: { type: 'string', optional: true } };
      out.unique = def.unique.map((u) => [OWNER, ...(Array.isArray(u) ? u : [u])]);
    }
    if (typeof def.validate === 'function') out.validate = (rec) => def.validate(this.clientForm(name, rec));
    return out;
  }

  /** The store's id of `user`'s record `id` of `entity`. */
  iid(entity, user, id) {
    const kind = this.kinds.get(entity);
    return !kind || kind.shared ? id : `${user}${SEP}${id}`;
  }

  /** A stored row's id in the store (its namespace is its scope). */
  rowIid(row) {
    const kind = this.kinds.get(row.entity);
    return !kind || kind.shared ? row.id : `${row.owner}${SEP}${row.id}`;
  }

  /** Client-form fields of `owner` -> the store's form (ids and private
   * references prefixed, OWNER set when `withId`). Changes `fields` in place:
   * callers pass a fresh object. */
  inward(entity, owner, fields, withId) {
    const kind = this.kinds.get(entity);
    if (!kind || kind.shared) return fields;
    for (const f of kind.refs) if (typeof fields[f] === 'string') fields[f] = `${owner}${SEP}${fields[f]}`;
    if (withId) {
      fields[kind.idName] = `${owner}${SEP}${fields[kind.idName]}`;
      if (kind.owned) fields[OWNER] = owner;
    }
    return fields;
  }

  /** A record as the store holds it -> the clients' form, as a fresh plain
   * object. */
  outward(entity, rec) {
    return this.clientForm(entity, typeof rec.toJSON === 'function' ? rec.toJSON() : { ...rec });
  }

  /** Turns `rec` (a fresh object or record: changed in place) into the
   * clients' form: plain id and references. OWNER stays as an undefined
   * property (JSON leaves it out; a delete would cost every later
   * JSON.stringify of the object). */
  clientForm(entity, rec) {
    const kind = this.kinds.get(entity);
    if (!kind || kind.shared) return rec;
    const iid = rec[kind.idName];
    const cut = iid.indexOf(SEP) + 1;
    const prefix = iid.slice(0, cut);
    rec[kind.idName] = iid.slice(cut);
    for (const f of kind.refs) {
      const v = rec[f];
      if (typeof v === 'string' && v.startsWith(prefix)) rec[f] = v.slice(cut);
    }
    if (kind.owned) rec[OWNER] = undefined;
    return rec;
  }
}

// errors.js - the one error type every nitro-wasm failure is thrown as.

/** A failure of a nitro-wasm call. `code` is one of the codes in docs/contract.md, Errors;
 * `entity`, `field`, `rule`, `index`, `line`, `column` are set where they apply. */
export class NitroError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.name = 'NitroError';
    this.code = code;
    for (const k of ['entity', 'field', 'rule', 'index', 'line', 'column', 'cause', 'details']) {
      if (details[k] !== undefined && details[k] !== null && details[k] !== '') this[k] = details[k];
    }
  }
}

/** Builds the message the way docs/contract.md (Errors) shows it: `Task.priority: must be <= 5 (got 9)`. */
export function errorMessage({ entity, field, index, message }) {
  let where = entity ? (field ? `${entity}.${field}` : entity) : field || '';
  if (index !== undefined && index !== null && index >= 0) where = where ? `${where} [${index}]` : `[${index}]`;
  return where ? `${where}: ${message}` : message;
}

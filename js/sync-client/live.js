// live.js - the server's live stream (GET {url}/events, server-sent
// events read from a fetch body so it can carry the Authorization header):
// opening it, splitting it into event blocks, and reading one block.
import { NitroError } from '../errors.js';
import { retryAfterMs } from './transport.js';

/** Opens the stream; rejects with a SYNC error for a non-2xx answer. */
export async function openStream(transport, lastEventId, signal) {
  const headers = await transport.headersFor({ accept: 'text/event-stream' });
  if (lastEventId !== null) headers['last-event-id'] = lastEventId;
  const res = await transport.fetch(`${transport.base}/events`, { headers, signal });
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    const err = new NitroError('SYNC', `GET /events: HTTP ${res.status}`, { rule: 'http' });
    err.status = res.status;
    err.retryAfter = retryAfterMs(res.headers.get('retry-after'));
    throw err;
  }
  return res;
}

/** Reads the stream to its end: alive() per chunk, onBlock(text) per event. */
export async function readEvents(res, alive, onBlock) {
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    alive();
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      onBlock(buf.slice(0, i));
      buf = buf.slice(i + 2);
    }
  }
}

/** One event block as { event, data, id } (id null when the block has none). */
export function parseEvent(block) {
  let event = 'message', data = '', id = null;
  for (const raw of block.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line[0] === ':') continue;
    const c = line.indexOf(':');
    const name = c < 0 ? line : line.slice(0, c);
    let value = c < 0 ? '' : line.slice(c + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (name === 'event') event = value;
    else if (name === 'data') data = data ? `${data}\n${value}` : value;
    else if (name === 'id') id = value;
  }
  return { event, data, id };
}

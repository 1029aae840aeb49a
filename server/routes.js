// routes.js - the sync server's HTTP surface on Fastify: three routes under
// the base path (POST push, GET pull, GET events as Server-Sent Events),
// CORS (@fastify/cors), the body limit (Fastify's bodyLimit), rate-limited
// authentication (@fastify/rate-limit over ratelimit.js's buckets) and one
// JSON error shape for every refusal. Any request input is checked; bad
// input gets a 4xx JSON error and never reaches the state.
import http from 'node:http';
import Fastify from 'fastify';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { HttpError, errorResponse } from './errors.js';
import { checkPush } from './push.js';
import { pullQuery, pullPage } from './pull.js';
import { BucketStore } from './ratelimit.js';

const ROUTES = { '/push': 'POST', '/pull': 'GET', '/events': 'GET' };
const JSON_TYPE = 'application/json; charset=utf-8';

function sendJson(reply, status, text, headers = {}) {
  return reply.code(status).headers({ ...headers, 'content-type': JSON_TYPE, 'cache-control': 'no-store' }).send(text);
}

/** Fastify's own refusals in the server's terms. */
function asHttpError(err, maxBody) {
  if (err instanceof HttpError) return err;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new HttpError(413, `request body over ${maxBody} bytes`, { rule: 'size' });
  if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError) {
    return new HttpError(400, 'the body is not valid JSON', { rule: 'json' });
  }
  if (err.statusCode >= 400 && err.statusCode < 500) return new HttpError(err.statusCode, err.message, { rule: 'format' });
  return null;
}

const DRAIN_MS = 5000;

/** Reads and drops the rest of a refused request body (at most `cap` bytes,
 * for at most DRAIN_MS), so a client still writing it reads the answer
 * instead of a reset connection. Resolves true when the body ended. */
function drainBody(raw, cap) {
  if (raw.complete || raw.readableEnded || raw.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (ended) => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', onEnd).off('error', onFail).off('close', onFail);
      resolve(ended);
    };
    const onData = (chunk) => { seen += chunk.length; if (seen > cap) finish(false); };
    const onEnd = () => finish(true);
    const onFail = () => finish(false);
    const timer = setTimeout(onFail, DRAIN_MS);
    raw.on('data', onData).once('end', onEnd).once('error', onFail).once('close', onFail);
    raw.resume();
  });
}

/** Fastify with the body limit, one JSON parser for every content type,
 * CORS, and the error and not-found answers. `serve` is its router. */
async function makeFastify(ctx) {
  const { o, log } = ctx;
  let serve;
  const app = Fastify({
    bodyLimit: o.maxBody,
    logger: false,
    // the server is ours: index.js puts health, draining and the base path first
    serverFactory(handler) {
      serve = handler;
      return http.createServer((req, res) => ctx.handler(req, res));
    },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, text, done) => {
    try { done(null, JSON.parse(text)); } catch { done(new HttpError(400, 'the body is not valid JSON', { rule: 'json' })); }
  });
  if (o.cors) {
    await app.register(cors, {
      origin: o.cors === true ? '*' : String(o.cors),
      allowedHeaders: ['authorization', 'content-type', 'last-event-id'],
      methods: ['GET', 'POST', 'OPTIONS'],
      maxAge: 600,
      exposedHeaders: ['x-nitro-checkpoint', 'x-nitro-more'],
    });
  }
  app.setErrorHandler(async (err, request, reply) => {
    const known = asHttpError(err, o.maxBody);
    if (!known) log('nitro-wasm server: unexpected error:', err);
    const e = errorResponse(known || err);
    if (known && known.status === 413 && !(await drainBody(request.raw, 8 * o.maxBody))) e.headers = { ...e.headers, connection: 'close' };
    return sendJson(reply, e.status, e.body, e.headers);
  });
  app.setNotFoundHandler((request) => {
    const path = request.url.split('?')[0];
    const want = ROUTES[path.slice(ctx.base.length)];
    if (want) throw new HttpError(405, `${path.slice(ctx.base.length)} takes ${want}`);
    throw new HttpError(404, `no route ${path}`);
  });
  return { app, serve: (req, res) => serve(req, res) };
}

/** An onRequest hook that sets request.user: refusals are 401, and an
 * address that failed too often is 429 before its token is even checked
 * (@fastify/rate-limit on token buckets). */
async function authenticator(app, ctx) {
  const { o } = ctx;
  await app.register(rateLimit, { global: false, store: BucketStore });
  const limit = app.createRateLimit({
    max: Math.max(1, o.authLimit),
    timeWindow: o.authWindow,
    keyGenerator: (request) => String(ctx.addressOf(request.raw)),
  });
  return async function authenticate(request) {
    const address = String(ctx.addressOf(request.raw));
    if (o.authLimit > 0) {
      const status = await limit(request, { increment: false });
      if (status.isExceeded) throw new HttpError(429, 'too many failed authentications from this address; retry later', { rule: 'rate', retryAfter: Math.max(1, status.ttlInSeconds) });
    }
    try {
      request.user = await ctx.identify(request.raw, request.query);
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 401) throw err;
      const blocked = o.authLimit > 0 && (await limit(request)).isExceeded;
      ctx.authLog('authentication refused', { status: 401, user: err.extra.user ?? null, reason: err.message, address, path: request.url.split('?')[0], ...(blocked ? { blocked: true } : {}) });
      throw err;
    }
  };
}

/**
 * The Fastify app of a sync server: `ctx` holds the options (`o`), the
 * server's parts (storage, pusher, live, identify, handler) and
 * `committed()`. Resolves with { app, serve(req, res), server }.
 */
export async function createApp(ctx) {
  const { o } = ctx;
  const { app, serve } = await makeFastify(ctx);
  const onRequest = await authenticator(app, ctx);
  app.post(`${ctx.base}/push`, { onRequest }, async (request, reply) => {
    const done = checkPush(request.body, o.maxBatch);
    const plan = await ctx.pusher.push(request.user, request.body, done);
    return sendJson(reply, 200, JSON.stringify({ results: plan.results, head: plan.head }));
  });
  app.get(`${ctx.base}/pull`, { onRequest }, async (request, reply) => {
    const q = pullQuery(request.query, o);
    const page = await pullPage(ctx.storage, request.user, q, ctx.committed());
    // checkpoint and more also as headers: a client can ask for the next
    // page before it has read this one
    return sendJson(reply, 200, page.json, { 'x-nitro-checkpoint': String(page.checkpoint), 'x-nitro-more': page.more ? '1' : '0' });
  });
  app.get(`${ctx.base}/events`, { onRequest }, (request, reply) => {
    reply.hijack();
    ctx.live.open(reply.raw, request.user, ctx.committed(), request.headers['last-event-id'], reply.getHeaders());
  });
  await app.ready();
  return { app, serve, server: app.server };
}

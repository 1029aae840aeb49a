// postgres.js - a throwaway PostgreSQL server for tests and the load test.
//
// Starts a real cluster from Debian's `postgresql` package in a temporary
// directory (initdb + pg_ctl, unix socket inside that directory, TCP on
// 127.0.0.1 only) and removes it again on stop() or process exit. PostgreSQL
// refuses to run as root, so as root the cluster belongs to the `postgres`
// user the package creates and the binaries run through `runuser`.
//
//   const pg = await startPostgres();   // throws PostgresUnavailable
//   pg.url                             // postgres://postgres@127.0.0.1:PORT/postgres
//   await pg.createDatabase('t1')      // a fresh database, returns its URL
//   await pg.stop()
//
// Tests call `postgresOrSkip()` instead: it resolves to `{ pg }` or to
// `{ skip: '<one clear reason>' }` for node:test's skip option.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export class PostgresUnavailable extends Error {
  constructor(message) { super(message); this.name = 'PostgresUnavailable'; }
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The newest /usr/lib/postgresql/<v>/bin holding initdb, or PG_BIN. */
function findBinDir() {
  if (process.env.PG_BIN && fs.existsSync(path.join(process.env.PG_BIN, 'initdb'))) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  let versions = [];
  try { versions = fs.readdirSync(root); } catch { /* not installed */ }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = path.join(root, v, 'bin');
    if (fs.existsSync(path.join(bin, 'initdb')) && fs.existsSync(path.join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

/** Installs Debian's postgresql when we are root and apt-get exists; one
 * installer at a time (test files run in parallel). */
function installPostgres() {
  if (!isRoot || !fs.existsSync('/usr/bin/apt-get')) return false;
  const script = 'flock /tmp/nitro-apt.lock sh -c "test -d /usr/lib/postgresql || '
    + '(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)"';
  const r = spawnSync('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  return r.status === 0;
}

/** Runs a PostgreSQL binary as the cluster owner; resolves with its output. */
function runAsOwner(bin, args, { allowFail = false } = {}) {
  const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 || allowFail) resolve({ code, out });
      else reject(new Error(`${path.basename(bin)} ${args.join(' ')} exited ${code}: ${out.trim()}`));
    });
  });
}

/** A TCP port that was free a moment ago (PostgreSQL cannot take port 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const running = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that crashes, or a run stopped with Ctrl-C or `timeout`, must not
  // leave postmasters behind: stop them synchronously, then die of the same
  // signal as we would have without this handler.
  const stopAll = () => { for (const c of running) c.stopSync(); };
  process.on('exit', stopAll);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      stopAll();
      process.kill(process.pid, sig);
    });
  }
}

/**
 * Starts a fresh cluster.
 * @param {object} [opts]
 * @param {boolean} [opts.durable=false] keep fsync/synchronous_commit on (the
 *   load test measures real commits); tests turn them off for speed.
 * @param {number} [opts.maxConnections=200]
 * @param {string[]} [opts.settings] extra `name=value` server settings
 * @returns {Promise<{ url: string, port: number, dir: string, createDatabase(name: string): Promise<string>, stop(): Promise<void> }>}
 */
export async function startPostgres(opts = {}) {
  let bin = findBinDir();
  if (!bin && installPostgres()) bin = findBinDir();
  if (!bin) {
    throw new PostgresUnavailable(isRoot
      ? 'PostgreSQL is not installed and `apt-get install postgresql` failed'
      : 'PostgreSQL is not installed (run: sudo apt-get install -y postgresql)');
  }
  if (isRoot && spawnSync('id', ['-u', 'postgres']).status !== 0) {
    throw new PostgresUnavailable('no `postgres` user to own the cluster (PostgreSQL refuses to run as root)');
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nitro-pg-'));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  if (isRoot) spawnSync('chown', ['postgres:', dir]);

  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    // --no-sync: a test cluster need not survive a power cut while it is made.
    await runAsOwner(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8',
      '--locale=C', '--no-sync', '--no-instructions']);
  } catch (err) {
    remove();
    throw new PostgresUnavailable(`initdb failed: ${err.message}`);
  }

  const durable = !!opts.durable;
  const settings = [
    'listen_addresses=127.0.0.1',
    `unix_socket_directories=${dir}`,
    `max_connections=${opts.maxConnections || 200}`,
    'shared_buffers=128MB',
    ...(durable ? [] : ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off']),
    ...(opts.settings || []),
  ];
  let port;
  let started = false;
  let lastErr;
  // The port may be taken between freePort() and bind(): try a few.
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    port = await freePort();
    const o = [`-p ${port}`, ...settings.map((s) => `-c ${s}`)].join(' ');
    const r = await runAsOwner(path.join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', o, '-w', '-t', '60', 'start'], { allowFail: true });
    if (r.code === 0) started = true;
    else lastErr = `${r.out.trim()}\n${safeRead(log).slice(-2000)}`;
  }
  if (!started) {
    remove();
    throw new PostgresUnavailable(`pg_ctl start failed: ${lastErr}`);
  }

  const pgCtl = path.join(bin, 'pg_ctl');
  const psql = path.join(bin, 'psql');
  let stopped = false;
  const cluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    log,
    /** Creates an empty database and returns its URL. */
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      await runAsOwner(psql, ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1',
        '-qc', `CREATE DATABASE ${name}`]);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    /** Immediate shutdown (nothing here is worth a checkpoint), then rm -rf. */
    async stop() {
      if (stopped) return;
      stopped = true;
      running.delete(cluster);
      await runAsOwner(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop'], { allowFail: true });
      remove();
    },
    stopSync() {
      if (stopped) return;
      stopped = true;
      const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
      if (isRoot) spawnSync('runuser', ['-u', 'postgres', '--', pgCtl, ...args], { stdio: 'ignore' });
      else spawnSync(pgCtl, args, { stdio: 'ignore' });
      remove();
    },
  };
  running.add(cluster);
  installExitHook();
  return cluster;
}

function safeRead(file) {
  try { return fs.readFileSync(file, 'utf8'); } catch { return ''; }
}

/**
 * For tests: `{ pg }` when a cluster started, `{ skip }` with one clear
 * message when PostgreSQL cannot be had here. Other failures throw.
 */
export async function postgresOrSkip(opts) {
  try {
    return { pg: await startPostgres(opts) };
  } catch (err) {
    if (err instanceof PostgresUnavailable) return { skip: `PostgreSQL unavailable: ${err.message}` };
    throw err;
  }
}

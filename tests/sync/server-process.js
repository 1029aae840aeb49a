// server-process.js - runs the reference sync server as a real process
// (`node server/cli.js serve --port 0 ...`) and reads the URL it prints.
import { spawn } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const schemaPath = path.join(repoRoot, 'tests', 'sync', 'entities.mjs');
export const SECRET = 'sync-tests-secret';

const live = new Set();
process.on('exit', () => { for (const p of live) p.kill('SIGKILL'); });

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(prefix = 'nitro-sync-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Starts a server process on 127.0.0.1:0.
 * @returns {Promise<{ url: string, port: number, proc: import('node:child_process').ChildProcess,
 *   output: () => string, kill: (signal?: string) => Promise<void>, stop: () => Promise<void> }>}
 */
export async function startServerProcess({ db, secret = SECRET, extra = [] } = {}) {
  const args = ['server/cli.js', 'serve', '--port', '0', '--db', db, '--schema', schemaPath, '--exit-with-stdin', ...extra];
  const env = { ...process.env, NITRO_SECRET: secret };
  const proc = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(proc);
  let out = '';
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => { live.delete(proc); resolve({ code, signal }); }));
  proc.stderr.on('data', (d) => { out += d; });
  const url = await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    exited.then(({ code, signal }) => reject(new Error(`server exited (${code ?? signal}) before listening:\n${out}`)));
  });
  return {
    url,
    port: Number(new URL(url).port),
    proc,
    output: () => out,
    async kill(signal = 'SIGKILL') { proc.kill(signal); await exited; },
    async stop() { proc.stdin.end(); proc.kill('SIGTERM'); await exited; },
  };
}

// server.js - starts the dev server (scripts/serve.js) for browser tests on a
// free port of 127.0.0.1 and hands back its origin and a close function.
import { startServer } from '../../scripts/serve.js';

/**
 * @param {object} [options] passed to startServer (port is always 0)
 * @returns {Promise<{ server: import('node:http').Server, origin: string, close: () => Promise<void> }>}
 */
export async function startTestServer(options = {}) {
  const server = await startServer({ ...options, port: 0, host: '127.0.0.1' });
  const origin = `http://127.0.0.1:${server.address().port}`;
  const close = () => new Promise((resolve) => {
    server.close(() => resolve());
    // Chromium keeps connections alive; without this close() waits for them.
    server.closeAllConnections();
  });
  return { server, origin, close };
}

/** The Chromium flags every browser test uses (Debian's Chromium, headless, no network chatter). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** Launches Debian's Chromium through playwright-core. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

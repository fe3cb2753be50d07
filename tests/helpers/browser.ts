import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; browser tests never download a browser of their own. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** False on a machine without Chromium: browser suites skip there (CI installs it, see .ci/run). */
export const hasChromium = existsSync(CHROMIUM_PATH);

export const NO_CHROMIUM = `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium fonts-noto-cjk fonts-thai-tlwg to run the browser tests)`;

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface ServedApp {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  close(): Promise<void>;
}

/** Serves a fetch handler (the service's Hono app) over real HTTP on a free local port, as `npm start` does. */
export async function serveOverHttp(fetch: (request: Request) => Response | Promise<Response>): Promise<ServedApp> {
  let server: Server | undefined;
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(info.port)) as Server;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // A browser's keep-alive connections would otherwise hold close() open.
        server?.closeAllConnections();
        server?.close(() => resolve());
      }),
  };
}

export interface OpenBrowser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * Chromium with a fresh profile in a temporary directory (a persistent context: Chromium takes the
 * profile as --user-data-dir), removed again on close so runs never share cookies or caches.
 */
export async function openChromium(opts: { viewport?: { width: number; height: number }; locale?: string } = {}): Promise<OpenBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'dealer-chat-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: opts.viewport ?? { width: 1280, height: 800 },
      locale: opts.locale ?? 'en-US',
      timezoneId: 'Asia/Taipei',
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      // Chromium's helper processes may still be letting go of files for a moment after it exits.
      await rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

/** Width and height from a PNG's header, to check a screenshot is the size it claims to be. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.byteLength < 24 || signature.some((b, i) => png[i] !== b)) throw new Error('not a PNG');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

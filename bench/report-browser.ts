/**
 * Opens a report page in headless Chromium, as a user's browser would: Debian's `chromium`
 * (apt), driven by playwright-core; no browser is ever downloaded. Records what the page did
 * (console errors, network requests besides the page itself) and when it was drawn. Used by the
 * browser tests and by bench/report-screenshot.ts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { Page } from 'playwright-core';

/** The browser: LAYERQ_CHROMIUM, else Debian's chromium. */
export const CHROMIUM = process.env['LAYERQ_CHROMIUM'] ?? '/usr/bin/chromium';

/** Quiet, offline, sandbox-less (containers run as root) and without GPU. */
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export interface PageVisit<T> {
  /** What `inspect` returned. */
  result: T;
  /** Console messages of type error, and uncaught page errors. */
  errors: string[];
  /** URLs requested other than the page's own file. */
  requests: string[];
  /** Milliseconds from navigation start to the second animation frame after the load event: the page drawn. */
  renderMs: number;
}

export interface VisitOptions {
  colorScheme?: 'light' | 'dark';
  width?: number;
  /** Full-page PNG written here after inspection. */
  screenshot?: string;
}

export function chromiumAvailable(): boolean {
  return fs.existsSync(CHROMIUM);
}

/** Loads `htmlFile` in a fresh headless Chromium (a new profile folder each time), runs `inspect`, closes. */
export async function visitPage<T>(htmlFile: string, inspect: (page: Page) => Promise<T>, o: VisitOptions = {}): Promise<PageVisit<T>> {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: o.width ?? 1000, height: 800 },
    colorScheme: o.colorScheme ?? 'light',
    offline: true,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const url = pathToFileURL(path.resolve(htmlFile)).href;
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => r.url() !== url && requests.push(r.url()));
    await page.goto(url, { waitUntil: 'load' });
    // A string: this project compiles without the DOM library.
    const renderMs = await page.evaluate<number>('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now()))))');
    const result = await inspect(page);
    if (o.screenshot) {
      fs.mkdirSync(path.dirname(o.screenshot), { recursive: true });
      await page.screenshot({ path: o.screenshot, fullPage: true });
    }
    return { result, errors, requests, renderMs };
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** Runs the built CLI (dist/) as a user would and captures its output. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO } from '../helpers';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Set when the process was killed by a signal (a crash, or the timeout). */
  signal?: string;
}

/** Asserts a failed run printed exactly one line on stderr, matching `pattern`, and no internal error. */
export function expectOneLineError(r: CliRun, pattern: RegExp): void {
  expect(r.signal).toBeUndefined();
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toMatch(/internal error/);
  expect(lines[0]).toMatch(pattern);
}

export interface CliOptions {
  cwd?: string;
  /** Run as this user (root only): permission errors cannot be provoked as root. */
  uid?: number;
  env?: Record<string, string>;
}

export function layerq(args: string[], timeoutMs = 240000, options: CliOptions = {}): CliRun {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin', 'layerq.js'), ...args], {
    cwd: options.cwd ?? REPO,
    encoding: 'utf8',
    timeout: timeoutMs,
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
    env: { ...process.env, ...(options.env ?? {}) },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ...(r.signal ? { signal: r.signal } : {}) };
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-cli-'));
}

/** An ImageFolder tree with `classes` folders, copying `perClass` images of the shared val split into each. */
export function makeImageFolder(root: string, classes: string[], perClass: number, sourceDir: string): void {
  const sources = fs.readdirSync(sourceDir).sort().slice(0, perClass);
  for (const c of classes) {
    fs.mkdirSync(path.join(root, c), { recursive: true });
    for (const s of sources) fs.copyFileSync(path.join(sourceDir, s), path.join(root, c, s));
  }
}

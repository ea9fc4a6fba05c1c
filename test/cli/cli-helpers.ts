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
}

export function layerq(args: string[], timeoutMs = 240000): CliRun {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin', 'layerq.js'), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
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

/**
 * Where layerq's own files are: the checkout when run from source or dist/, node_modules/layerq
 * (or a global prefix) when installed from the npm package.
 */
import * as fs from 'fs';
import * as path from 'path';

function readPackageJson(dir: string): { name?: string; version?: string } | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

let root: string | undefined;

/** The folder holding layerq's package.json. */
export function packageRoot(): string {
  if (root) return root;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (readPackageJson(dir)?.name === 'layerq') return (root = dir);
    if (path.dirname(dir) === dir) return (root = path.resolve(__dirname, '..'));
  }
}

export function packageVersion(): string {
  return readPackageJson(packageRoot())?.version ?? '0.0.0';
}

/** True when layerq runs from an installed package (inside a node_modules folder), not a checkout. */
export function isInstalledPackage(dir: string = packageRoot()): boolean {
  return path.basename(path.dirname(dir)) === 'node_modules' || path.basename(path.dirname(path.dirname(dir))) === 'node_modules';
}

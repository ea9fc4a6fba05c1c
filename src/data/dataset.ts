/**
 * Labelled image pools: ImageFolder trees (`root/<class>/<image>`) and list files
 * (`path,label` lines). Listing reads directories only; images are opened when decoded.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LayerqError } from '../errors';
import { comparePaths } from './select';

/** One labelled image: an absolute path and a class index into `Dataset.classes`. */
export interface Sample {
  path: string;
  label: number;
}

/** A pool of labelled images. `samples` is sorted by class, then by path, for folder trees. */
export interface Dataset {
  /** Absolute folder the sample paths were resolved against. */
  root: string;
  /** Class names; a label is an index into this list. */
  classes: string[];
  samples: Sample[];
}

/**
 * File name endings counted as images: those sharp 0.35 decodes from files (JPEG, PNG, WebP,
 * TIFF, AVIF). BMP and GIF files are left out: sharp has no BMP decoder, and GIF is rare for
 * classification data and may be animated. Other files in a class folder are ignored.
 */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.tif', '.tiff', '.avif'];

/** True when `file` ends with one of IMAGE_EXTENSIONS (case-insensitive). */
export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

const EXTENSION_LIST = 'jpg, jpeg, png, webp, tif, tiff, avif; bmp and gif are not supported';

async function statOrNull(p: string): Promise<fs.Stats | null> {
  try {
    return await fs.promises.stat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LayerqError('BAD_DATA', `cannot read ${p}: ${(e as Error).message}`);
  }
}

async function checkFolder(root: string, what: string): Promise<void> {
  const st = await statOrNull(root);
  if (st === null) throw new LayerqError('BAD_DATA', `${what} not found: ${root}`);
  if (!st.isDirectory()) throw new LayerqError('BAD_DATA', `${what} is not a folder: ${root}`);
}

/** Entries of a folder that are folders (following symlinks), hidden ones left out, sorted. */
async function listEntries(dir: string, want: 'dir' | 'file'): Promise<string[]> {
  const entries = await fs.promises.readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      const st = await statOrNull(path.join(dir, e.name));
      isDir = st?.isDirectory() ?? false;
      isFile = st?.isFile() ?? false;
    }
    if (want === 'dir' ? isDir : isFile) out.push(e.name);
  }
  return out.sort(comparePaths);
}

/**
 * Lists an ImageFolder tree `root/<class>/<image>`: classes are the sorted (code-unit order,
 * as torchvision) names of the non-hidden subfolders, label = index in that list; samples are
 * the image files directly in each class folder (see IMAGE_EXTENSIONS), sorted by class then
 * file name. Throws BAD_DATA when root is missing or not a folder, has no class folders, or a
 * class folder holds no images.
 */
export async function listImageFolder(root: string): Promise<Dataset> {
  const abs = path.resolve(root);
  await checkFolder(abs, 'data folder');
  const classes = await listEntries(abs, 'dir');
  if (classes.length === 0) {
    throw new LayerqError('BAD_DATA', `data folder has no class folders (expected ${abs}/<class>/<image>): ${abs}`);
  }
  const samples: Sample[] = [];
  for (let label = 0; label < classes.length; label++) {
    const dir = path.join(abs, classes[label] as string);
    const images = (await listEntries(dir, 'file')).filter(isImageFile);
    if (images.length === 0) {
      throw new LayerqError('BAD_DATA', `class folder '${classes[label]}' has no images (${EXTENSION_LIST}): ${dir}`);
    }
    for (const name of images) samples.push({ path: path.join(dir, name), label });
  }
  return { root: abs, classes, samples };
}

export interface ListFileOptions {
  /** The class list labels refer to. Without it: the sorted distinct names, or for integer
   * labels the names '0'..'max'. */
  classes?: readonly string[];
}

/** Splits one list line into [path, label] at the last comma; strips quotes and spaces. */
function splitLine(line: string): [string, string] | null {
  const comma = line.lastIndexOf(',');
  if (comma < 0) return null;
  const unquote = (s: string): string => {
    const t = s.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t;
  };
  const file = unquote(line.slice(0, comma));
  const label = unquote(line.slice(comma + 1));
  return file === '' || label === '' ? null : [file, label];
}

const INTEGER = /^\d+$/;

/**
 * Reads a list file of `path,label` lines (text or CSV). Paths are relative to the list file's
 * folder (absolute paths are kept); a label is a class name or an integer class index. Blank
 * lines, `#` comments and a `path,label` header are skipped. With `options.classes`, a label
 * that names a class maps to it, else an integer label is an index into it. Without it, labels
 * must be all names (classes = sorted distinct names) or all integers (classes '0'..'max').
 * Files are not opened here: a missing image is skipped when decoded. Throws BAD_DATA for a
 * missing file, a malformed line or unknown label (with its line number), or no entries.
 */
export async function readListFile(file: string, options: ListFileOptions = {}): Promise<Dataset> {
  const abs = path.resolve(file);
  const st = await statOrNull(abs);
  if (st === null) throw new LayerqError('BAD_DATA', `list file not found: ${abs}`);
  if (!st.isFile()) throw new LayerqError('BAD_DATA', `list file is not a file: ${abs}`);
  const root = path.dirname(abs);
  const text = await fs.promises.readFile(abs, 'utf8');
  const rows: { path: string; label: string; line: number }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\uFEFF/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = splitLine(line);
    const where = `${abs}:${i + 1}`;
    if (fields === null) {
      throw new LayerqError('BAD_DATA', `${where}: expected 'path,label' but found '${line}'`);
    }
    if (rows.length === 0 && fields[0].toLowerCase() === 'path' && fields[1].toLowerCase() === 'label') return;
    rows.push({ path: path.resolve(root, fields[0]), label: fields[1], line: i + 1 });
  });
  if (rows.length === 0) throw new LayerqError('BAD_DATA', `list file has no entries: ${abs}`);

  let classes: string[];
  if (options.classes !== undefined) {
    classes = [...options.classes];
  } else if (rows.every((r) => INTEGER.test(r.label))) {
    const max = Math.max(...rows.map((r) => Number(r.label)));
    classes = Array.from({ length: max + 1 }, (_, i) => String(i));
  } else {
    const mixed = rows.find((r) => INTEGER.test(r.label));
    if (mixed !== undefined) {
      throw new LayerqError(
        'BAD_DATA',
        `${abs}:${mixed.line}: label '${mixed.label}' is an index but other labels are names; pass the class list`,
      );
    }
    classes = [...new Set(rows.map((r) => r.label))].sort(comparePaths);
  }
  const byName = new Map(classes.map((c, i) => [c, i]));
  const samples = rows.map((r): Sample => {
    let label = byName.get(r.label);
    if (label === undefined && INTEGER.test(r.label) && Number(r.label) < classes.length) label = Number(r.label);
    if (label === undefined) {
      throw new LayerqError(
        'BAD_DATA',
        `${abs}:${r.line}: unknown label '${r.label}' (classes: ${classes.length <= 12 ? classes.join(', ') : `${classes.length} classes`})`,
      );
    }
    return { path: r.path, label };
  });
  return { root, classes, samples };
}

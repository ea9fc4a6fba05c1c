/**
 * Labelled image pools: ImageFolder trees (`root/<class>/<image>`) and list files
 * (`path,label` lines). Listing reads directories only; images are opened when decoded.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LayerqError, escapeText, fsError, quote } from '../errors';
import { FILE_LIMITS } from '../util/limits';
import { UnreadableFileError, readRegularFile } from '../util/read-file';
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

async function statOrNull(p: string, what: string): Promise<fs.Stats | null> {
  try {
    return await fs.promises.stat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fsError(e, 'BAD_DATA', `cannot read ${what}`, p);
  }
}

async function checkFolder(root: string, what: string): Promise<void> {
  const st = await statOrNull(root, what);
  if (st === null) throw new LayerqError('BAD_DATA', `${what} not found: ${quote(root, 200)}`);
  if (!st.isDirectory()) throw new LayerqError('BAD_DATA', `${what} is not a folder: ${quote(root, 200)}`);
}

/**
 * Entries of a folder, hidden ones left out, sorted: with `want` 'dir' the folders (following
 * symlinks), with 'file' everything else. Non-regular entries (a FIFO, a device, a dangling link
 * or a symlink loop) are listed as files on purpose: decoding refuses to read them and reports
 * each as skipped, so they are counted instead of hanging or aborting the run.
 */
async function listEntries(dir: string, want: 'dir' | 'file', what: string): Promise<string[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw fsError(e, 'BAD_DATA', `cannot read ${what}`, dir);
  }
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    let isDir = e.isDirectory();
    if (e.isSymbolicLink()) {
      try {
        isDir = (await fs.promises.stat(path.join(dir, e.name))).isDirectory();
      } catch {
        isDir = false; // dangling, a loop, or unreadable: a "file" that decoding will skip
      }
    }
    if (want === 'dir' ? isDir : !isDir) out.push(e.name);
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
  const classes = await listEntries(abs, 'dir', 'the data folder');
  if (classes.length === 0) {
    throw new LayerqError('BAD_DATA', `data folder has no class folders (expected <folder>/<class>/<image>): ${quote(abs, 200)}`);
  }
  const samples: Sample[] = [];
  for (let label = 0; label < classes.length; label++) {
    const dir = path.join(abs, classes[label] as string);
    const images = (await listEntries(dir, 'file', `class folder ${quote(classes[label] as string, 80)}`)).filter(isImageFile);
    if (images.length === 0) {
      throw new LayerqError('BAD_DATA', `class folder ${quote(classes[label] as string, 80)} has no images (${EXTENSION_LIST}): ${quote(dir, 200)}`);
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
  const shown = quote(abs, 200);
  const st = await statOrNull(abs, 'the list file');
  if (st === null) throw new LayerqError('BAD_DATA', `list file not found: ${shown}`);
  if (!st.isFile()) throw new LayerqError('BAD_DATA', `list file is not a file: ${shown}`);
  const root = path.dirname(abs);
  let text: string;
  try {
    text = (await readRegularFile(abs, FILE_LIMITS.listFile)).toString('utf8');
  } catch (e) {
    if (e instanceof UnreadableFileError) throw new LayerqError('BAD_DATA', `list file ${shown}: ${e.reason}`);
    throw fsError(e, 'BAD_DATA', 'cannot read the list file', abs);
  }
  const rows: { path: string; label: string; line: number }[] = [];
  text.split(/\r\n|\n|\r/).forEach((raw, i) => {
    const line = raw.replace(/^\uFEFF/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = splitLine(line);
    const where = `${escapeText(abs, 200)}:${i + 1}`;
    if (fields === null) {
      throw new LayerqError('BAD_DATA', `${where}: expected 'path,label' but found ${quote(line, 80)}`);
    }
    if (rows.length === 0 && fields[0].toLowerCase() === 'path' && fields[1].toLowerCase() === 'label') return;
    rows.push({ path: path.resolve(root, fields[0]), label: fields[1], line: i + 1 });
  });
  if (rows.length === 0) throw new LayerqError('BAD_DATA', `list file has no entries: ${shown}`);

  let classes: string[];
  if (options.classes !== undefined) {
    classes = [...options.classes];
  } else if (rows.every((r) => INTEGER.test(r.label))) {
    const max = Math.max(...rows.map((r) => Number(r.label)));
    classes = Array.from({ length: max + 1 }, (_, i) => String(i));
  } else {
    // Labels of both kinds: the odd one out is the likely mistake, so the error names the
    // first line of the minority kind (an index among names, or a name among indices).
    const indices = rows.filter((r) => INTEGER.test(r.label));
    if (indices.length > 0) {
      const names = rows.filter((r) => !INTEGER.test(r.label));
      const odd = indices.length <= names.length ? indices[0]! : names[0]!;
      const kind = odd === indices[0] ? 'an index but other labels are names' : 'a name but other labels are indices';
      throw new LayerqError(
        'BAD_DATA',
        `${escapeText(abs, 200)}:${odd.line}: label ${quote(odd.label, 80)} is ${kind} (${indices.length} indices, ${names.length} names); pass the class list or fix the line`,
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
        `${escapeText(abs, 200)}:${r.line}: unknown label ${quote(r.label, 80)} (classes: ${classes.length <= 12 ? classes.map((c) => escapeText(c, 40)).join(', ') : `${classes.length} classes`})`,
      );
    }
    return { path: r.path, label };
  });
  return { root, classes, samples };
}

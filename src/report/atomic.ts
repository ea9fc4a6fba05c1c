/**
 * Crash-safe, link-safe file writing. layerq often runs as root in folders other people can
 * write to, so a file is never written through a name someone could have planted: the data goes
 * to a new temporary file created exclusively (O_CREAT | O_EXCL | O_NOFOLLOW: a symlink or any
 * existing file at that name makes the open fail) under an unpredictable name in the same
 * folder, is flushed, and is renamed over the target. rename(2) replaces a link at the target
 * itself, never the file it points to, so the output is always a regular file of ours.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

/** A name no other process can guess: `.<base>.<96 random bits>.tmp` beside `file`. */
export function temporaryName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${crypto.randomBytes(12).toString('hex')}.tmp`);
}

/**
 * Creates `file` exclusively (never through a link) and writes all of `data` to it, flushed. A
 * failed write removes the file it created; a failed open created nothing and removes nothing.
 */
export function writeNewFile(file: string, data: Uint8Array | string, mode = 0o644): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  let written = false;
  try {
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    fs.fsyncSync(fd);
    written = true;
  } finally {
    fs.closeSync(fd);
    if (!written) fs.rmSync(file, { force: true });
  }
}

/**
 * Writes `data` to `file` through an exclusively created temporary file with an unpredictable
 * name in the same folder and a rename, so a crash leaves either the old file or the new one,
 * never half of one, and a symlink planted at any name layerq uses is never followed. Creates
 * the folder.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = temporaryName(file);
  writeNewFile(tmp, data);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

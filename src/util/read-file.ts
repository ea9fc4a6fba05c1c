/**
 * Reading files a user names (models, list files, images): only regular files, of bounded size.
 * A FIFO, a device, a socket or a folder is refused before it is opened (a FIFO would block the
 * read forever, /dev/zero would grow a buffer without end); the open is non-blocking and the
 * opened file is checked again (fstat), so a name swapped in between cannot slip through; and
 * no more than the size seen is read, so a file that grows meanwhile cannot either.
 */
import * as fs from 'fs';
import { formatBytes } from './limits';

const { O_RDONLY, O_NONBLOCK, O_NOCTTY } = fs.constants;

/** Why a path is not a regular file layerq reads ("a FIFO", "a folder"), or undefined if it is. */
export function notRegular(st: fs.Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** A read refused for what the file is (not a file-system error): its reason in `message`. */
export class UnreadableFileError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(reason);
    this.name = 'UnreadableFileError';
  }
}

function check(file: string, st: fs.Stats, maxBytes: number): void {
  const kind = notRegular(st);
  if (kind !== undefined) throw new UnreadableFileError(file, `not a regular file (${kind})`);
  if (st.size > maxBytes) {
    throw new UnreadableFileError(file, `file too large (${formatBytes(st.size)}; the limit is ${formatBytes(maxBytes)})`);
  }
}

/**
 * The bytes of `file`, which must be a regular file of at most `maxBytes` bytes. Throws
 * UnreadableFileError for another kind of file or a larger one, and Node's file-system errors
 * (ENOENT, EACCES, ELOOP...) as they are.
 */
export function readRegularFileSync(file: string, maxBytes: number): Buffer {
  check(file, fs.statSync(file), maxBytes);
  const fd = fs.openSync(file, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  try {
    const st = fs.fstatSync(fd);
    check(file, st, maxBytes);
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = fs.readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === buf.length ? buf : buf.subarray(0, off);
  } finally {
    fs.closeSync(fd);
  }
}

/** `readRegularFileSync`, off the event loop. */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer> {
  check(file, await fs.promises.stat(file), maxBytes);
  const handle = await fs.promises.open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  try {
    const st = await handle.stat();
    check(file, st, maxBytes);
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await handle.read(buf, off, buf.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === buf.length ? buf : buf.subarray(0, off);
  } finally {
    await handle.close();
  }
}

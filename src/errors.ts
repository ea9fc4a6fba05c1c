/**
 * Errors as data: every failure a user can cause is a LayerqError with a stable `code`; the CLI
 * prints its message on one line and exits non-zero, never a stack trace.
 */
export type ErrorCode =
  | 'BAD_ARGUMENT' // an option or parameter out of range
  | 'FILE_NOT_FOUND'
  | 'BAD_MODEL' // not ONNX, or malformed
  | 'UNSUPPORTED_OP'
  | 'BAD_MODEL_INPUT' // input is not an image tensor [N, C, H, W]
  | 'BAD_DATA' // data folder missing, empty, empty class, bad list file
  | 'CLASS_MISMATCH' // dataset classes differ from model outputs, or between the two pools
  | 'BAD_OUTPUT' // the output folder cannot be created or written
  | 'OUTPUT_BUSY' // another live layerq process holds the output folder's lock
  | 'TOO_LARGE' // a size declared by a file or an option exceeds the data or the memory budget
  | 'NO_NATIVE_ADDON' // no prebuilt addon fits this platform and none was built from source
  | 'NATIVE_BUILD' // layerq build-native: tools missing or the build failed
  | 'INTERNAL';

export class LayerqError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'LayerqError';
    this.code = code;
  }
}

/**
 * Text from a file or a user shown safely inside a message: single-quoted, control and other
 * non-printable characters escaped (`\x1b` -> `\u001b`, so a message can never drive the
 * terminal or break the one-line rule), and cut to `max` characters with the count left out.
 */
export function quote(text: string, max = 120): string {
  return `'${escapeText(text, max)}'`;
}

/** `quote` without the quotes. */
export function escapeText(text: string, max = 120): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  // eslint-disable-next-line no-control-regex
  const escaped = cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return text.length > max ? `${escaped}... (${text.length - max} more characters)` : escaped;
}

/** "Expected <what> for <name> but received <value>" (sharp style). */
export function badArgument(name: string, expected: string, received: unknown): LayerqError {
  const shown = typeof received === 'string' ? quote(received) : String(received);
  return new LayerqError('BAD_ARGUMENT', `Expected ${expected} for ${name} but received ${shown}`);
}

/** Error numbers a user's files, folders or permissions cause (not a bug in layerq). */
const USER_ERRNOS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  EEXIST: 'already exists',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'name too long',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  ENOTEMPTY: 'folder not empty',
  EXDEV: 'not on the same file system',
  EBUSY: 'resource busy',
  ETXTBSY: 'text file busy',
  ENXIO: 'no such device',
  ENODEV: 'no such device',
};

/** The errno code of a Node file-system error that a user causes, else undefined. */
export function userErrno(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code in USER_ERRNOS ? code : undefined;
}

/**
 * A Node file-system error as a one-line LayerqError: "<what> <path>: permission denied (EACCES)".
 * Anything that is not a file-system error a user causes is returned as it was.
 */
export function fsError(e: unknown, code: ErrorCode, what: string, file: string): unknown {
  if (e instanceof LayerqError) return e;
  const errno = userErrno(e);
  if (errno === undefined) return e;
  return new LayerqError(code, `${what} ${quote(file, 200)}: ${USER_ERRNOS[errno]} (${errno})`);
}

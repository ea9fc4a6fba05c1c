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
  | 'CLASS_MISMATCH' // dataset classes differ from model outputs
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

/** "Expected <what> for <name> but received <value>" (sharp style). */
export function badArgument(name: string, expected: string, received: unknown): LayerqError {
  const shown = typeof received === 'string' ? `'${received}'` : String(received);
  return new LayerqError('BAD_ARGUMENT', `Expected ${expected} for ${name} but received ${shown}`);
}

/** Opening a labelled image pool (folder tree or list file) for a classifier. */
import * as fs from 'fs';
import { LayerqError, fsError, quote } from '../errors';
import { Dataset, listImageFolder, readListFile } from '../data';
import type { PreparedModel } from './model';

/** An ImageFolder tree when `source` is a folder, a `path,label` list file otherwise. */
export async function openPool(source: string): Promise<Dataset> {
  if (typeof source !== 'string' || source === '') throw new LayerqError('BAD_ARGUMENT', 'Expected a data folder or list file but received an empty path');
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new LayerqError('BAD_DATA', `data folder ${quote(source, 200)} does not exist`);
    throw fsError(e, 'BAD_DATA', 'cannot read the data', source);
  }
  return st.isDirectory() ? listImageFolder(source) : readListFile(source);
}

/** True when a pool's class names are only its label indices ('0'..'n-1', an integer list file). */
function indexNames(pool: Dataset): boolean {
  return pool.classes.every((c, i) => c === String(i));
}

/**
 * Throws CLASS_MISMATCH when the calibration and validation pools name their classes
 * differently (the same label would mean two classes): both must list the same names in the
 * same order. Pools labelled by index only ('0'..'n-1') are compared by count.
 */
export function checkSamePoolClasses(calib: Dataset, val: Dataset): void {
  if (indexNames(calib) || indexNames(val)) return;
  const n = Math.max(calib.classes.length, val.classes.length);
  for (let i = 0; i < n; i++) {
    const a = calib.classes[i];
    const b = val.classes[i];
    if (a !== b) {
      const show = (c: string | undefined): string => (c === undefined ? '(none)' : quote(c, 60));
      throw new LayerqError(
        'CLASS_MISMATCH',
        `the calibration and validation pools name their classes differently: class ${i} is ${show(a)} in ${quote(calib.root, 200)} but ${show(b)} in ${quote(val.root, 200)}`,
      );
    }
  }
}

/** Throws CLASS_MISMATCH when the pool's classes do not match the model's outputs. */
export function checkClasses(pool: Dataset, model: PreparedModel): void {
  if (pool.classes.length !== model.classes) {
    throw new LayerqError(
      'CLASS_MISMATCH',
      `the data has ${pool.classes.length} classes (${quote(pool.root, 200)}) but the model outputs ${model.classes}`,
    );
  }
}

/** Opening a labelled image pool (folder tree or list file) for a classifier. */
import * as fs from 'fs';
import { LayerqError } from '../errors';
import { Dataset, listImageFolder, readListFile } from '../data';
import type { PreparedModel } from './model';

/** An ImageFolder tree when `source` is a folder, a `path,label` list file otherwise. */
export async function openPool(source: string): Promise<Dataset> {
  if (!fs.existsSync(source)) throw new LayerqError('BAD_DATA', `data folder '${source}' does not exist`);
  return fs.statSync(source).isDirectory() ? listImageFolder(source) : readListFile(source);
}

/** Throws CLASS_MISMATCH when the pool's classes do not match the model's outputs. */
export function checkClasses(pool: Dataset, model: PreparedModel): void {
  if (pool.classes.length !== model.classes) {
    throw new LayerqError(
      'CLASS_MISMATCH',
      `the data has ${pool.classes.length} classes (${pool.root}) but the model outputs ${model.classes}`,
    );
  }
}

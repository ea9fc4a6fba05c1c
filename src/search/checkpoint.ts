/**
 * Resume: the search is a deterministic function of its inputs and of what it measured. The
 * journal records every measurement (key, hash of the plan measured, result) and is written
 * atomically after each one; a resumed search runs the same code and takes recorded results
 * instead of re-running them, so it ends with the plan an uninterrupted run ends with. A
 * recorded hash that differs from the plan being measured means the inputs changed: refused.
 */
import * as fs from 'fs';
import { LayerqError } from '../errors';
import { writeFileAtomic } from '../report/report';
import type { Measured } from './evaluator';

/** 2: whole-model measurements carry their gain over the plan they would replace (`Measured.gain`). */
export const CHECKPOINT_VERSION = 2;

interface Entry {
  key: string;
  hash: string;
  m: Measured;
}

export class Journal {
  private readonly entries = new Map<string, Entry>();
  private readonly order: Entry[] = [];
  private dirty = 0;

  /** `file`: where to keep the journal (none: in memory); `identity`: the inputs it is valid for. */
  constructor(private readonly file: string | undefined, private readonly identity: string, resume: boolean) {
    if (!resume || !file || !fs.existsSync(file)) return;
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; identity: string; entries: Entry[] };
    if (saved.version !== CHECKPOINT_VERSION) throw new LayerqError('BAD_ARGUMENT', `checkpoint ${file} has version ${saved.version}, expected ${CHECKPOINT_VERSION}`);
    if (saved.identity !== identity) {
      throw new LayerqError('BAD_ARGUMENT', `checkpoint ${file} was written for other inputs (model, data, configuration or search options); remove it or drop --resume`);
    }
    for (const e of saved.entries) {
      this.entries.set(e.key, e);
      this.order.push(e);
    }
  }

  /** Measurements replayed from the checkpoint. */
  get replayed(): number {
    return this.order.length - this.dirty;
  }

  /** Whether `key`'s measurement is in the journal already (or keys under it: `key/...`). */
  replaying(keyPrefix: string): boolean {
    for (const k of this.entries.keys()) if (k === keyPrefix || k.startsWith(`${keyPrefix}/`)) return true;
    return false;
  }

  recorded(key: string, hash: string): Measured | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.hash !== hash) throw new LayerqError('BAD_ARGUMENT', `checkpoint does not match this run at '${key}' (the search took another path); remove it or drop --resume`);
    return e.m;
  }

  record(key: string, hash: string, m: Measured): void {
    const e = { key, hash, m };
    this.entries.set(key, e);
    this.order.push(e);
    this.dirty++;
    if (this.file) writeFileAtomic(this.file, JSON.stringify({ version: CHECKPOINT_VERSION, identity: this.identity, entries: this.order }));
  }
}

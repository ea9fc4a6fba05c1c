/**
 * The output folder as one unit. A run
 *   1. opens it first (before any data work): the path is checked, the folder created, and a
 *      lock taken, so a bad or busy --out fails in a second with one line;
 *   2. writes each file into a private staging folder inside it (`.layerq-staging-<random>`,
 *      files created exclusively, see ./atomic.ts), where nothing reads them as results;
 *   3. commits: the previous files of those names are removed report first, then the staged
 *      files are renamed into place in the order written, the report (written last) last.
 * So a crash or `kill -9` at any point leaves the folder with the previous complete pair, or a
 * model without a report, never a model beside the report of another run; and the report
 * names the model's SHA-256, so any reader can check the pair.
 *
 * The lock is `.layerq.lock` (JSON: pid, host, process start time), created atomically (link of
 * a complete temporary file). A second run finds it and is refused while the holder lives; a
 * lock whose process is gone (or whose pid now belongs to another process: the start time
 * differs) is stale and taken over, as are the staging folders it left.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LayerqError, badArgument, fsError, quote } from '../errors';
import { FILE_LIMITS } from '../util/limits';
import { readRegularFileSync } from '../util/read-file';
import { temporaryName, writeNewFile } from './atomic';

export const LOCK_NAME = '.layerq.lock';
const STAGING_PREFIX = '.layerq-staging-';

/** Who holds a lock. `start`: the process's start time (Linux clock ticks since boot), if known. */
export interface LockHolder {
  pid: number;
  host: string;
  start?: number;
  since: string;
}

/** Start time of process `pid` (field 22 of /proc/PID/stat), or undefined off Linux / when gone. */
export function processStart(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/** True while the process that wrote `holder` runs (on another host: assumed, it cannot be seen). */
export function holderAlive(holder: LockHolder): boolean {
  if (holder.host !== os.hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.start === undefined) return true;
  const now = processStart(holder.pid);
  return now === undefined || now === holder.start;
}

function readHolder(lock: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readRegularFileSync(lock, FILE_LIMITS.lockFile).toString('utf8')) as Partial<LockHolder>;
    if (!Number.isSafeInteger(h.pid) || (h.pid as number) <= 0 || typeof h.host !== 'string') return undefined;
    return {
      pid: h.pid as number,
      host: h.host,
      ...(typeof h.start === 'number' ? { start: h.start } : {}),
      since: typeof h.since === 'string' ? h.since : '?',
    };
  } catch {
    return undefined; // unreadable, not JSON, or not a file: not a lock layerq wrote
  }
}

/** SHA-256 of `data`, hex. */
export function sha256(data: Uint8Array | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** A file written into the staging folder. */
export interface StagedFile {
  /** Where it is now (readable until commit). */
  path: string;
  /** Where commit puts it. */
  finalPath: string;
  sha256: string;
}

export class OutputDir {
  private readonly staged = new Map<string, StagedFile>();
  private state: 'open' | 'committed' | 'closed' = 'open';

  private constructor(
    /** The output folder, absolute. */
    readonly root: string,
    private readonly staging: string,
    private readonly lock: string,
    private readonly created: boolean,
  ) {}

  /**
   * Checks `out` (a non-empty path that is or can be made a folder we can write), creates it,
   * takes its lock and a staging folder. Throws BAD_ARGUMENT for an empty path, BAD_OUTPUT for
   * a path that cannot be a writable folder (naming the reason: EACCES, ENOTDIR...),
   * OUTPUT_BUSY while another live layerq process holds the folder.
   */
  static open(out: string): OutputDir {
    if (typeof out !== 'string' || out.trim() === '') throw badArgument('--out', 'an output folder path', out);
    const root = path.resolve(out);
    let created = false;
    try {
      const st = statOrUndefined(root);
      if (st && !st.isDirectory()) {
        throw new LayerqError('BAD_OUTPUT', `output folder ${quote(out, 200)} exists and is not a folder`);
      }
      if (!st) created = fs.mkdirSync(root, { recursive: true }) !== undefined;
    } catch (e) {
      throw fsError(e, 'BAD_OUTPUT', 'cannot create the output folder', out);
    }
    const lock = path.join(root, LOCK_NAME);
    try {
      acquireLock(lock, out);
    } catch (e) {
      if (created) fs.rmSync(root, { recursive: true, force: true });
      throw fsError(e, 'BAD_OUTPUT', 'cannot write to the output folder', out);
    }
    try {
      for (const name of fs.readdirSync(root)) {
        // Leftovers of runs that died (we hold the lock: no live run owns them).
        if (name.startsWith(STAGING_PREFIX)) fs.rmSync(path.join(root, name), { recursive: true, force: true });
      }
      const staging = fs.mkdtempSync(path.join(root, STAGING_PREFIX));
      return new OutputDir(root, staging, lock, created);
    } catch (e) {
      releaseLock(lock);
      throw fsError(e, 'BAD_OUTPUT', 'cannot write to the output folder', out);
    }
  }

  /** The path `name` will have once committed. */
  finalPath(name: string): string {
    return path.join(this.root, name);
  }

  /** Writes `name` into the staging folder; returns where it is and its SHA-256. */
  write(name: string, data: Uint8Array | string): StagedFile {
    if (this.state !== 'open') throw new LayerqError('INTERNAL', `output folder ${this.root} is already ${this.state}`);
    if (path.basename(name) !== name || name.startsWith('.')) throw new LayerqError('INTERNAL', `bad output file name ${quote(name)}`);
    const file: StagedFile = { path: path.join(this.staging, name), finalPath: this.finalPath(name), sha256: sha256(data) };
    try {
      writeNewFile(file.path, data);
    } catch (e) {
      throw fsError(e, 'BAD_OUTPUT', 'cannot write', file.path);
    }
    this.staged.set(name, file);
    return file;
  }

  /**
   * Moves the staged files into the output folder: old files of those names removed, last
   * written first; then renames in the order written (the last one, the report, is the marker
   * of a complete folder). Then closes.
   */
  commit(): void {
    if (this.state !== 'open') throw new LayerqError('INTERNAL', `output folder ${this.root} is already ${this.state}`);
    const files = [...this.staged.values()];
    try {
      for (const f of [...files].reverse()) fs.rmSync(f.finalPath, { force: true });
      for (const f of files) fs.renameSync(f.path, f.finalPath);
      syncFolder(this.root);
    } catch (e) {
      throw fsError(e, 'BAD_OUTPUT', 'cannot write to the output folder', this.root);
    }
    this.state = 'committed';
    this.close();
  }

  /**
   * Removes the staging folder and releases the lock; an output folder this run created and
   * left empty is removed too. Safe to call more than once, and after commit.
   */
  close(): void {
    if (this.state === 'closed') return;
    fs.rmSync(this.staging, { recursive: true, force: true });
    releaseLock(this.lock);
    if (this.created && this.state !== 'committed') {
      try {
        fs.rmdirSync(this.root); // only if empty
      } catch {
        // not empty: leave it
      }
    }
    this.state = 'closed';
  }
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function acquireLock(lock: string, out: string): void {
  const me: LockHolder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  const start = processStart(process.pid);
  if (start !== undefined) me.start = start;
  // Written complete under a private name first, then linked: the lock never exists half written.
  const tmp = temporaryName(lock);
  writeNewFile(tmp, `${JSON.stringify(me)}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.linkSync(tmp, lock);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = readHolder(lock);
      if (holder && holderAlive(holder)) {
        throw new LayerqError(
          'OUTPUT_BUSY',
          `output folder ${quote(out, 200)} is in use by layerq process ${holder.pid} on ${quote(holder.host, 60)} since ${escapeSince(holder.since)}; ` +
            `wait for it to finish or choose another --out (if no such process runs, remove ${quote(lock, 200)})`,
        );
      }
      fs.rmSync(lock, { force: true }); // stale: its process is gone
    }
    throw new LayerqError('OUTPUT_BUSY', `output folder ${quote(out, 200)}: could not take its lock ${quote(lock, 200)}`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

const escapeSince = (s: string): string => (/^[0-9TZ:.+-]{1,40}$/.test(s) ? s : '?');

/** Removes the lock if it is still ours. */
function releaseLock(lock: string): void {
  const holder = readHolder(lock);
  if (holder && holder.pid === process.pid && holder.host === os.hostname()) fs.rmSync(lock, { force: true });
}

/** Flushes a folder's entries (the renames) to disk; best effort (not every platform allows it). */
function syncFolder(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // not supported here
  }
}

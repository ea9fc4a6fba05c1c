/** Bounded reads of regular files only, and allocation checks against the memory budget. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LayerqError } from '../../src/errors';
import { checkAllocation, memoryBudget, parseBytes } from '../../src/util/limits';
import { UnreadableFileError, readRegularFile, readRegularFileSync } from '../../src/util/read-file';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-read-'));

describe('readRegularFile', () => {
  const file = path.join(dir, 'twenty.bin');
  fs.writeFileSync(file, Buffer.alloc(20, 7));

  test('reads a regular file within the limit, sync and async', async () => {
    expect(readRegularFileSync(file, 20)).toEqual(Buffer.alloc(20, 7));
    expect(await readRegularFile(file, 64)).toEqual(Buffer.alloc(20, 7));
  });

  test('refuses a larger file before reading it', async () => {
    expect(() => readRegularFileSync(file, 19)).toThrow(/file too large \(20 bytes; the limit is 19 bytes\)/);
    await expect(readRegularFile(file, 19)).rejects.toBeInstanceOf(UnreadableFileError);
  });

  test('refuses a FIFO, a device and a folder without blocking', async () => {
    const fifo = path.join(dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    expect(() => readRegularFileSync(fifo, 1e6)).toThrow(/not a regular file \(a FIFO/);
    await expect(readRegularFile('/dev/zero', 1e6)).rejects.toThrow(/not a regular file \(a character device\)/);
    expect(() => readRegularFileSync(dir, 1e6)).toThrow(/not a regular file \(a folder\)/);
  });
});

describe('memory budget', () => {
  test('LAYERQ_MEMORY_BUDGET is parsed with binary suffixes', () => {
    expect(parseBytes('4G')).toBe(4 * 2 ** 30);
    expect(parseBytes('512MiB')).toBe(512 * 2 ** 20);
    expect(parseBytes('100')).toBe(100);
    expect(parseBytes('lots')).toBeUndefined();
  });

  test('checkAllocation: non-sizes and sizes over the budget are TOO_LARGE, one line', () => {
    const old = process.env['LAYERQ_MEMORY_BUDGET'];
    process.env['LAYERQ_MEMORY_BUDGET'] = '1M';
    try {
      expect(memoryBudget()).toBe(2 ** 20);
      expect(() => checkAllocation('x', 2 ** 18, 4)).not.toThrow();
      for (const [n, shape] of [[2 ** 18 + 1, undefined], [NaN, undefined], [-1, undefined], [Infinity, [1, Infinity]]] as const) {
        let err: unknown;
        try {
          checkAllocation('tensor t', n, 4, shape as number[] | undefined);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(LayerqError);
        expect((err as LayerqError).code).toBe('TOO_LARGE');
        expect((err as LayerqError).message).toMatch(/^tensor t would need .* above the memory budget of 1\.0 MiB/);
      }
    } finally {
      if (old === undefined) delete process.env['LAYERQ_MEMORY_BUDGET'];
      else process.env['LAYERQ_MEMORY_BUDGET'] = old;
    }
  });
});

/** The search journal: a checkpoint of another version or for other inputs is refused, never replayed. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CHECKPOINT_VERSION, Journal } from '../../src/search/checkpoint';

describe('search checkpoint', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-journal-'));
  const file = path.join(dir, 'search-checkpoint.json');
  const m = { top1: 80, agreement: 90, loss: 0.1, discordant: [3, 2] as [number, number], gain: { mean: 0.01, se: 0.002, base: 0.11 } };
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a measurement is replayed as recorded, with its gain', () => {
    new Journal(file, 'inputs', false).record('trial/0', 'abc', m);
    const j = new Journal(file, 'inputs', true);
    expect(j.recorded('trial/0', 'abc')).toEqual(m);
    expect(j.replayed).toBe(1);
    expect(() => j.recorded('trial/0', 'other')).toThrow(/another path/);
  });

  test('a checkpoint of an earlier version (measurements without their gain) or for other inputs is refused', () => {
    new Journal(file, 'inputs', false).record('trial/0', 'abc', m);
    expect(() => new Journal(file, 'other inputs', true)).toThrow(/other inputs/);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...saved, version: CHECKPOINT_VERSION - 1 }));
    expect(() => new Journal(file, 'inputs', true)).toThrow(new RegExp(`version ${CHECKPOINT_VERSION - 1}, expected ${CHECKPOINT_VERSION}`));
  });
});

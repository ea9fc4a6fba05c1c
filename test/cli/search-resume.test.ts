/**
 * `layerq quantize` searches by default and is resumable: a run killed with SIGKILL in the middle
 * of its search and continued with --resume ends with the plan of an uninterrupted run, and the
 * same inputs and seed give the same plan. ResNet-20 W4A4 on a small CIFAR subset (many trials,
 * screened on a sample whose losses a resumed run computes again; killed inside the context-fit sweep).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CIFAR, REPO, modelFile } from '../helpers';
import { layerq, makeImageFolder, tempDir } from './cli-helpers';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

describe('layerq quantize: search, kill -9, --resume', () => {
  const dir = tempDir();
  const calib = path.join(dir, 'calib');
  const val = path.join(dir, 'val');
  beforeAll(() => {
    for (const [root, split, n] of [[calib, 'calib-pool', 4], [val, 'val', 8]] as const) {
      fs.mkdirSync(root, { recursive: true });
      for (const c of CLASSES) {
        fs.mkdirSync(path.join(root, c), { recursive: true });
        makeImageFolder(root, [c], n, path.join(CIFAR, split, c));
      }
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const args = (out: string): string[] => [
    'quantize', modelFile('resnet20'), '--calib-data', calib, '--val-data', val, '--out', out,
    '--w-bits', '4', '--a-bits', '4', '--per-channel', '--max-drop', '0.5', '--max-trials', '25', '--seed', '0', '--calib-per-class', '4', '--quiet',
    // Batches of 4: 20 validation batches, so whole-model trials are screened on 5 of them first.
    '--batch', '4',
  ];
  const planOf = (out: string): string => JSON.stringify(JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')).plan);

  test('killed mid-search then resumed: the uninterrupted plan; same seed: same plan', async () => {
    const a = path.join(dir, 'a');
    const ra = layerq(args(a), 600000);
    expect(ra.stderr).toBe('');
    expect(ra.code).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(a, 'report.json'), 'utf8'));
    expect(report.search.trials.length).toBeGreaterThan(10);
    expect(report.search.screening.images).toBe(20);
    expect(fs.existsSync(path.join(a, 'search-checkpoint.json'))).toBe(false);
    // Killed inside the context fit's sweep (a resumed run fits those layers again, to the same codes).
    const firstRefit = (report.search.trials as { candidate: string }[]).findIndex((t) => t.candidate === 'weight-rounding-refit');
    expect(firstRefit).toBeGreaterThanOrEqual(0);
    const killAt = firstRefit + 3;

    // Kill -9 once the checkpoint holds some trials.
    const b = path.join(dir, 'b');
    const child = spawn(process.execPath, [path.join(REPO, 'bin', 'layerq.js'), ...args(b)], { cwd: REPO, stdio: 'ignore' });
    const checkpoint = path.join(b, 'search-checkpoint.json');
    const trialsIn = (): number => {
      try {
        return (JSON.parse(fs.readFileSync(checkpoint, 'utf8')) as { entries: { key: string }[] }).entries.filter((e) => e.key.startsWith('trial/')).length;
      } catch {
        return 0;
      }
    };
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    for (let i = 0; i < 6000 && trialsIn() < killAt; i++) await new Promise((r) => setTimeout(r, 50));
    expect(trialsIn()).toBeGreaterThanOrEqual(killAt);
    child.kill('SIGKILL');
    await exited;
    expect(fs.existsSync(path.join(b, 'report.json'))).toBe(false);

    const rb = layerq([...args(b), '--resume'], 600000);
    expect(rb.stderr).toBe('');
    expect(rb.code).toBe(0);
    expect(planOf(b)).toBe(planOf(a));

    const c = path.join(dir, 'c');
    expect(layerq(args(c), 600000).code).toBe(0);
    expect(planOf(c)).toBe(planOf(a));
  }, 1800000);
});

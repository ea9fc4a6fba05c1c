/**
 * Output files: link-safe atomic writes, and the output folder as one unit (lock, staging,
 * commit, the report naming the model's checksum).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { expectLayerqError } from '../helpers';
import * as os from 'os';
import * as path from 'path';
import { temporaryName, writeFileAtomic } from '../../src/report/atomic';
import { LOCK_NAME, OutputDir, processStart, sha256 } from '../../src/report/output-dir';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-out-'));


describe('writeFileAtomic never writes through a planted symlink', () => {
  test('a link at the old predictable temporary name (FILE.tmp-PID) is not followed', () => {
    const dir = tmp();
    const victim = path.join(dir, 'victim.txt');
    fs.writeFileSync(victim, 'precious');
    const file = path.join(dir, 'out', 'model.qdq.onnx');
    fs.mkdirSync(path.dirname(file));
    fs.symlinkSync(victim, `${file}.tmp-${process.pid}`);
    writeFileAtomic(file, 'new contents');
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    expect(fs.readFileSync(file, 'utf8')).toBe('new contents');
  });

  test('a link at the output name is replaced by a regular file; its target is untouched', () => {
    const dir = tmp();
    const victim = path.join(dir, 'victim.txt');
    fs.writeFileSync(victim, 'precious');
    const file = path.join(dir, 'report.json');
    fs.symlinkSync(victim, file);
    writeFileAtomic(file, '{}');
    expect(fs.lstatSync(file).isFile()).toBe(true);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    expect(fs.readdirSync(dir).sort()).toEqual(['report.json', 'victim.txt']); // no temporary left
  });

  test('temporary names are unpredictable and hidden', () => {
    const a = temporaryName('/x/model.qdq.onnx');
    const b = temporaryName('/x/model.qdq.onnx');
    expect(a).not.toBe(b);
    expect(path.basename(a)).toMatch(/^\.model\.qdq\.onnx\.[0-9a-f]{24}\.tmp$/);
  });
});

describe('OutputDir', () => {
  test('stages, then commits both files together; the report can name the model checksum', () => {
    const root = path.join(tmp(), 'out');
    const out = OutputDir.open(root);
    expect(fs.existsSync(path.join(root, LOCK_NAME))).toBe(true);
    const model = out.write('model.qdq.onnx', Buffer.from('model bytes'));
    expect(model.sha256).toBe(sha256('model bytes'));
    expect(fs.readFileSync(model.path, 'utf8')).toBe('model bytes'); // readable while staged
    expect(fs.existsSync(path.join(root, 'model.qdq.onnx'))).toBe(false); // not yet a result
    out.write('report.json', JSON.stringify({ outputSha256: model.sha256 }));
    out.commit();
    expect(fs.readdirSync(root).sort()).toEqual(['model.qdq.onnx', 'report.json']); // no lock, no staging
    const report = JSON.parse(fs.readFileSync(path.join(root, 'report.json'), 'utf8'));
    expect(report.outputSha256).toBe(sha256(fs.readFileSync(path.join(root, 'model.qdq.onnx'))));
  });

  test('a second open of a busy folder is refused; after close it is free again', () => {
    const root = tmp();
    const first = OutputDir.open(root);
    expectLayerqError(() => OutputDir.open(root), 'OUTPUT_BUSY', new RegExp(`in use by layerq process ${process.pid}`));
    first.close();
    OutputDir.open(root).close();
    expect(fs.readdirSync(root)).toEqual([]);
  });

  test('closing without commit leaves the previous files as they were', () => {
    const root = tmp();
    fs.writeFileSync(path.join(root, 'model.qdq.onnx'), 'old model');
    const out = OutputDir.open(root);
    out.write('model.qdq.onnx', 'new model');
    out.close();
    expect(fs.readFileSync(path.join(root, 'model.qdq.onnx'), 'utf8')).toBe('old model');
    expect(fs.readdirSync(root)).toEqual(['model.qdq.onnx']);
  });

  test('a lock left by a dead process is taken over, with its staging folder', () => {
    const root = tmp();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    fs.writeFileSync(path.join(root, LOCK_NAME), JSON.stringify({ pid, host: os.hostname(), since: '2020-01-01T00:00:00Z' }));
    fs.mkdirSync(path.join(root, '.layerq-staging-abc123'));
    fs.writeFileSync(path.join(root, '.layerq-staging-abc123', 'model.qdq.onnx'), 'half');
    const out = OutputDir.open(root);
    expect(fs.readdirSync(root).filter((n) => n.startsWith('.layerq-staging-'))).toHaveLength(1);
    expect(fs.existsSync(path.join(root, '.layerq-staging-abc123'))).toBe(false);
    out.close();
  });

  test('a lock whose pid now belongs to another process (start time differs) is stale', () => {
    const root = tmp();
    const start = processStart(process.pid);
    if (start === undefined) return; // not Linux: start times are not known
    fs.writeFileSync(path.join(root, LOCK_NAME), JSON.stringify({ pid: process.pid, host: os.hostname(), start: start + 1, since: 'x' }));
    OutputDir.open(root).close();
  });

  test('a garbage lock file is not a holder', () => {
    const root = tmp();
    fs.writeFileSync(path.join(root, LOCK_NAME), '\u001b[31mnot json');
    OutputDir.open(root).close();
  });

  test('bad locations: one-line errors with the reason, before anything is written', () => {
    const dir = tmp();
    const file = path.join(dir, 'plain.txt');
    fs.writeFileSync(file, 'x');
    expectLayerqError(() => OutputDir.open(''), 'BAD_ARGUMENT', /Expected an output folder path for --out but received ''/);
    expectLayerqError(() => OutputDir.open(file), 'BAD_OUTPUT', /exists and is not a folder/);
    expectLayerqError(() => OutputDir.open(path.join(file, 'sub')), 'BAD_OUTPUT', /cannot create the output folder .*\((ENOTDIR|EEXIST)\)/);
    expect(fs.readdirSync(dir)).toEqual(['plain.txt']);
  });
});

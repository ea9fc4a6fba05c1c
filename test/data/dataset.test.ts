import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LayerqError } from '../../src/errors';
import { listImageFolder, readListFile } from '../../src/data/dataset';

const VAL = path.resolve(__dirname, '../../../shared/datasets/cifar10-jpeg/val');
const CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

async function expectBadData(p: Promise<unknown>, message: string | RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LayerqError);
  expect((e as LayerqError).code).toBe('BAD_DATA');
  expect((e as LayerqError).message).toMatch(message);
  expect((e as LayerqError).message).not.toContain('\n');
}

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-data-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function touch(rel: string, content = 'x'): string {
  const p = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  return p;
}

describe('listImageFolder', () => {
  test('cifar10-jpeg/val: 10 classes in order, 200 images each, sorted', async () => {
    const ds = await listImageFolder(VAL);
    expect(ds.classes).toEqual(CIFAR_CLASSES);
    expect(ds.samples).toHaveLength(2000);
    const counts = new Array<number>(10).fill(0);
    for (const s of ds.samples) counts[s.label]!++;
    expect(counts).toEqual(new Array(10).fill(200));
    expect(ds.samples[0]!.path).toBe(path.join(VAL, 'airplane', '0000.jpg'));
    expect(ds.samples[1999]!.path.startsWith(path.join(VAL, 'truck') + path.sep)).toBe(true);
    expect(path.isAbsolute(ds.root)).toBe(true);
  });

  test('only image files count; hidden folders and stray files are ignored', async () => {
    touch('b/1.png');
    touch('b/notes.txt');
    touch('b/2.BMP');
    touch('a/x.JPG');
    touch('a/y.webp');
    touch('.cache/z.jpg');
    touch('readme.md');
    const ds = await listImageFolder(tmp);
    expect(ds.classes).toEqual(['a', 'b']);
    expect(ds.samples.map((s) => [path.relative(tmp, s.path), s.label])).toEqual([
      [path.join('a', 'x.JPG'), 0],
      [path.join('a', 'y.webp'), 0],
      [path.join('b', '1.png'), 1],
    ]);
  });

  test('missing folder, a file, no class folders, an empty class folder', async () => {
    await expectBadData(listImageFolder(path.join(tmp, 'nope')), /data folder not found: .*nope/);
    await expectBadData(listImageFolder(touch('file.jpg')), /data folder is not a folder/);
    await expectBadData(listImageFolder(tmp), /has no class folders/);
    touch('cat/1.jpg');
    touch('dog/notes.txt');
    touch('dog/pic.bmp');
    await expectBadData(listImageFolder(tmp), /class folder 'dog' has no images \(.*bmp and gif are not supported\)/);
  });
});

describe('readListFile', () => {
  test('names and indices, relative paths, header, comments, blank lines, quotes', async () => {
    const list = touch(
      'lists/train.csv',
      'path,label\n# comment\nimgs/a.jpg,cat\n\n"imgs/b, with comma.jpg",dog\r\n/abs/c.png , cat\n',
    );
    const ds = await readListFile(list);
    expect(ds.root).toBe(path.join(tmp, 'lists'));
    expect(ds.classes).toEqual(['cat', 'dog']);
    expect(ds.samples).toEqual([
      { path: path.join(tmp, 'lists/imgs/a.jpg'), label: 0 },
      { path: path.join(tmp, 'lists/imgs/b, with comma.jpg'), label: 1 },
      { path: '/abs/c.png', label: 0 },
    ]);
  });

  test('integer labels without classes, and with a class list', async () => {
    const list = touch('l.txt', 'a.jpg,2\nb.jpg,0\n');
    expect((await readListFile(list)).classes).toEqual(['0', '1', '2']);
    const ds = await readListFile(list, { classes: ['x', 'y', 'z'] });
    expect(ds.classes).toEqual(['x', 'y', 'z']);
    expect(ds.samples.map((s) => s.label)).toEqual([2, 0]);
    const named = touch('n.txt', 'a.jpg,z\nb.jpg,1\n');
    expect((await readListFile(named, { classes: ['x', 'y', 'z'] })).samples.map((s) => s.label)).toEqual([2, 1]);
  });

  test('bad lines name the line number', async () => {
    await expectBadData(readListFile(touch('a.txt', 'a.jpg,cat\nno-comma-here\n')), /a\.txt:2: expected 'path,label' but found 'no-comma-here'/);
    await expectBadData(readListFile(touch('b.txt', 'a.jpg,cat\n,dog\n')), /b\.txt:2: expected 'path,label'/);
    await expectBadData(readListFile(touch('c.txt', 'a.jpg,\n')), /c\.txt:1:/);
    await expectBadData(readListFile(touch('d.txt', 'a.jpg,cat\nb.jpg,3\n')), /d\.txt:2: label '3' is an index but other labels are names/);
    await expectBadData(readListFile(touch('e.txt', 'a.jpg,cat\nb.jpg,cow\n'), { classes: ['cat', 'dog'] }), /e\.txt:2: unknown label 'cow' \(classes: cat, dog\)/);
    await expectBadData(readListFile(touch('f.txt', 'a.jpg,5\n'), { classes: ['cat', 'dog'] }), /f\.txt:1: unknown label '5'/);
    await expectBadData(readListFile(touch('g.txt', '# only a comment\n\n')), /list file has no entries/);
    await expectBadData(readListFile(path.join(tmp, 'missing.txt')), /list file not found/);
  });
});

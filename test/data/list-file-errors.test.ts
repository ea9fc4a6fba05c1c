/** List-file errors name the line at fault, and quote, escape and shorten what they echo. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LayerqError, escapeText, quote } from '../../src/errors';
import { readListFile } from '../../src/data/dataset';

async function error(content: string): Promise<LayerqError> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-list-')), 'list.csv');
  fs.writeFileSync(file, content);
  const e = await readListFile(file).then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(LayerqError);
  expect((e as LayerqError).message).not.toMatch(/\n/);
  return e as LayerqError;
}

describe('list-file label errors name the line at fault', () => {
  test('one name among integer labels: the name\'s line, not the first index', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `img${i}.jpg,${i % 10}`);
    lines.splice(14, 0, 'typo.jpg,cat');
    const e = await error(`path,label\n${lines.join('\n')}\n`);
    expect(e.message).toMatch(/list\.csv:16: label 'cat' is a name but other labels are indices \(20 indices, 1 names\)/);
  });
  test('one index among names: the index\'s line', async () => {
    const e = await error('a.jpg,cat\nb.jpg,dog\nc.jpg,7\nd.jpg,cat\n');
    expect(e.message).toMatch(/list\.csv:3: label '7' is an index but other labels are names/);
  });
  test('old Mac line endings count lines too', async () => {
    const e = await error('a.jpg,cat\rb.jpg,dog\rno comma\r');
    expect(e.message).toMatch(/list\.csv:3: expected 'path,label' but found 'no comma'/);
  });
});

describe('quote / escapeText', () => {
  test('control characters are escaped, bidi overrides too, and text is cut with a count', () => {
    expect(quote('a\u001b[31mb\nc\u202ed')).toBe("'a\\u001b[31mb\\nc\\u202ed'");
    expect(escapeText('x'.repeat(130), 100)).toBe(`${'x'.repeat(100)}... (30 more characters)`);
    expect(quote('plain')).toBe("'plain'");
  });
});

/** `layerq report` end to end, `quantize --no-html`, and the inputs `report` must refuse. */
import * as fs from 'fs';
import * as path from 'path';
import { CIFAR, modelFile } from '../helpers';
import { reportV1 } from '../report/synthetic';
import { layerq, tempDir } from './cli-helpers';

describe('layerq report', () => {
  const dir = tempDir();

  test('draws a version-1 report.json beside it, or where --out says', () => {
    const json = path.join(dir, 'old', 'report.json');
    fs.mkdirSync(path.dirname(json), { recursive: true });
    fs.writeFileSync(json, JSON.stringify(reportV1(5)));
    const r = layerq(['report', json]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const html = path.join(dir, 'old', 'report.html');
    expect(r.stdout).toContain(`wrote ${html}`);
    const page = fs.readFileSync(html, 'utf8');
    expect(page).toContain('<section id="plan">');
    expect(page.match(/<g class="strip-cell"/g)).toHaveLength(5);

    const out = path.join(dir, 'elsewhere', 'page.html');
    const j = layerq(['report', json, '--out', out, '--json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual({ htmlPath: out, bytes: fs.statSync(out).size, version: 1 });
    expect(fs.readFileSync(out, 'utf8')).toBe(page);
  });

  test.each([
    ['missing.json', null, /report file not found: .*missing\.json/],
    ['model.json', '{"ir_version": 7}', /Expected a layerq report\.json for .*model\.json/],
    ['new.json', '{"tool":"layerq","version":99}', /newer reports need a newer layerq.*received 99/],
  ])('refuses %s: one line, exit 1', (name, content, message) => {
    const file = path.join(dir, name);
    if (content !== null) fs.writeFileSync(file, content);
    const r = layerq(['report', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  test('quantize writes report.html unless --no-html', () => {
    const args = ['quantize', modelFile('resnet20'), '--calib-data', path.join(CIFAR, 'calib-pool'), '--val-data', path.join(CIFAR, 'val'),
      '--calib-per-class', '1', '--val-per-class', '1', '--quiet'];
    const withPage = path.join(dir, 'q-html');
    expect(layerq([...args, '--out', withPage]).code).toBe(0);
    expect(fs.readdirSync(withPage).sort()).toEqual(['model.qdq.onnx', 'report.html', 'report.json']);
    const without = path.join(dir, 'q-no-html');
    expect(layerq([...args, '--out', without, '--no-html']).code).toBe(0);
    expect(fs.readdirSync(without).sort()).toEqual(['model.qdq.onnx', 'report.json']);
  });
});

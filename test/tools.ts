/**
 * Tests that need a tool outside Node (Python's onnx for onnx.checker). Without the tool they
 * are skipped on a developer's machine, but under CI=true they fail: a test that can be skipped
 * in CI is a test that will be skipped.
 */
import { spawnSync } from 'child_process';

/** True when `python3 -c 'import onnx'` works. */
export const pythonOnnx = spawnSync('python3', ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;

/**
 * `test` when `available`; else `test.skip`, or under CI=true a test that fails naming the tool.
 * Works with `.each` too.
 */
export function testWithTool(available: boolean, tool: string): jest.It {
  if (available) return test;
  if (process.env['CI'] !== 'true') return test.skip;
  const failing = ((name: string) => test(name, () => {
    throw new Error(`${tool} is missing in CI: this test cannot run (.ci/run installs it)`);
  })) as unknown as jest.It;
  (failing as { each: unknown }).each = (table: unknown[]) => (name: string) => test(`${name} (${table.length} cases)`, () => {
    throw new Error(`${tool} is missing in CI: this test cannot run (.ci/run installs it)`);
  });
  return failing;
}

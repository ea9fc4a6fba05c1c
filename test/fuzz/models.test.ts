/**
 * Fuzzing (issue 8): seeded mutations of every shared model (test/fuzz/mutate.js) through load,
 * prepare and one evaluation (test/fuzz/worker.js, on the built library). Every outcome must be
 * a result or a LayerqError: never an internal error, a crash (the worker dies) or a hang (no
 * progress for HANG_MS). LAYERQ_FUZZ_CASES sets the number of cases (default 2000, a few minutes
 * on two cores), LAYERQ_FUZZ_SEED the plan; a failure names the case and its mutation, replayable
 * with `node test/fuzz/worker.js SEED I I+1 MODELS...`.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { MODELS, REPO } from '../helpers';

const CASES = Number(process.env['LAYERQ_FUZZ_CASES'] ?? 2000);
const SEED = Number(process.env['LAYERQ_FUZZ_SEED'] ?? 1);
const WORKERS = 2;
const HANG_MS = 60000;
/**
 * The workers' memory budget: 16 MB a tensor holds every shared model's largest activation at
 * batch 1 (4.8 MB), and keeps a mutant that legally declares a 2000 times larger input (a result,
 * not a bug) from running for minutes: it is refused as TOO_LARGE instead.
 */
const BUDGET = '16M';
const models = fs.readdirSync(MODELS).filter((f) => f.endsWith('.onnx')).sort().map((f) => path.join(MODELS, f));

interface Outcome {
  i: number;
  outcome: 'result' | 'refused' | 'internal' | 'crash' | 'hang';
  code?: string;
  message?: string;
  what: string;
}

/** Runs cases [from, to) in worker processes, restarting after a crash or a hang. */
async function runRange(from: number, to: number, outcomes: Outcome[]): Promise<void> {
  let next = from;
  while (next < to) {
    next = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [path.join(__dirname, 'worker.js'), String(SEED), String(next), String(to), ...models], {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LAYERQ_MEMORY_BUDGET: BUDGET, LAYERQ_THREADS: '1' },
      });
      let current: { i: number; what: string } | undefined;
      let done = next;
      let stderr = '';
      let timer: NodeJS.Timeout | undefined;
      const arm = (): void => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          if (current) outcomes.push({ i: current.i, outcome: 'hang', what: current.what });
          current = undefined;
          child.kill('SIGKILL');
        }, HANG_MS);
      };
      arm();
      child.stderr.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-2000);
      });
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        const o = JSON.parse(line) as { i: number; start?: string } & Outcome;
        if (o.start !== undefined) {
          current = { i: o.i, what: o.start };
          arm();
        } else {
          outcomes.push(o);
          current = undefined;
          done = o.i + 1;
        }
      });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        if (current) {
          // Died inside a case: a crash (signal or exit code), unless the timer already called it a hang.
          outcomes.push({ i: current.i, outcome: 'crash', message: `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, what: current.what });
          done = current.i + 1;
        } else if (done === next && code !== 0) {
          outcomes.push({ i: next, outcome: 'crash', message: `worker failed to start: ${stderr.trim().slice(-500)}`, what: '' });
          done = to;
        } else if (outcomes.some((o) => o.outcome === 'hang' && o.i === done)) {
          done += 1;
        }
        resolve(done);
      });
    });
  }
}

test(`fuzz: ${CASES} seeded mutations of the shared models: results or LayerqErrors only`, async () => {
  const outcomes: Outcome[] = [];
  const per = Math.ceil(CASES / WORKERS);
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => runRange(w * per, Math.min(CASES, (w + 1) * per), outcomes)));
  const count = (kind: Outcome['outcome']): number => outcomes.filter((o) => o.outcome === kind).length;
  const codes: Record<string, number> = {};
  for (const o of outcomes) if (o.outcome === 'refused') codes[o.code!] = (codes[o.code!] ?? 0) + 1;
  const summary = `fuzz: ${outcomes.length} cases (seed ${SEED}, ${models.length} models): ${count('result')} results, ${count('refused')} refused ` +
    `(${Object.entries(codes).sort().map(([c, n]) => `${c} ${n}`).join(', ')}), ${count('internal')} internal errors, ${count('crash')} crashes, ${count('hang')} hangs`;
  process.stderr.write(`${summary}\n`);
  const summaryFile = process.env['LAYERQ_FUZZ_SUMMARY'];
  if (summaryFile) fs.writeFileSync(summaryFile, `${summary}\n`);
  const bad = outcomes.filter((o) => o.outcome === 'internal' || o.outcome === 'crash' || o.outcome === 'hang');
  expect(bad.slice(0, 10)).toEqual([]);
  expect(outcomes).toHaveLength(CASES);
  expect(count('result')).toBeGreaterThan(0); // not vacuous: some mutants still run
  expect(count('refused')).toBeGreaterThan(0);
}, 3600000);

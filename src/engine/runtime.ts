/**
 * The engine's runtime: a compiled program is a list of steps over named values. It runs them in
 * order on one batch, recycling buffers once a value is dead (liveness computed at compile time),
 * so a forward pass allocates almost nothing after the first batch.
 */
import { quote } from '../errors';
import { checkAllocation, memoryBudget } from '../util/limits';

/** A runtime value: float32 NCHW data, or uint8 codes with their quantization (integer mode). */
export type Value =
  | { kind: 'f32'; data: Float32Array; dims: number[] }
  | { kind: 'u8'; data: Uint8Array; dims: number[] };

export interface StepContext {
  get(name: string): Value;
  getF32(name: string): { data: Float32Array; dims: number[] };
  set(name: string, value: Value): void;
  allocF32(dims: readonly number[]): Float32Array;
  allocU8(dims: readonly number[]): Uint8Array;
}

export interface Step {
  /** Node or layer name, for errors and profiles. */
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  /** Outputs that share memory with inputs[0] (Reshape, Flatten): kept alive together. */
  aliases?: boolean;
  /** Inputs the step rewrites in place (a fake-quantize that keeps the tensor's name and buffer). */
  rewrites?: string[];
  /**
   * What the step computes, as a string: its node(s) and the plan entries it was built from (see
   * lowerQuantized). Equal signatures mean equal steps; partial re-runs are checked with it.
   */
  signature?: string;
  run(ctx: StepContext): Promise<void> | void;
}

/** Recycles typed arrays by length; a forward pass reuses the previous pass's buffers. */
class BufferPool {
  private readonly f32 = new Map<number, Float32Array[]>();
  private readonly u8 = new Map<number, Uint8Array[]>();
  takeF32(n: number): Float32Array {
    return this.f32.get(n)?.pop() ?? new Float32Array(n);
  }
  takeU8(n: number): Uint8Array {
    return this.u8.get(n)?.pop() ?? new Uint8Array(n);
  }
  give(v: Value): void {
    const map = (v.kind === 'f32' ? this.f32 : this.u8) as Map<number, (Float32Array | Uint8Array)[]>;
    const list = map.get(v.data.length) ?? [];
    list.push(v.data);
    map.set(v.data.length, list);
  }
}

/**
 * Longest stretch a run keeps the event loop waiting. Kernel calls settle synchronously on the
 * calling thread (native/src/bindings/async.h: the hop to a worker thread per step left the
 * cores idle), so without a turn now and then timers, I/O and signals (Ctrl-C) would wait for
 * the whole pass.
 */
export const EVENT_LOOP_TURN_MS = 25;

/** Gives the event loop a turn (timers, I/O, signals) before resolving. */
const eventLoopTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Program {
  readonly steps: Step[];
  /** For each step, the values dead after it; `recycle` is false for aliases of another buffer. */
  private readonly freeAfter: { name: string; recycle: boolean }[][];
  private pool = new BufferPool();

  constructor(steps: Step[], keep: ReadonlySet<string>) {
    this.steps = steps;
    this.freeAfter = computeFrees(steps, keep);
  }

  /**
   * Runs steps [from, to) with `values` holding every value they read that an earlier step
   * produced (for from = 0: the graph inputs). Returns the map, with dead values removed.
   * `observe` sees every value a step writes, before dead ones are recycled (calibration).
   */
  async run(
    values: Map<string, Value>,
    from = 0,
    to = this.steps.length,
    observe?: (name: string, value: Value) => void | Promise<void>,
  ): Promise<Map<string, Value>> {
    const pool = this.pool;
    let current = '';
    // Sizes come from the model and the batch: checked before allocating (one-line TOO_LARGE).
    // The budget is read once a run (it asks the OS) and the message built only on failure: at
    // batch 1 a run allocates dozens of small buffers and both showed in its profile.
    const budget = memoryBudget();
    const size = (dims: readonly number[], bytes: number): number => {
      let n = 1;
      for (const d of dims) n *= d;
      if (!(Number.isSafeInteger(n) && n >= 0 && n * bytes <= budget)) {
        checkAllocation(`step ${quote(current, 80)}'s output (batch ${dims[0]})`, n, bytes, dims);
      }
      return n;
    };
    const ctx: StepContext = {
      get: (name) => {
        const v = values.get(name);
        if (!v) throw new Error(`engine: value '${name}' is not available`);
        return v;
      },
      getF32: (name) => {
        const v = ctx.get(name);
        if (v.kind !== 'f32') throw new Error(`engine: value '${name}' is ${v.kind}, expected f32`);
        return v;
      },
      set: (name, value) => void values.set(name, value),
      allocF32: (dims) => pool.takeF32(size(dims, 4)),
      allocU8: (dims) => pool.takeU8(size(dims, 1)),
    };
    let turn = performance.now();
    for (let i = from; i < to; i++) {
      const step = this.steps[i]!;
      current = step.name;
      await step.run(ctx);
      if (performance.now() - turn > EVENT_LOOP_TURN_MS) {
        await eventLoopTurn();
        turn = performance.now();
      }
      if (observe) for (const name of step.outputs) await observe(name, values.get(name)!);
      for (const { name, recycle } of this.freeAfter[i]!) {
        const v = values.get(name);
        if (v && recycle) pool.give(v);
        values.delete(name);
      }
    }
    return values;
  }

  /** A copy of `v` in a pool buffer (the copy is the run's to recycle). */
  copyIntoPool(v: Value): Value {
    if (v.kind === 'f32') {
      const data = this.pool.takeF32(v.data.length);
      data.set(v.data);
      return { kind: 'f32', data, dims: [...v.dims] };
    }
    const data = this.pool.takeU8(v.data.length);
    data.set(v.data);
    return { kind: 'u8', data, dims: [...v.dims] };
  }

  /**
   * Drops the pooled buffers (the next run allocates afresh): an idle program holds no
   * activation memory, so several engines of one model (FP32, the file, int8) do not add up.
   */
  releaseBuffers(): void {
    this.pool = new BufferPool();
  }

  /** Returns a value's buffer to the pool once the caller has read it. */
  recycle(v: Value): void {
    this.pool.give(v);
  }
}

/** Last use of each value; aliasing steps extend their source's life to the alias's last use. */
function computeFrees(steps: Step[], keep: ReadonlySet<string>): { name: string; recycle: boolean }[][] {
  const root = new Map<string, string>();
  const rootOf = (n: string): string => root.get(n) ?? n;
  const lastUse = new Map<string, number>();
  const produced: string[] = [];
  steps.forEach((s, i) => {
    for (const inp of s.inputs) if (inp) lastUse.set(rootOf(inp), i);
    for (const out of s.outputs) {
      produced.push(out);
      if (s.aliases && s.inputs[0]) root.set(out, rootOf(s.inputs[0]));
      lastUse.set(rootOf(out), Math.max(lastUse.get(rootOf(out)) ?? i, i));
    }
  });
  const keptRoots = new Set([...keep].map(rootOf));
  const frees: { name: string; recycle: boolean }[][] = steps.map(() => []);
  for (const name of produced) {
    const r = rootOf(name);
    const at = lastUse.get(r);
    if (keptRoots.has(r) || at === undefined) continue;
    // Only the root owns its buffer; aliases are dropped from the map without recycling.
    frees[at]!.push({ name, recycle: name === r });
  }
  return frees;
}

/**
 * Program.run settles its kernel calls synchronously (native/src/bindings/async.h), so it must
 * give the event loop a turn now and then: a timer set before a long run fires during it (Ctrl-C
 * and progress redraws depend on that), and a short run is not slowed by turns it does not need.
 */
import { EVENT_LOOP_TURN_MS, Program, type Step } from '../../src/engine/runtime';

/** A step that keeps the thread busy for `ms` without yielding (a synchronous kernel call). */
function busyStep(i: number, ms: number): Step {
  return {
    name: `busy${i}`,
    op: 'Busy',
    inputs: [i === 0 ? 'x' : `v${i - 1}`],
    outputs: [`v${i}`],
    run: (ctx) => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // spin
      }
      ctx.set(`v${i}`, ctx.get(i === 0 ? 'x' : `v${i - 1}`));
    },
  };
}

function busyProgram(steps: number, ms: number): Program {
  return new Program(Array.from({ length: steps }, (_, i) => busyStep(i, ms)), new Set([`v${steps - 1}`]));
}

const input = (): Map<string, { kind: 'f32'; data: Float32Array; dims: number[] }> =>
  new Map([['x', { kind: 'f32', data: new Float32Array(4), dims: [1, 4] }]]);

describe('Program.run and the event loop', () => {
  test('a run longer than a turn lets a pending timer fire before it ends', async () => {
    const events: string[] = [];
    setTimeout(() => events.push('timer'), 0);
    // 8 steps of a third of a turn each: about 2.7 turns in all.
    await busyProgram(8, EVENT_LOOP_TURN_MS / 3).run(input()).then(() => events.push('run done'));
    expect(events).toEqual(['timer', 'run done']);
  });

  test('a run shorter than a turn does not wait for the event loop', async () => {
    const events: string[] = [];
    setTimeout(() => events.push('timer'), 0);
    await busyProgram(3, 1).run(input()).then(() => events.push('run done'));
    expect(events).toEqual(['run done']);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(events).toEqual(['run done', 'timer']);
  });
});

/**
 * Progress on stderr (stdout stays clean for --json): a bar on a terminal, a line every 10% when
 * stderr is a pipe or file (build logs), nothing with --quiet.
 */
import { SingleBar, Presets } from 'cli-progress';

export type ProgressFn = (stage: string, done: number, total: number) => void;

export interface ProgressReporter {
  report: ProgressFn;
  /** A line of its own (a search trial, a notice), printed above a running bar. */
  note: (line: string) => void;
  stop: () => void;
}

export function progressReporter(quiet: boolean): ProgressReporter {
  if (quiet) return { report: () => undefined, note: () => undefined, stop: () => undefined };
  let bar: SingleBar | undefined;
  let stage = '';
  let lastDecile = -1;
  const tty = Boolean(process.stderr.isTTY);
  const stop = (): void => {
    bar?.stop();
    bar = undefined;
  };
  const report: ProgressFn = (nextStage, done, total) => {
    if (nextStage !== stage) {
      stop();
      stage = nextStage;
      lastDecile = -1;
      if (tty) {
        bar = new SingleBar({ format: `${stage.padEnd(14)} {bar} {value}/{total} {eta_formatted}`, stream: process.stderr, hideCursor: true }, Presets.shades_classic);
        bar.start(total, 0);
      }
    }
    if (bar) {
      bar.update(done);
      if (done >= total) stop();
      return;
    }
    const decile = Math.floor((10 * done) / Math.max(1, total));
    if (decile !== lastDecile) {
      lastDecile = decile;
      process.stderr.write(`${stage}: ${done}/${total}\n`);
    }
  };
  const note = (line: string): void => {
    if (bar) {
      // Clear the bar's line, print, and let the next update redraw it.
      process.stderr.write(`\r\x1b[K${line}\n`);
      bar.render();
    } else process.stderr.write(`${line}\n`);
  };
  return { report, note, stop };
}

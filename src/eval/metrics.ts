/** Classification metrics from logits: pure functions over plain arrays. */

export interface ClassAccuracy {
  name: string;
  correct: number;
  total: number;
  /** Percent. */
  accuracy: number;
}

export interface Accuracy {
  /** Percent, over images with a label (label >= 0). */
  top1: number;
  top5: number;
  count: number;
  perClass: ClassAccuracy[];
}

/** Index of the largest logit of each row; logits [n, classes]. */
export function argmaxRows(logits: Float32Array, classes: number): Int32Array {
  const n = logits.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestValue = logits[i * classes]!;
    for (let c = 1; c < classes; c++) {
      const v = logits[i * classes + c]!;
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Whether `label` is among the k largest logits of row i (ties resolved toward the label's favour only when strictly greater values number fewer than k). */
function inTopK(logits: Float32Array, classes: number, i: number, label: number, k: number): boolean {
  const v = logits[i * classes + label]!;
  let greater = 0;
  for (let c = 0; c < classes; c++) if (logits[i * classes + c]! > v) greater++;
  return greater < k;
}

/** Top-1, top-5 and per-class accuracy (percent). `labels[i] < 0` marks an unlabelled image. */
export function accuracy(logits: Float32Array, labels: ArrayLike<number>, classNames: readonly string[]): Accuracy {
  const classes = classNames.length;
  const predicted = argmaxRows(logits, classes);
  const perClass = classNames.map((name) => ({ name, correct: 0, total: 0, accuracy: 0 }));
  let top1 = 0;
  let top5 = 0;
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label < 0) continue;
    count++;
    const entry = perClass[label]!;
    entry.total++;
    if (predicted[i] === label) {
      top1++;
      entry.correct++;
    }
    if (inTopK(logits, classes, i, label, Math.min(5, classes))) top5++;
  }
  for (const c of perClass) c.accuracy = c.total ? (100 * c.correct) / c.total : 0;
  const pct = (v: number): number => (count ? (100 * v) / count : 0);
  return { top1: pct(top1), top5: pct(top5), count, perClass };
}

/** Share (percent) of rows whose argmax agrees between two logit sets [n, classes]. */
export function agreement(a: Float32Array, b: Float32Array, classes: number): number {
  const pa = argmaxRows(a, classes);
  const pb = argmaxRows(b, classes);
  let same = 0;
  for (let i = 0; i < pa.length; i++) if (pa[i] === pb[i]) same++;
  return pa.length ? (100 * same) / pa.length : 0;
}

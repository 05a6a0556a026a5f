/** One figure of the bench: the median of several runs, with their spread. */
export interface Figure {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

/** The median, min and max of one value measured in several runs. */
export function figure(values: readonly number[]): Figure {
  if (values.length === 0) throw new Error("a figure needs at least one run");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return {
    median: round(median),
    min: round(sorted[0] as number),
    max: round(sorted[sorted.length - 1] as number),
    runs: values.length,
  };
}

/** The nearest-rank percentile `p` (0..100) of some samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error("no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** Three significant decimals are plenty for milliseconds and ratios. */
const round = (value: number) => Math.round(value * 1000) / 1000;

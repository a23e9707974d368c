/** What the map and the ranked list both take: one result's 72 probabilities and the selection. */
import type { RelativeAnswer } from '../relative/relative-answer.ts';

export interface CountryViewProps {
  outputs: ArrayLike<number>;
  /** Each country's probability against what is typical there (lift, percentile, reliability). */
  relative: readonly RelativeAnswer[];
  /** Country indices in the order shown (by chance, or by how unusual for the country). */
  order: readonly number[];
  top: ReadonlySet<number>;
  selected: number;
  onselect: (country: number) => void;
}

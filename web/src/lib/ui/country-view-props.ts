/** What the map and the ranked list both take: one result's 72 probabilities and the selection. */
export interface CountryViewProps {
  outputs: ArrayLike<number>;
  /** Country indices, most likely first. */
  order: readonly number[];
  top: ReadonlySet<number>;
  selected: number;
  onselect: (country: number) => void;
}

/** The probability colour scale shared by the map, its legend and the ranked list. */

export const SCALE_STEPS: readonly { readonly from: number; readonly colour: string }[] = [
  { from: 0, colour: '#f4f1de' },
  { from: 0.05, colour: '#c7e9b4' },
  { from: 0.1, colour: '#7fcdbb' },
  { from: 0.2, colour: '#41b6c4' },
  { from: 0.3, colour: '#2c7fb8' },
  { from: 0.5, colour: '#253494' },
];

export function colourFor(p: number): string {
  let c = SCALE_STEPS[0]!.colour;
  for (const s of SCALE_STEPS) if (p >= s.from) c = s.colour;
  return c;
}

export function percent(p: number): string {
  const v = p * 100;
  return v < 1 && v > 0 ? `${v.toFixed(1)}%` : `${Math.round(v)}%`;
}

import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { csvBlocks } from './outcome-ingest.ts';

describe('csvBlocks', () => {
  it('cuts only at line ends outside quotes and repeats the header, losing no row', () => {
    const rows = Array.from({ length: 500 }, (_, i) =>
      i % 7 === 0 ? `id${i},"a name, with a comma\nand a newline",DE` : `id${i},plain,FR`,
    );
    const text = `spotify_id,name,country\n${rows.join('\n')}\n`;
    const blocks = [...csvBlocks(text, 200)];
    expect(blocks.length).toBeGreaterThan(10);
    const parsed = blocks.flatMap(
      (b) => Papa.parse<Record<string, string>>(b, { header: true, skipEmptyLines: 'greedy' }).data,
    );
    expect(parsed.map((r) => r.spotify_id)).toEqual(rows.map((_, i) => `id${i}`));
    expect(parsed[0]?.name).toBe('a name, with a comma\nand a newline');
  });
});

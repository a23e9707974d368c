/**
 * As-you-type search over the catalogue (≈14k songs) by song name or
 * artist: a flat array of pre-folded strings scanned per keystroke (≈1 ms),
 * ranked so that name prefixes beat word starts beat substrings.
 */
import type { CatalogueSong } from '../../../../model/contract/api.ts';

/** Lower case, accents removed, punctuation to spaces: "Cassö" and "casso" match. */
export function fold(text: string): string {
  return ` ${text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()} `;
}

export interface SongIndex {
  readonly size: number;
  search(query: string, limit?: number): CatalogueSong[];
  byId(id: string): CatalogueSong | undefined;
  /** Every song, in catalogue order. */
  all(): CatalogueSong[];
}

export function buildSongIndex(songs: readonly CatalogueSong[]): SongIndex {
  const names = songs.map((s) => fold(s.name));
  const all = songs.map((s, i) => `${names[i]}${fold(s.artists)}`);
  const ids = new Map(songs.map((s) => [s.id, s]));
  return {
    size: songs.length,
    byId: (id) => ids.get(id),
    all: () => [...songs],
    search(query, limit = 20) {
      const q = fold(query).trim();
      if (q === '') return [];
      const tokens = q.split(' ');
      const hits: { i: number; score: number }[] = [];
      for (let i = 0; i < all.length; i++) {
        const hay = all[i]!;
        let matched = true;
        for (const t of tokens) {
          if (!hay.includes(t)) {
            matched = false;
            break;
          }
        }
        if (!matched) continue;
        const name = names[i]!;
        const score = name.startsWith(` ${q}`)
          ? name === ` ${q} `
            ? 0
            : 1
          : name.includes(` ${q}`)
            ? 2
            : hay.includes(` ${q}`)
              ? 3
              : 4;
        hits.push({ i, score });
      }
      hits.sort((a, b) => a.score - b.score || names[a.i]!.length - names[b.i]!.length);
      return hits.slice(0, limit).map((h) => songs[h.i]!);
    },
  };
}

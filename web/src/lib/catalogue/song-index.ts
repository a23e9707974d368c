/**
 * As-you-type search over the catalogue (≈14k songs) by song name or artist, on MiniSearch: every word must
 * match (the last as a prefix), small typos are forgiven ("flowrs" finds Flowers), and the ranking puts an
 * exact title first, then titles that start with the query, then by relevance with the title and the main
 * artist weighted above featured artists (so "Miley" finds Miley Cyrus's own songs before a "feat. Miley Cyrus").
 * The index is built on first use (or when the page is idle), not while the app starts.
 */
import MiniSearch from 'minisearch';
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
  /** Builds the search index now (e.g. when the page is idle) so the first keystroke does not wait for it. */
  warm(): void;
}

/** "(feat. X)", "[with Y]" and the like in a title: searchable, but weighted like a featured artist. */
const FEATURING = /[([]\s*(?:feat\.?|ft\.?|featuring|with)\s+([^)\]]*)[)\]]/gi;

interface Doc {
  readonly i: number;
  readonly title: string;
  readonly primary: string;
  readonly others: string;
  readonly featured: string;
}

function toDoc(s: CatalogueSong, i: number): Doc {
  const featured = [...s.name.matchAll(FEATURING)].map((m) => m[1] ?? '').join(' ');
  const [primary = '', ...others] = s.artists.split(',').map((a) => a.trim());
  return { i, title: s.name.replace(FEATURING, ' '), primary, others: others.join(' '), featured };
}

export function buildSongIndex(songs: readonly CatalogueSong[]): SongIndex {
  const ids = new Map(songs.map((s) => [s.id, s]));
  const titles = songs.map((s) => fold(s.name.replace(FEATURING, ' ')).trim());
  let mini: MiniSearch<Doc> | null = null;
  const index = () => {
    if (mini) return mini;
    mini = new MiniSearch<Doc>({
      idField: 'i',
      fields: ['title', 'primary', 'others', 'featured'],
      processTerm: (term) => fold(term).trim() || null,
      tokenize: (text) => fold(text).trim().split(' '),
      searchOptions: {
        boost: { title: 3, primary: 2.5, others: 1, featured: 0.4 },
        combineWith: 'AND',
        prefix: (_term, i, terms) => i === terms.length - 1,
        // One edit in a word of 4+ letters, two from 8: "flowrs", "beyonse".
        fuzzy: (term) => (term.length >= 8 ? 2 : term.length >= 4 ? 1 : false),
      },
    });
    mini.addAll(songs.map(toDoc));
    return mini;
  };
  return {
    size: songs.length,
    byId: (id) => ids.get(id),
    all: () => [...songs],
    warm: () => void index(),
    search(query, limit = 20) {
      const q = fold(query).trim();
      if (q === '') return [];
      const hits = index().search(q);
      const tier = (i: number) => (titles[i] === q ? 0 : titles[i]!.startsWith(q) ? 1 : 2);
      return hits
        .map((h) => ({ i: h.id as number, score: h.score, tier: tier(h.id as number) }))
        .sort((a, b) => a.tier - b.tier || b.score - a.score || a.i - b.i)
        .slice(0, limit)
        .map((h) => songs[h.i]!);
    },
  };
}

/**
 * A few well-known songs' features (from the catalogue) so the form can be
 * tried before the catalogue has downloaded.
 */
import type { CatalogueSong } from '../../../../model/contract/api.ts';

const song = (id: string, name: string, artists: string, v: number[]): CatalogueSong => {
  const [is_explicit, duration_ms, danceability, energy, key, loudness, mode, speechiness, acousticness, ...rest] = v;
  const [instrumentalness, liveness, valence, tempo] = rest;
  return {
    id,
    name,
    artists,
    features: {
      is_explicit: is_explicit!,
      duration_ms: duration_ms!,
      danceability: danceability!,
      energy: energy!,
      key: key!,
      loudness: loudness!,
      mode: mode!,
      speechiness: speechiness!,
      acousticness: acousticness!,
      instrumentalness: instrumentalness!,
      liveness: liveness!,
      valence: valence!,
      tempo: tempo!,
    },
  };
};

export const PRESETS: readonly CatalogueSong[] = [
  song(
    '7DSAEUvxU8FajXtRloy8M0',
    'Flowers',
    'Miley Cyrus',
    [0, 200600, 0.706, 0.691, 0, -4.775, 1, 0.0633, 0.0584, 0.0000699, 0.0232, 0.632, 118.048],
  ),
  song(
    '0VjIjW4GlUZAMYd2vXMi3b',
    'Blinding Lights',
    'The Weeknd',
    [0, 200040, 0.514, 0.73, 1, -5.934, 1, 0.0598, 0.00146, 0.0000954, 0.0897, 0.334, 171.005],
  ),
  song(
    '56y1jOTK0XSvJzVv9vHQBK',
    'Paint The Town Red',
    'Doja Cat',
    [1, 230480, 0.864, 0.556, 2, -7.683, 0, 0.194, 0.255, 0.00000385, 0.112, 0.726, 99.974],
  ),
  song(
    '7ucEkWU0SVy0XFdfXESgfY',
    'LOS PITS',
    'Bad Bunny',
    [1, 250851, 0.751, 0.669, 7, -5.367, 1, 0.445, 0.442, 0.00000211, 0.15, 0.69, 93.705],
  ),
  song(
    '6wf7Yu7cxBSPrRlWeSeK0Q',
    'What Was I Made For?',
    'Billie Eilish',
    [0, 222369, 0.444, 0.0911, 0, -17.665, 1, 0.0307, 0.959, 0.00000105, 0.098, 0.142, 78.403],
  ),
];

/**
 * Dev-only stand-in for the server's `GET /api/v1/catalogue`: builds the
 * catalogue from the shared CSV once and answers with `CatalogueSchema` JSON.
 * The e2e test server uses the same builder. The CSV's path is asked for at
 * the first catalogue request, so the dev server starts without the data and
 * that request fails with the resolver's message.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseSongsCsv } from '../../model/catalogue/catalogue-csv.ts';
import type { Catalogue } from '../../model/contract/api.ts';
import { ENDPOINTS } from '../../model/contract/endpoints.ts';

/** Reads the CSV and returns the catalogue body; throws when the file is unusable. */
export function buildCatalogue(csvPath: string): Catalogue {
  const text = readFileSync(csvPath, 'utf8');
  const r = parseSongsCsv(text);
  if (!r.ok) throw new Error(`catalogue ${csvPath}: ${r.code} ${r.message}`, { cause: r.details });
  const version = createHash('sha256').update(text).digest('hex').slice(0, 12);
  return { version, songs: r.value.songs };
}

/** `csvPath` gives the CSV's path when the catalogue is first requested, or throws saying why there is none. */
export function catalogueDevMiddleware(csvPath: () => string) {
  let body: string | undefined;
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (req.url !== ENDPOINTS.catalogue.path) {
      next();
      return;
    }
    body ??= JSON.stringify(buildCatalogue(csvPath()));
    res.setHeader('content-type', 'application/json');
    res.end(body);
  };
}

/**
 * Retraining from the field: pulls what the server holds (outcomes with the
 * songs' features, `GET /api/v1/outcomes/export`) and its production model
 * (manifest + files), and turns them into pipeline inputs:
 * - a chart-schema CSV of the charted outcomes, one row per (song, country),
 *   merged with the given files by song id in the targets step (a song's
 *   countries are the union of what the files and the outcomes say; a
 *   charted=false outcome removes nothing the files say);
 * - the recent outcomes (charted or not), on which the gate compares the
 *   candidate with production;
 * - the export's sha256, recorded as a source in the manifest lineage.
 * After the pipeline passes, `publishSigned` signs the model folder with the
 * label's private key and uploads it as a candidate.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, readJwk } from '../admin/label-keys.ts';
import { callServer, publishModelDir, type ServerTarget, serverBytes, serverUrl } from '../admin/server-client.ts';
import { signModelDir } from '../admin/sign-model-dir.ts';
import {
  COUNTRY_CODES,
  type CountryCode,
  type DataSource,
  type ExportedOutcome,
  ExportedOutcomeSchema,
  FEATURE_NAMES,
  fromVector,
  isCountryCode,
  ManifestSchema,
} from '../contract/index.ts';
import { verifyModelPackage } from '../signing/verify-model-package.ts';

/** One outcome the gate scores both models on. `song` is the id the pipeline's split uses. */
export interface RecentOutcome {
  readonly song: string;
  readonly x: readonly number[];
  readonly country: number;
  readonly charted: boolean;
}

export interface FieldData {
  /** The derived chart CSV (charted outcomes with features), to add to `--data`; null when there are none. */
  readonly csvPath: string | null;
  readonly source: DataSource;
  readonly outcomes: number;
  readonly chartRows: number;
  /** Outcomes whose song's features the server does not know (left out). */
  readonly withoutFeatures: number;
  readonly recent: RecentOutcome[];
  /** Each song's first outcome date (YYYY-MM-DD), for the time-ordered evaluation. */
  readonly songDates: Record<string, string>;
  /** Production model folder (manifest.json, model.json, weights.bin), or null when the server has none. */
  readonly production: { dir: string; version: string } | null;
}

/** The song id the pipeline uses: the catalogue id, else the feature fingerprint. */
const songKey = (o: ExportedOutcome) => o.songId ?? `fp-${o.fingerprint ?? o.id}`;

function csvCell(v: string | number): string {
  const t = String(v);
  return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

async function fetchProduction(target: ServerTarget, dir: string): Promise<{ dir: string; version: string } | null> {
  const rollout = await callServer(target, 'rollout');
  if (!rollout.production) return null;
  const v = rollout.production;
  const manifestBytes = await serverBytes(target, 'modelManifest', { params: { version: v } });
  const manifest = ManifestSchema.parse(JSON.parse(new TextDecoder().decode(manifestBytes)));
  const files = new Map<string, Uint8Array>();
  for (const f of manifest.files) {
    files.set(f.path, await serverBytes(target, 'modelFile', { params: { version: v, path: f.path } }));
  }
  // Nothing is written unless every file matches the manifest.
  const checked = await verifyModelPackage(manifest, files);
  if (!checked.ok) {
    throw new Error(`production ${v}: ${checked.message} ${JSON.stringify(checked.details)}`, { cause: checked });
  }
  await mkdir(dir, { recursive: true });
  for (const [path, bytes] of files) await writeFile(join(dir, path), bytes);
  await writeFile(join(dir, 'manifest.json'), manifestBytes);
  return { dir, version: v };
}

export async function pullFromServer(
  target: ServerTarget,
  workDir: string,
  opts: { recentDays: number; now?: Date },
): Promise<FieldData> {
  await mkdir(workDir, { recursive: true });
  const fetchedAt = new Date().toISOString();
  const raw = await serverBytes(target, 'exportOutcomes');
  const sha = createHash('sha256').update(raw).digest('hex');
  await writeFile(join(workDir, 'outcomes-export.ndjson'), raw);
  const lines = parseOutcomeExport(new TextDecoder().decode(raw));

  const now = opts.now ?? new Date();
  const recentFrom = new Date(now.getTime() - opts.recentDays * 86_400_000).toISOString().slice(0, 10);
  const countryIndex = new Map<string, number>(COUNTRY_CODES.map((c, i) => [c, i]));
  const seen = new Set<string>();
  const csv: string[] = [['spotify_id', 'country', ...FEATURE_NAMES].join(',')];
  const recent = new Map<string, RecentOutcome>();
  let withoutFeatures = 0;
  const songDates: Record<string, string> = {};
  for (const o of lines) {
    if (!o.features || o.features.length !== FEATURE_NAMES.length) {
      withoutFeatures += 1;
      continue;
    }
    if (!isCountryCode(o.country)) continue;
    const song = songKey(o);
    const day = o.date.slice(0, 10);
    if (!(song in songDates) || day < (songDates[song] as string)) songDates[song] = day;
    if (o.charted) {
      const key = `${song}|${o.country}`;
      if (!seen.has(key)) {
        seen.add(key);
        const f = fromVector(o.features);
        csv.push(
          [
            song,
            o.country as CountryCode,
            ...FEATURE_NAMES.map((n) => (n === 'is_explicit' ? (f[n] ? 'TRUE' : 'FALSE') : f[n])),
          ]
            .map((v) => csvCell(v as string | number))
            .join(','),
        );
      }
    }
    if (o.date >= recentFrom) {
      // The latest word on a (song, country) pair wins: a song can chart after a miss.
      const key = `${song}|${o.country}`;
      const prev = recent.get(key);
      if (!prev || o.charted)
        recent.set(key, { song, x: o.features, country: countryIndex.get(o.country) as number, charted: o.charted });
    }
  }
  let csvPath: string | null = null;
  if (seen.size > 0) {
    csvPath = join(workDir, 'field-outcomes.csv');
    await writeFile(csvPath, `${csv.join('\n')}\n`);
  }
  const production = await fetchProduction(target, join(workDir, 'production'));
  return {
    csvPath,
    source: {
      kind: 'server-export',
      name: 'outcomes-export.ndjson',
      sha256: sha,
      rows: lines.length,
      url: serverUrl(target, 'exportOutcomes'),
      fetchedAt,
    },
    outcomes: lines.length,
    chartRows: seen.size,
    withoutFeatures,
    recent: [...recent.values()],
    songDates,
    production,
  };
}

/** Signs the published folder with the label's private key (from `keyDir`) and uploads it as a candidate. */
export async function publishSigned(
  target: ServerTarget,
  dir: string,
  keyDir: string,
): Promise<{ version: string; keyId: string; created: boolean }> {
  const priv = await readJwk(join(keyDir, PRIVATE_KEY_FILE));
  const pub = await readJwk(join(keyDir, PUBLIC_KEY_FILE));
  const signed = await signModelDir(dir, priv, pub);
  const r = await publishModelDir(target, dir);
  return { version: r.version, keyId: signed.signature?.keyId ?? '', created: r.created };
}

/** The export's NDJSON, each line checked against the contract; a bad line stops the run naming its number. */
export function parseOutcomeExport(text: string): ExportedOutcome[] {
  const out: ExportedOutcome[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new Error(`outcomes export line ${i + 1}: not JSON`);
    }
    const parsed = ExportedOutcomeSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`outcomes export line ${i + 1}: ${issue?.path.join('.') || 'line'}: ${issue?.message}`);
    }
    out.push(parsed.data);
  });
  return out;
}

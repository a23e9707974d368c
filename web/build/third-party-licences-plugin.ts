/**
 * One copy of each third-party licence notice instead of hundreds: tfjs repeats its Apache-2.0 header in
 * every source file, which was ~300 KiB of the precache a phone downloads. The bundles are written without
 * legal comments (see `comments` in vite.config.ts) and this plugin collects their distinct texts, with the
 * packages they came from, into `third-party-licenses.txt` next to the app. Main and worker builds share one
 * collector; the worker is bundled before the main build writes its files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';

const LEGAL = /\/\*[*!][\s\S]*?\*\//g;

export interface LicenceCollector {
  /** `writes`: this build (the page's) writes the file; the worker's build only collects. */
  readonly plugin: (writes: boolean) => Plugin;
}

/** The package a module id belongs to, e.g. "@tensorflow/tfjs-core", and its folder. */
function packageOf(id: string): { name: string; dir: string } {
  const at = id.lastIndexOf('node_modules/');
  const rest = id.slice(at + 'node_modules/'.length).split('/');
  const name = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? id);
  return { name, dir: `${id.slice(0, at)}node_modules/${name}` };
}

/** "name version (licence)" and the package's own licence file, when it ships one. */
function packageNotice(dir: string): string {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    license?: string;
  };
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  const text = file ? readFileSync(join(dir, file), 'utf8').trim() : '(no licence file in the package)';
  return `${pkg.name} ${pkg.version} (${pkg.license ?? 'licence not stated'})\n\n${text}`;
}

/** Comment text without the comment markers and leading asterisks, so the same notice dedupes. */
function normalise(comment: string): string {
  return comment
    .replace(/^\/\*[*!]?/, '')
    .replace(/\*\/$/, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, '').trimEnd())
    .join('\n')
    .trim();
}

export function licenceCollector(): LicenceCollector {
  const notices = new Map<string, Set<string>>();
  const packages = new Map<string, string>();
  return {
    plugin: (writes) => ({
      name: 'jukebox-third-party-licences',
      transform(code, id) {
        if (!id.includes('node_modules/')) return null;
        const pkg = packageOf(id.split('?')[0] ?? id);
        if (!packages.has(pkg.name) && existsSync(join(pkg.dir, 'package.json'))) packages.set(pkg.name, pkg.dir);
        for (const m of code.matchAll(LEGAL)) {
          if (!/@license|@preserve|^\/\*!/.test(m[0])) continue;
          const text = normalise(m[0]);
          const set = notices.get(text) ?? new Set<string>();
          set.add(pkg.name);
          notices.set(text, set);
        }
        return null;
      },
      generateBundle() {
        if (!writes || packages.size === 0) return;
        const rule = `\n\n${'-'.repeat(72)}\n\n`;
        const licences = [...packages.keys()]
          .sort()
          .map((name) => packageNotice(packages.get(name) as string))
          .join(rule);
        const kept = [...notices].map(([text, pkgs]) => `In ${[...pkgs].sort().join(', ')}:\n\n${text}`).join(rule);
        this.emitFile({
          type: 'asset',
          fileName: 'third-party-licenses.txt',
          source: `Third-party software bundled in this app, with its licences.${rule}${licences}${rule}Notices from the source files:${rule}${kept}\n`,
        });
      },
    }),
  };
}

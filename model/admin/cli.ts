/**
 * The label admin's command line: `npm run model -- <command>`.
 *   keygen [--key-dir D] [--force]     create the label's signing key pair
 *   sign <model-dir> [--key-dir D]      sign the folder's manifest.json
 *   verify <model-dir> [--key-dir D]    check files and signature
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { verifyManifest, verifyModelFiles } from '../signing/manifest-signature.ts';
import { createLabelKeys, defaultKeyDir, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, readJwk } from './label-keys.ts';
import { readModelDir, signModelDir } from './sign-model-dir.ts';

const USAGE = `usage: npm run model -- <command>
  keygen [--key-dir DIR] [--force]   create the label's signing key pair (default DIR: ~/.jukebox)
  sign <model-dir> [--key-dir DIR]   check the files against manifest.json, then sign it
  verify <model-dir> [--key-dir DIR] check files and signature against the public key`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'key-dir': { type: 'string' }, force: { type: 'boolean', default: false } },
  });
  const [command, target] = positionals;
  const keyDir = values['key-dir'] ?? defaultKeyDir();
  switch (command) {
    case 'keygen': {
      const { keyId, publicPath } = await createLabelKeys(keyDir, values.force);
      console.log(`label key ${keyId}\npublic key: ${publicPath} (give this to the server and devices)`);
      return 0;
    }
    case 'sign': {
      if (!target) break;
      const signed = await signModelDir(
        target,
        await readJwk(join(keyDir, PRIVATE_KEY_FILE)),
        await readJwk(join(keyDir, PUBLIC_KEY_FILE)),
      );
      console.log(`signed ${signed.version} with key ${signed.signature?.keyId}`);
      return 0;
    }
    case 'verify': {
      if (!target) break;
      const { manifest, files } = await readModelDir(target);
      const f = await verifyModelFiles(manifest, files);
      const s = f.ok ? await verifyManifest(manifest, await readJwk(join(keyDir, PUBLIC_KEY_FILE))) : f;
      console.log(s.ok ? `${manifest.version}: files and signature verify` : `${manifest.version}: ${s.message}`);
      return s.ok ? 0 : 1;
    }
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

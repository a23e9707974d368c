/**
 * The label admin's command line: `npm run model -- <command>`. Keys stay on
 * the admin's machine; the server only ever sees signed manifests.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { verifyManifest } from '../signing/manifest-signature.ts';
import { verifyModelPackage } from '../signing/verify-model-package.ts';
import { createLabelKeys, defaultKeyDir, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, readJwk } from './label-keys.ts';
import { callServer, publishModelDir, serverTarget } from './server-client.ts';
import { readModelDir, signModelDir } from './sign-model-dir.ts';

const USAGE = `usage: npm run model -- <command> [options]
  keygen [--force]                 create the label's signing key pair in the key dir
  sign <model-dir>                 check the files against manifest.json, then sign it
  verify <model-dir>               check files and signature against the public key
  publish <model-dir>              upload a signed model to the server as a candidate
  canary <percent> --version V     run V on <percent>% of devices (and an equal control group)
  promote <version>                make a version production
  rollback                         go back to the previous production version
  shadow <version|none>            run a candidate in shadow beside the active model
  status                           show the rollout and recent audit entries
options: --key-dir DIR (default ~/.jukebox or JUKEBOX_KEY_DIR)
         --server URL (default JUKEBOX_SERVER or http://127.0.0.1:8787)
         --token T (default JUKEBOX_ADMIN_TOKEN)`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'key-dir': { type: 'string' },
      force: { type: 'boolean', default: false },
      server: { type: 'string' },
      token: { type: 'string' },
      version: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, arg] = positionals;
  const keyDir = values['key-dir'] ?? defaultKeyDir();
  const server = () => serverTarget(values.server, values.token);
  const print = (v: unknown) => console.log(JSON.stringify(v, null, 2));
  switch (command) {
    case 'keygen': {
      const { keyId, publicPath } = await createLabelKeys(keyDir, values.force);
      console.log(`label key ${keyId}\npublic key: ${publicPath} (give this to the server and devices)`);
      return 0;
    }
    case 'sign': {
      if (!arg) break;
      const priv = await readJwk(join(keyDir, PRIVATE_KEY_FILE));
      const signed = await signModelDir(arg, priv, await readJwk(join(keyDir, PUBLIC_KEY_FILE)));
      console.log(`signed ${signed.version} with key ${signed.signature?.keyId}`);
      return 0;
    }
    case 'verify': {
      if (!arg) break;
      const { manifest, files } = await readModelDir(arg);
      const f = await verifyModelPackage(manifest, files);
      const s = f.ok ? await verifyManifest(manifest, await readJwk(join(keyDir, PUBLIC_KEY_FILE))) : f;
      console.log(s.ok ? `${manifest.version}: files and signature verify` : `${manifest.version}: ${s.message}`);
      return s.ok ? 0 : 1;
    }
    case 'publish':
      if (!arg) break;
      print(await publishModelDir(server(), arg));
      return 0;
    case 'canary': {
      const percent = Number(arg);
      if (!values.version || !Number.isInteger(percent)) break;
      print(await callServer(server(), 'canary', { params: { version: values.version }, json: { percent } }));
      return 0;
    }
    case 'promote':
      if (!arg) break;
      print(await callServer(server(), 'promote', { params: { version: arg } }));
      return 0;
    case 'rollback':
      print(await callServer(server(), 'rollback'));
      return 0;
    case 'shadow':
      if (!arg) break;
      print(await callServer(server(), 'setShadow', { json: { version: arg === 'none' ? null : arg } }));
      return 0;
    case 'status':
      print(await callServer(server(), 'rollout'));
      return 0;
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

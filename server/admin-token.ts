/**
 * Issues a new admin token when the first one is lost (or to give a second
 * admin their own): run on the server machine, against the same store.
 *   npm run server:admin-token            (add --revoke-others to revoke every other admin token)
 */
import { loadConfig } from './config.ts';
import { createServices } from './services.ts';

const config = loadConfig();
const deps = await createServices(config, { log: () => {} });
try {
  if (process.argv.includes('--revoke-others')) {
    const n = await deps.tokens.revokeSubject('admin', 'admin');
    console.log(`revoked ${n} admin token(s)`);
  }
  const token = await deps.tokens.issue('admin', 'admin');
  console.log(`new admin token for the store at ${deps.store.location} (shown once):\n${token}`);
} finally {
  await deps.store.close();
}

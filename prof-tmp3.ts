import { spawnServer } from './server/testing/spawn-server.ts';
import { fixtureModel, makeLog, catalogueSongs } from './server/testing/fixtures.ts';
import autocannon from 'autocannon';
import { uuidv7 } from 'uuidv7';
import { readdirSync, readFileSync } from 'node:fs';
const model = await fixtureModel();
const songs = catalogueSongs();
const s = await spawnServer({ port: 8712, model, env: { RATE_LIMIT_PER_MINUTE: '100000000' }, nodeArgs: ['--cpu-prof', '--cpu-prof-dir=/tmp/jk-prof'] });
const tpl = JSON.stringify({ logs: Array.from({ length: 500 }, (_, i) => ({ ...makeLog(songs[i * 3]!, { deviceId: 'd', modelVersion: model.manifest.version }), id: '__ID__' })) }).split('"__ID__"');
const body = () => { let x = tpl[0]!; for (let i = 1; i < tpl.length; i++) x += `"${uuidv7()}"${tpl[i]}`; return x; };
const r = await autocannon({ url: s.url, connections: 4, duration: 6, requests: [{ method: 'POST', path: '/api/v1/logs', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.adminToken}` }, setupRequest: (q) => ({ ...q, body: body() }) }] });
console.log('rps', r['2xx'] / r.duration, 'p99', r.latency.p99, 'non2xx', r.non2xx);
await s.stop();
await new Promise((res) => setTimeout(res, 1000));
const files = readdirSync('/tmp/jk-prof').filter((f) => f.endsWith('.cpuprofile'));
for (const f of files) {
  const profile = JSON.parse(readFileSync(`/tmp/jk-prof/${f}`, 'utf8'));
  const self = new Map<string, number>(); let total = 0;
  const byId = new Map(profile.nodes.map((n: any) => [n.id, n]));
  profile.samples.forEach((sid: number, i: number) => { const n: any = byId.get(sid); const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`; const d = profile.timeDeltas[i] ?? 0; self.set(k, (self.get(k) ?? 0) + d); total += d; });
  console.log(f, (total / 1e6).toFixed(1), 's');
  console.log([...self].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${(100 * v / total).toFixed(1)}% ${k}`).join('\n'));
}

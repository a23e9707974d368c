/**
 * `npm run replay`: the monitoring replay on real data (scenario.ts), printed
 * as a report an admin can read: what was sent, the drift decision per
 * feature and for the outputs, performance beside the offline computation,
 * and the alerts; then the same with outcomes that get worse.
 */

import type { ApiResult } from '../../model/client/api-client.ts';
import { offlineMetrics, type Replay, runReplay } from './scenario.ts';

const f3 = (x: number | undefined | null) => (x === undefined || x === null ? '—' : x.toFixed(3));
const ci = (i: { value: number; lo: number; hi: number } | null | undefined) =>
  i ? `${f3(i.value)} [${f3(i.lo)}–${f3(i.hi)}]` : 'too few outcomes';

/** The value of a successful call; a failed one stops the report with the contract's code. */
function answerOf<T>(res: ApiResult<T>, what: string): T {
  if (!res.ok) throw new Error(`${what}: ${res.status} ${res.code}: ${res.message}`);
  return res.value;
}

async function describeRun(r: Replay, title: string): Promise<void> {
  console.log(`\n## ${title}\n`);
  const interactive = r.sent.filter((l) => l.kind === 'interactive').length;
  console.log(
    `${r.data.test.length} held-out songs of charts-2023.csv (the default model's test split), ${interactive} interactive logs from ${3} devices over 13 days, ${r.sent.length - interactive} catalogue-batch logs; charts dated ${r.day(7)} (${r.songsA.length} songs) and ${r.day(0)} (${r.songsB.length} songs).`,
  );
  const q = { version: r.version, from: r.day(13), to: r.day(0) };
  const api = r.server.api();
  const rep = answerOf(await api.call('driftReport', { query: q }), 'drift report');
  console.log(
    `\nInput drift, interactive, ${r.day(13)}…${r.day(0)}: ${rep.rows} rows (all kinds), ${rep.distinct} distinct songs, n_eff ${rep.effectiveN.toFixed(0)} → ${rep.status}`,
  );
  console.log('\n| feature | PSI | JS | KS p (adj.) | status | why |\n|---|---|---|---|---|---|');
  for (const f of rep.features)
    console.log(
      `| ${f.name} | ${f3(f.psi)} | ${f3(f.jsDistance)} | ${f.ksPValueAdjusted.toPrecision(2)} | ${f.status} | ${f.decision?.reason ?? ''} |`,
    );
  console.log(
    `\nOutputs: top-1 PSI ${f3(rep.outputs.top1Psi)} (chance at n=${rep.outputs.top1Null.n}: median ${f3(rep.outputs.top1Null.median)}, 99th ${f3(rep.outputs.top1Null.q99)}); entropy PSI ${f3(rep.outputs.entropyPsi)} → ${rep.outputs.status}: ${rep.outputs.decision?.reason ?? ''}`,
  );
  const batch = answerOf(await api.call('driftReport', { query: { ...q, kind: 'batch' } }), 'batch drift report');
  if (batch.distinct > 0)
    console.log(
      `Batch traffic (shown on request, never in the default): ${batch.distinct} songs, status ${batch.status}; flagged: ${
        batch.features
          .filter((f) => f.status === 'warn' || f.status === 'alert')
          .map((f) => f.name)
          .join(', ') || 'none'
      }.`,
    );
  const perf = answerOf(await api.call('performance', { query: { ...q, granularity: 'day' } }), 'performance');
  console.log(
    '\n| chart | songs | unmatched | macro AUC [95 %] | offline | pooled AUC [95 %] | offline | top-5 hit [95 %] | offline |\n|---|---|---|---|---|---|---|---|---|',
  );
  for (const p of perf.points) {
    const o = offlineMetrics(r, [p.period]);
    console.log(
      `| ${p.period} | ${p.songs} | ${p.unmatched} | ${ci(p.macroAuc)} | ${f3(o.macroAuc)} | ${ci(p.pooledAuc)} | ${f3(o.pooledAuc)} | ${ci(p.top5Hit)} | ${f3(o.top5Hit)} |`,
    );
  }
  console.log(
    `Manifest (test split, macro): ${f3(r.data.manifest.evaluation.model.macroAuc)}; top-5 ${f3(r.data.manifest.evaluation.model.top5Hit)}.`,
  );
  const { open } = answerOf(await api.call('evaluateAlerts'), 'alerts');
  console.log(`\nAlerts after evaluation: ${open.length === 0 ? 'none' : ''}`);
  for (const a of open) console.log(`- ${a.severity} · ${a.metric} · ${a.statistic}: ${a.message}`);
}

const t0 = performance.now();
const quiet = await runReplay();
await describeRun(quiet, 'Quiet inputs, real outcomes');
await quiet.server.close();
const worse = await runReplay({ worsen: true, catalogueBatch: false });
await describeRun(worse, "Quiet inputs, the later chart's countries shuffled between its songs");
await worse.server.close();
console.log(`\n(${((performance.now() - t0) / 1000).toFixed(1)} s)`);

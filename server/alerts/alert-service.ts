/**
 * Alerts: evaluates drift and performance of the production and canary
 * versions over the last N days, opens an alert episode when a threshold is
 * crossed, updates it while it lasts, resolves it when the metric is back
 * under its threshold, and POSTs each episode to the webhook once.
 */
import { uuidv7 } from 'uuidv7';
import type { AlertView } from '../../model/contract/admin-api.ts';
import type { Thresholds } from '../config.ts';
import type { DriftService } from '../drift/drift-service.ts';
import type { Metrics } from '../monitoring/metrics.ts';
import type { Registry } from '../registry/registry.ts';
import type { AlertsTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';

export interface Condition {
  version: string;
  metric: 'feature-drift' | 'prediction-drift' | 'performance';
  feature: string | null;
  severity: 'warn' | 'alert';
  value: number;
  threshold: number;
  message: string;
}

export type { AlertView };

export type WebhookSender = (url: string, body: unknown) => Promise<boolean>;

export const postWebhook: WebhookSender = async (url, body) => {
  try {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    return r.ok;
  } catch {
    return false;
  }
};

function view(r: AlertsTable): AlertView {
  return {
    id: r.id,
    version: r.model_version,
    metric: r.metric,
    feature: r.feature,
    severity: r.severity,
    value: r.value,
    threshold: r.threshold,
    message: r.message,
    openedAt: r.opened_at,
    updatedAt: r.updated_at,
    resolvedAt: r.resolved_at,
    notifiedAt: r.notified_at,
  };
}

const day = (d: Date) => d.toISOString().slice(0, 10);

export class AlertService {
  /** Called with the episodes this evaluation opened (e.g. to start a retraining job). */
  onOpened: (alerts: AlertView[]) => Promise<unknown> = async () => {};

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly drift: DriftService,
    private readonly metrics: Metrics,
    private readonly opts: {
      thresholds: () => Thresholds;
      windowDays: number;
      webhookUrl?: string;
      send?: WebhookSender;
    },
  ) {}

  /** What crosses a threshold now for one version, over the window ending today. */
  async conditions(version: string, now: Date): Promise<Condition[]> {
    const t = this.opts.thresholds();
    const from = new Date(now.getTime() - (this.opts.windowDays - 1) * 86_400_000);
    const w = { from: day(from), to: day(now) };
    const r = await this.drift.report(version, w);
    const out: Condition[] = [];
    for (const f of r.features) {
      this.metrics.featurePsi.set({ version, feature: f.name }, f.psi);
      this.metrics.featureKsP.set({ version, feature: f.name }, f.ksPValueAdjusted);
      this.metrics.featureJs.set({ version, feature: f.name }, f.jsDistance);
      if (f.status !== 'warn' && f.status !== 'alert') continue;
      const threshold = f.status === 'alert' ? t.psiAlert : t.psiWarn;
      out.push({
        version,
        metric: 'feature-drift',
        feature: f.name,
        severity: f.status,
        value: f.psi,
        threshold,
        message: `${f.name}: PSI ${f.psi.toFixed(3)}, JS ${f.jsDistance.toFixed(3)}, KS p(adj) ${f.ksPValueAdjusted.toExponential(2)} over ${r.distinct} distinct inputs (${w.from}…${w.to})`,
      });
    }
    this.metrics.outputPsi.set({ version, statistic: 'top1' }, r.outputs.top1Psi);
    this.metrics.outputPsi.set({ version, statistic: 'entropy' }, r.outputs.entropyPsi);
    if (r.outputs.status === 'warn' || r.outputs.status === 'alert') {
      const value = Math.max(r.outputs.top1Psi, r.outputs.entropyPsi);
      out.push({
        version,
        metric: 'prediction-drift',
        feature: null,
        severity: r.outputs.status,
        value,
        threshold: r.outputs.status === 'alert' ? t.outputPsiAlert : t.outputPsiWarn,
        message: `outputs: top-1 country PSI ${r.outputs.top1Psi.toFixed(3)}, entropy PSI ${r.outputs.entropyPsi.toFixed(3)}`,
      });
    }
    const m = await this.registry.get(version);
    const perf = await this.drift.performance(version, w, 'week');
    const matched = perf.reduce((a, p) => a + p.matched, 0);
    const latest = perf.filter((p) => p.auc !== null).at(-1);
    if (m && latest?.auc != null && matched >= t.minDistinct) {
      const drop = m.manifest.evaluation.model.macroAuc - latest.auc;
      if (drop >= t.aucDropWarn) {
        const severity = drop >= t.aucDropAlert ? 'alert' : 'warn';
        out.push({
          version,
          metric: 'performance',
          feature: null,
          severity,
          value: latest.auc,
          threshold: m.manifest.evaluation.model.macroAuc - (severity === 'alert' ? t.aucDropAlert : t.aucDropWarn),
          message: `ROC-AUC ${latest.auc.toFixed(3)} in week of ${latest.period}, ${drop.toFixed(3)} below the evaluated ${m.manifest.evaluation.model.macroAuc.toFixed(3)}`,
        });
      }
    }
    return out;
  }

  /** Evaluates every live version and reconciles alert episodes; returns the open alerts afterwards. */
  async evaluate(now = new Date()): Promise<AlertView[]> {
    const s = await this.registry.rollout();
    const versions = [...new Set([s.production, s.canary].filter((v): v is string => v !== null))];
    const conditions = (await Promise.all(versions.map((v) => this.conditions(v, now)))).flat();
    const at = now.toISOString();
    const open = await this.store.db.selectFrom('alerts').selectAll().where('resolved_at', 'is', null).execute();
    const openByKey = new Map(open.map((a) => [a.episode_key, a]));
    const live = new Set<string>();
    const toNotify: AlertsTable[] = [];
    const opened: AlertsTable[] = [];
    for (const c of conditions) {
      const key = `${c.version}|${c.metric}|${c.feature ?? ''}`;
      live.add(key);
      const existing = openByKey.get(key);
      if (existing) {
        await this.store.db
          .updateTable('alerts')
          .set({ severity: c.severity, value: c.value, threshold: c.threshold, message: c.message, updated_at: at })
          .where('id', '=', existing.id)
          .execute();
        if (!existing.notified_at)
          toNotify.push({ ...existing, severity: c.severity, value: c.value, message: c.message });
      } else {
        const row: AlertsTable = {
          id: uuidv7(),
          episode_key: key,
          model_version: c.version,
          metric: c.metric,
          feature: c.feature,
          severity: c.severity,
          value: c.value,
          threshold: c.threshold,
          message: c.message,
          opened_at: at,
          updated_at: at,
          resolved_at: null,
          notified_at: null,
        };
        await this.store.db.insertInto('alerts').values(row).execute();
        toNotify.push(row);
        opened.push(row);
      }
      this.metrics.alertState.set(
        { version: c.version, metric: c.metric, feature: c.feature ?? '' },
        c.severity === 'alert' ? 2 : 1,
      );
    }
    for (const a of open) {
      // Only versions evaluated now can resolve; an alert on a version no longer live is resolved too.
      if (live.has(a.episode_key)) continue;
      await this.store.db
        .updateTable('alerts')
        .set({ resolved_at: at, updated_at: at })
        .where('id', '=', a.id)
        .execute();
      this.metrics.alertState.remove({ version: a.model_version, metric: a.metric, feature: a.feature ?? '' });
    }
    if (this.opts.webhookUrl) {
      const send = this.opts.send ?? postWebhook;
      for (const a of toNotify) {
        // Once per episode: a failed POST is retried at the next evaluation, a delivered one never again.
        if (await send(this.opts.webhookUrl, { type: 'jukebox.alert', alert: view(a) })) {
          await this.store.db.updateTable('alerts').set({ notified_at: at }).where('id', '=', a.id).execute();
        }
      }
    }
    if (opened.length > 0) await this.onOpened(opened.map(view));
    return this.list({ open: true });
  }

  async list(opts: { open?: boolean; limit?: number } = {}): Promise<AlertView[]> {
    let q = this.store.db
      .selectFrom('alerts')
      .selectAll()
      .orderBy('opened_at', 'desc')
      .limit(opts.limit ?? 200);
    if (opts.open) q = q.where('resolved_at', 'is', null);
    return (await q.execute()).map(view);
  }
}

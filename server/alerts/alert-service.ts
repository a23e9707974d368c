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
import { daysBefore } from '../drift/window.ts';
import type { Metrics } from '../monitoring/metrics.ts';
import type { Registry } from '../registry/registry.ts';
import type { AlertsTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';

export interface Condition {
  version: string;
  metric: 'feature-drift' | 'prediction-drift' | 'performance';
  feature: string | null;
  severity: 'warn' | 'alert';
  /** The statistic that crossed: psi, js, psi-excess (outputs, above chance at this n), macro-auc-drop. */
  statistic: string;
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
    statistic: r.statistic,
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

export interface AlertServiceOptions {
  thresholds: () => Thresholds;
  windowDays: number;
  webhookUrl?: string;
  send?: WebhookSender;
}

export class AlertService {
  /** Called with the episodes this evaluation opened (e.g. to start a retraining job). */
  onOpened: (alerts: AlertView[]) => Promise<unknown> = async () => {};

  readonly #store: Store;
  readonly #registry: Registry;
  readonly #drift: DriftService;
  readonly #metrics: Metrics;
  readonly #opts: AlertServiceOptions;
  constructor(store: Store, registry: Registry, drift: DriftService, metrics: Metrics, opts: AlertServiceOptions) {
    this.#store = store;
    this.#registry = registry;
    this.#drift = drift;
    this.#metrics = metrics;
    this.#opts = opts;
  }

  /**
   * What crosses a threshold now for one version: drift over the last `windowDays` and performance over
   * the last `performanceWindowDays` (by chart date), interactive traffic. Each condition's message names
   * the statistic that crossed and its threshold.
   */
  async conditions(version: string, now: Date): Promise<Condition[]> {
    const t = this.#opts.thresholds();
    const w = { from: daysBefore(day(now), this.#opts.windowDays - 1), to: day(now) };
    const r = await this.#drift.report(version, w);
    const out: Condition[] = [];
    const span = `${r.distinct} songs (n_eff ${Math.round(r.effectiveN)}), ${w.from}…${w.to}`;
    for (const f of r.features) {
      this.#metrics.featurePsi.set({ version, feature: f.name }, f.psi);
      this.#metrics.featureKsP.set({ version, feature: f.name }, f.ksPValueAdjusted);
      this.#metrics.featureJs.set({ version, feature: f.name }, f.jsDistance);
      if ((f.status !== 'warn' && f.status !== 'alert') || !f.decision) continue;
      out.push({
        version,
        metric: 'feature-drift',
        feature: f.name,
        severity: f.status,
        statistic: f.decision.statistic,
        value: f.decision.value,
        threshold: f.decision.threshold,
        message: `${f.name}: ${f.decision.reason} (${span})`,
      });
    }
    this.#metrics.outputPsi.set({ version, statistic: 'top1' }, r.outputs.top1Psi);
    this.#metrics.outputPsi.set({ version, statistic: 'entropy' }, r.outputs.entropyPsi);
    if ((r.outputs.status === 'warn' || r.outputs.status === 'alert') && r.outputs.decision) {
      out.push({
        version,
        metric: 'prediction-drift',
        feature: null,
        severity: r.outputs.status,
        statistic: r.outputs.decision.statistic,
        value: r.outputs.decision.value,
        threshold: r.outputs.decision.threshold,
        message: `outputs: ${r.outputs.decision.reason} (${span})`,
      });
    }
    const m = await this.#registry.get(version);
    const pw = { from: daysBefore(day(now), t.performanceWindowDays - 1), to: day(now) };
    // Songs the model trained on are left out when the manifest lists them: the manifest's figure is on held-out songs.
    const [perf] = await this.#drift.performance(version, pw, null, undefined, true);
    const evaluated = m?.manifest.evaluation.model.macroAuc;
    const macro = perf?.macroAuc;
    if (m && evaluated !== undefined && macro && perf?.enough) {
      const drop = evaluated - macro.value;
      // The same definition (macro over countries with both classes) as the manifest's figure, and only
      // when the whole interval is below it: a drop inside the sampling error is not a finding.
      if (drop >= t.aucDropWarn && macro.hi < evaluated) {
        const severity = drop >= t.aucDropAlert ? 'alert' : 'warn';
        const inputsQuiet = r.status === 'ok';
        const drifted = r.features.filter((f) => f.status === 'warn' || f.status === 'alert').map((f) => f.name);
        const inputs = inputsQuiet
          ? `Inputs look like training (no feature or output drift on ${r.distinct} songs in the last ${this.#opts.windowDays} days)`
          : r.status === 'insufficient-data'
            ? 'Too few recent inputs to say whether they changed'
            : `Inputs have drifted too (${drifted.length > 0 ? drifted.join(', ') : 'outputs'})`;
        out.push({
          version,
          metric: 'performance',
          feature: null,
          severity,
          statistic: 'macro-auc-drop',
          value: macro.value,
          threshold: evaluated - (severity === 'alert' ? t.aucDropAlert : t.aucDropWarn),
          message: `${inputs}; accuracy fell from ${evaluated.toFixed(3)} (macro ROC-AUC at evaluation) to ${macro.value.toFixed(3)} [95 % ${macro.lo.toFixed(3)}–${macro.hi.toFixed(3)}] on ${perf.songs} songs charted ${pw.from}…${pw.to}: a drop of ${drop.toFixed(3)} ≥ ${severity} threshold ${severity === 'alert' ? t.aucDropAlert : t.aucDropWarn}, beyond the interval.`,
        });
      }
    }
    return out;
  }

  /** Evaluates every live version and reconciles alert episodes; returns the open alerts afterwards. */
  async evaluate(now = new Date()): Promise<AlertView[]> {
    const s = await this.#registry.rollout();
    const versions = [...new Set([s.production, s.canary].filter((v): v is string => v !== null))];
    const conditions = (await Promise.all(versions.map((v) => this.conditions(v, now)))).flat();
    const at = now.toISOString();
    const open = await this.#store.db.selectFrom('alerts').selectAll().where('resolved_at', 'is', null).execute();
    const openByKey = new Map(open.map((a) => [a.episode_key, a]));
    const live = new Set<string>();
    const toNotify: AlertsTable[] = [];
    const opened: AlertsTable[] = [];
    for (const c of conditions) {
      const key = `${c.version}|${c.metric}|${c.feature ?? ''}`;
      live.add(key);
      const existing = openByKey.get(key);
      if (existing) {
        await this.#store.db
          .updateTable('alerts')
          .set({
            severity: c.severity,
            statistic: c.statistic,
            value: c.value,
            threshold: c.threshold,
            message: c.message,
            updated_at: at,
          })
          .where('id', '=', existing.id)
          .execute();
        if (!existing.notified_at)
          toNotify.push({
            ...existing,
            severity: c.severity,
            statistic: c.statistic,
            value: c.value,
            threshold: c.threshold,
            message: c.message,
          });
      } else {
        const row: AlertsTable = {
          id: uuidv7(),
          episode_key: key,
          model_version: c.version,
          metric: c.metric,
          feature: c.feature,
          severity: c.severity,
          statistic: c.statistic,
          value: c.value,
          threshold: c.threshold,
          message: c.message,
          opened_at: at,
          updated_at: at,
          resolved_at: null,
          notified_at: null,
        };
        await this.#store.db.insertInto('alerts').values(row).execute();
        toNotify.push(row);
        opened.push(row);
      }
      this.#metrics.alertState.set(
        { version: c.version, metric: c.metric, feature: c.feature ?? '' },
        c.severity === 'alert' ? 2 : 1,
      );
    }
    for (const a of open) {
      // Only versions evaluated now can resolve; an alert on a version no longer live is resolved too.
      if (live.has(a.episode_key)) continue;
      await this.#store.db
        .updateTable('alerts')
        .set({ resolved_at: at, updated_at: at })
        .where('id', '=', a.id)
        .execute();
      this.#metrics.alertState.remove({ version: a.model_version, metric: a.metric, feature: a.feature ?? '' });
    }
    if (this.#opts.webhookUrl) {
      const send = this.#opts.send ?? postWebhook;
      for (const a of toNotify) {
        // Once per episode: a failed POST is retried at the next evaluation, a delivered one never again.
        if (await send(this.#opts.webhookUrl, { type: 'jukebox.alert', alert: view(a) })) {
          await this.#store.db.updateTable('alerts').set({ notified_at: at }).where('id', '=', a.id).execute();
        }
      }
    }
    if (opened.length > 0) await this.onOpened(opened.map(view));
    return this.list({ open: true });
  }

  async list(opts: { open?: boolean; limit?: number } = {}): Promise<AlertView[]> {
    let q = this.#store.db
      .selectFrom('alerts')
      .selectAll()
      .orderBy('opened_at', 'desc')
      .limit(opts.limit ?? 200);
    if (opts.open) q = q.where('resolved_at', 'is', null);
    return (await q.execute()).map(view);
  }

  /** These alerts (any state), by id. */
  async byIds(ids: readonly string[]): Promise<AlertView[]> {
    if (ids.length === 0) return [];
    return (await this.#store.db.selectFrom('alerts').selectAll().where('id', 'in', ids).execute()).map(view);
  }
}

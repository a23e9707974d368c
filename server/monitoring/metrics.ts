/**
 * Prometheus metrics (prom-client) on a registry of our own, so several
 * app instances in one process (tests) do not collide: ingest counters and
 * latencies, per-feature drift gauges per version, alert states, fleet size.
 */
import client from 'prom-client';

export class Metrics {
  readonly registry = new client.Registry();
  readonly logsIngested = this.ingested(
    'logs',
    'Prediction logs received, by result (stored = new, duplicate = already stored).',
  );
  readonly outcomesIngested = this.ingested('outcomes', 'Outcomes received, by result.');
  readonly batches = this.counter(
    'jukebox_ingest_batches_total',
    'Ingest requests by kind and outcome (accepted or the error code).',
    ['kind', 'outcome'],
  );
  readonly batchSeconds = new client.Histogram({
    name: 'jukebox_ingest_batch_seconds',
    help: 'Time to validate and store one ingest batch.',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly httpRequests = this.counter('jukebox_http_requests_total', 'HTTP requests by method and status.', [
    'method',
    'status',
  ]);
  readonly scheduledRuns = this.counter(
    'jukebox_scheduled_runs_total',
    'Periodic tasks (alert evaluation) this instance ran, having claimed the interval for all instances.',
    ['task'],
  );
  readonly featurePsi = this.featureGauge('psi', 'PSI of each input feature vs the reference, over the alert window.');
  readonly featureKsP = this.featureGauge(
    'ks_p_adjusted',
    'Holm-adjusted KS p-value of each input feature, over the alert window.',
  );
  readonly featureJs = this.featureGauge(
    'js_distance',
    'Jensen–Shannon distance of each input feature, over the alert window.',
  );
  readonly outputPsi = this.gauge(
    'jukebox_drift_output_psi',
    'PSI of the top-1 country distribution and of the output entropy.',
    ['version', 'statistic'],
  );
  readonly alertState = this.gauge(
    'jukebox_alert_state',
    'Open alerts: 1 = warn, 2 = alert (series removed when resolved).',
    ['version', 'metric', 'feature'],
  );
  /** Queried at each scrape (set by createServices): devices per last-used version. */
  fleetSource: () => Promise<Record<string, number>> = async () => ({});
  readonly fleet = (() => {
    const self = this;
    return new client.Gauge({
      name: 'jukebox_fleet_devices',
      help: 'Enrolled, unrevoked devices by the model version they last logged with.',
      labelNames: ['version'] as const,
      registers: [this.registry],
      // Every worker reads the same store, so in cluster mode one worker's fresh value is the answer.
      aggregator: 'first',
      async collect() {
        const counts = await self.fleetSource();
        this.reset();
        for (const [version, n] of Object.entries(counts)) this.set({ version }, n);
      },
    });
  })();
  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]) {
    return new client.Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[]) {
    return new client.Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  }

  /** Records received per request, by result (`stored` or `duplicate`). */
  private ingested(records: 'logs' | 'outcomes', help: string) {
    return this.counter(`jukebox_${records}_ingested_total`, help, ['result']);
  }

  /** One drift statistic per input feature and model version. */
  private featureGauge(statistic: string, help: string) {
    return this.gauge(`jukebox_drift_feature_${statistic}`, help, ['version', 'feature']);
  }
}

/**
 * Prometheus metrics (prom-client) on a registry of our own, so several
 * app instances in one process (tests) do not collide: ingest counters and
 * latencies, per-feature drift gauges per version, alert states, fleet size.
 */
import client from 'prom-client';

export class Metrics {
  readonly registry = new client.Registry();
  readonly logsIngested = new client.Counter({
    name: 'jukebox_logs_ingested_total',
    help: 'Prediction logs received, by result (stored = new, duplicate = already stored).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly outcomesIngested = new client.Counter({
    name: 'jukebox_outcomes_ingested_total',
    help: 'Outcomes received, by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly batches = new client.Counter({
    name: 'jukebox_ingest_batches_total',
    help: 'Ingest requests by kind and outcome (accepted or the error code).',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly batchSeconds = new client.Histogram({
    name: 'jukebox_ingest_batch_seconds',
    help: 'Time to validate and store one ingest batch.',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly httpRequests = new client.Counter({
    name: 'jukebox_http_requests_total',
    help: 'HTTP requests by method and status.',
    labelNames: ['method', 'status'] as const,
    registers: [this.registry],
  });
  readonly scheduledRuns = new client.Counter({
    name: 'jukebox_scheduled_runs_total',
    help: 'Periodic tasks (alert evaluation) this instance ran, having claimed the interval for all instances.',
    labelNames: ['task'] as const,
    registers: [this.registry],
  });
  readonly featurePsi = new client.Gauge({
    name: 'jukebox_drift_feature_psi',
    help: 'PSI of each input feature vs the reference, over the alert window.',
    labelNames: ['version', 'feature'] as const,
    registers: [this.registry],
  });
  readonly featureKsP = new client.Gauge({
    name: 'jukebox_drift_feature_ks_p_adjusted',
    help: 'Holm-adjusted KS p-value of each input feature, over the alert window.',
    labelNames: ['version', 'feature'] as const,
    registers: [this.registry],
  });
  readonly featureJs = new client.Gauge({
    name: 'jukebox_drift_feature_js_distance',
    help: 'Jensen–Shannon distance of each input feature, over the alert window.',
    labelNames: ['version', 'feature'] as const,
    registers: [this.registry],
  });
  readonly outputPsi = new client.Gauge({
    name: 'jukebox_drift_output_psi',
    help: 'PSI of the top-1 country distribution and of the output entropy.',
    labelNames: ['version', 'statistic'] as const,
    registers: [this.registry],
  });
  readonly alertState = new client.Gauge({
    name: 'jukebox_alert_state',
    help: 'Open alerts: 1 = warn, 2 = alert (series removed when resolved).',
    labelNames: ['version', 'metric', 'feature'] as const,
    registers: [this.registry],
  });
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
}

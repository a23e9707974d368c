/**
 * Training progress on the terminal (cli-progress): one bar per trained
 * network, silent when stderr is not a TTY or with --quiet.
 */
import cliProgress from 'cli-progress';
import type { EpochLog } from './train.ts';

export interface TrainingProgress {
  readonly onEpoch: (log: EpochLog, best: number) => void;
  stop(): void;
}

export function trainingProgress(label: string, maxEpochs: number, enabled: boolean): TrainingProgress {
  if (!enabled) return { onEpoch: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(10)} {bar} {value}/{total} epochs | loss {loss} | val macro AUC {auc} (best {best})`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(maxEpochs, 0, { loss: '-', auc: '-', best: '-' });
  return {
    onEpoch: (log, best) =>
      bar.update(log.epoch, {
        loss: log.loss.toFixed(4),
        auc: log.validationMacroAuc.toFixed(4),
        best: best.toFixed(4),
      }),
    stop: () => bar.stop(),
  };
}

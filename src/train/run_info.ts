// What a run directory holds, for `lstm-cuda info RUN`: the model's config and vocabulary, its parameter
// count and step, the best validation loss (and best/'s step), when and on which device it was trained (the
// 'start' events of log.jsonl), the options it was trained with and the kept step-N/ history.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { holdsCheckpoint, loadCheckpoint, type CheckpointConfig } from '../checkpoint/checkpoint.js';
import { LOG_FILE, BEST_DIR } from './run_dir.js';
import { readRunOptions, type TrainOptions } from './options.js';
import { historyDirs } from './history.js';

export interface RunInfo {
  dir: string;
  config: CheckpointConfig;
  vocab: { mode: string; size: number; symbols?: string };
  parameters: number;
  step: number;
  bestValLoss?: number;
  bestStep?: number;
  lastValLoss?: number;
  /** each training invocation: when it started, on which device, from which step */
  sessions: { time: string; device: string; deviceName: string; step: number; resumed: boolean; initFrom?: string }[];
  options?: Partial<TrainOptions>;
  history: number[];
}

export function runInfo(dir: string): RunInfo {
  const ck = loadCheckpoint(dir, { device: 'ref' });
  const parameters = ck.model.parameters().reduce((a, p) => a + p.size, 0);
  ck.model.dispose();
  ck.optimizer?.dispose();
  const info: RunInfo = {
    dir, config: ck.config, parameters, step: ck.step, sessions: [], history: historyDirs(dir).map((h) => h.step),
    vocab: {
      mode: ck.vocab.mode, size: ck.vocab.size,
      ...(ck.vocab.mode === 'char' ? { symbols: Array.from({ length: ck.vocab.stopId }, (_, i) => ck.vocab.symbol(i)).join('') } : {}),
    },
  };
  const logPath = join(dir, LOG_FILE);
  if (existsSync(logPath)) {
    for (const line of readFileSync(logPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let e: Record<string, unknown>;
      try { e = JSON.parse(line) as Record<string, unknown>; } catch { continue; } // a torn last line
      if (e.type === 'val' && typeof e.valLoss === 'number') {
        info.lastValLoss = e.valLoss;
        if (info.bestValLoss === undefined || e.valLoss < info.bestValLoss) { info.bestValLoss = e.valLoss; info.bestStep = e.step as number; }
      } else if (e.type === 'start') {
        info.sessions.push({ time: String(e.time), device: String(e.device), deviceName: String(e.deviceName), step: Number(e.step), resumed: !!e.resumed, ...(typeof e.initFrom === 'string' ? { initFrom: e.initFrom } : {}) });
      }
    }
  }
  if (holdsCheckpoint(join(dir, BEST_DIR))) {
    try { info.bestStep = loadCheckpoint(join(dir, BEST_DIR), { device: 'ref' }).step; } catch { /* best/ unreadable: the log's step stands */ }
  }
  try { info.options = readRunOptions(dir); } catch { /* a model-only directory */ }
  return info;
}

export function formatRunInfo(r: RunInfo): string {
  const c = r.config;
  const o = r.options;
  const lines = [
    `run: ${r.dir}`,
    `model: ${c.numLayers}×${c.hiddenSize} LSTM, embedding ${c.embedDim}, dropout ${c.dropout}, ${r.parameters.toLocaleString('en-US')} parameters; data mode ${c.mode}`,
    `vocabulary: ${r.vocab.mode}, ${r.vocab.size} symbols (STOP included)${r.vocab.symbols !== undefined ? `: ${JSON.stringify(r.vocab.symbols.length > 120 ? r.vocab.symbols.slice(0, 120) + '…' : r.vocab.symbols)}` : ''}`,
    `step: ${r.step}` + (r.bestValLoss !== undefined ? `; best validation loss ${r.bestValLoss.toFixed(4)}${r.bestStep !== undefined ? ` (step ${r.bestStep}, in best/)` : ''}, last ${r.lastValLoss!.toFixed(4)}` : '; no validation'),
  ];
  for (const s of r.sessions) lines.push(`trained: ${s.time} on ${s.device} (${s.deviceName}), ${s.resumed ? `resumed at step ${s.step}` : s.initFrom ? `fine-tuned from ${s.initFrom}` : 'from scratch'}`);
  if (r.sessions.length === 0) lines.push('trained: when and where not recorded (no start events in log.jsonl)');
  if (o) lines.push(`options: ${o.file ?? '(text)'}; batch ${o.batch}, seq ${o.seq}, lr ${o.lr} (decay ${o.lrDecay}), clip ${o.clip}, val ${o.val}, seed ${o.seed}`);
  if (r.history.length) lines.push(`history: ${r.history.map((s) => `step-${s}/`).join(' ')}`);
  return lines.join('\n');
}

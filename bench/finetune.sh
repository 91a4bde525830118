#!/usr/bin/env bash
# Fine-tuning on a small chat file against training from scratch, and the byte-model UTF-8 mask, on the
# default device (ref here: about 5 minutes on 2 busy cores). Everything is reproducible from the repo:
#   1. bench/data/chat-export.txt (bench/chat_corpus.ts: a synthetic WhatsApp export, 400 conversations)
#      → prepare --turns → chat.txt
#   2. a base model on general English (the demo corpus: nlp-corpus sentences, 400 kB), 3 minutes
#   3. chat.txt for STEPS steps, --init-from the base vs from scratch (same architecture, lr, seed,
#      batches, validation split); validation loss every 50 steps, from both log.jsonl files
#   4. a byte model on chat.txt (--keep: its step-50 checkpoint is the undertrained one), then
#      bench/utf8_mass.js on both
# Output: JSON lines on stdout (raw output committed under bench/results/).
# usage: bash bench/finetune.sh [WORKDIR] > bench/results/finetune-chat.jsonl
set -euo pipefail
W=${1:-$(mktemp -d)}
STEPS=${STEPS:-400}
CLI="node dist/cli/main.js"
mkdir -p "$W"
mkdir -p bench/data && node build/bench/chat_corpus.js bench/data/chat-export.txt
$CLI prepare bench/data/chat-export.txt --me "Alex Kim" --turns --out "$W/chat.txt" --force
node --input-type=module -e "import { demoCorpus } from './dist/cli/demo.js'; import { writeFileSync } from 'node:fs'; writeFileSync('$W/english.txt', demoCorpus(400000));"
ARCH="--layers 1 --hidden 128 --embed 32 --seq 64 --batch 16"
$CLI train "$W/english.txt" --out "$W/base" $ARCH --lr 1e-2 --minutes 3 --seed 1 --quiet --force
for kind in finetuned scratch; do
  init=""; [ "$kind" = finetuned ] && init="--init-from $W/base"
  $CLI train "$W/chat.txt" --out "$W/$kind" $ARCH --lr 3e-3 --steps "$STEPS" --eval-every 50 --seed 1 --quiet --force $init
  node -e "
    const fs = require('fs');
    const val = fs.readFileSync('$W/$kind/log.jsonl', 'utf8').split('\n').filter(Boolean).map(JSON.parse).filter((e) => e.type === 'val');
    console.log(JSON.stringify({ bench: 'finetune', run: '$kind', initFrom: '$init' ? 'base (english, 3 min)' : null, steps: $STEPS, valLoss: val.map((e) => [e.step, +e.valLoss.toFixed(4)]) }));"
done
$CLI train "$W/chat.txt" --out "$W/bytes" --vocab byte $ARCH --lr 1e-2 --steps 600 --save-every 50 --keep 20 --seed 1 --quiet --force
node build/bench/utf8_mass.js "$W/bytes/step-50" "$W/bytes" --count 200 --length 200

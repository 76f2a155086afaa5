#!/bin/bash
# The shipped A2E prior (issue #17, session 9), end to end on one CPU thread; every step resumes when rerun.
#   bash scripts/train_a2e_shipped.sh [SEED]        # SEED 0 is the shipped file; 1 and 2 are the other training seeds
# Data: 912 motion-only training clips (SynthTalk motion v2) and the evaluation sets. Chain: the regression baseline
# (2400 steps) -> its speed-perturbed fine-tune (400 steps, the mean head) -> the residual prior on the plain
# regression (1800 steps) -> its blocks on the speed-perturbed mean head (600 steps) -> scores -> the ship gate.
# About 40 min of training on one thread, then ~4 min of scoring. The first and third runs start from the A2E prior
# shipped before session 9 (commit 35e0568), which git still has.
set -e
S=${1:-0}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
mkdir -p runs
PREV=runs/a2e_prior_35e0568.safetensors
[ -f $PREV ] || git show 35e0568:data_samples/priors/a2e_cpu.safetensors > $PREV
[ -d data/synthtalk_a2e_big ] || python scripts/a2e_data.py data/synthtalk_a2e_big --clips-per-identity 60 --motion 2
[ -d data/synthtalk_a2e ] || python scripts/a2e_data.py data/synthtalk_a2e --motion 2
[ -d data/style_a2e ] || python scripts/a2e_data.py data/style_a2e --motion 2 --style-set
T="python scripts/train_a2e.py"
A="--data data/synthtalk_a2e_big --batch 16 --augment 0.2 --no-val --ckpt-every 100 --seed $S"
$T regression $A --steps 2400 --lr 1e-4 --warmup 100 --init $PREV --out runs/a2e_big_regression_s$S
$T regression $A --steps 400 --speed-perturb 0.5 --lr 5e-5 --warmup 30 \
    --init runs/a2e_big_regression_s$S/final.safetensors --out runs/a2e_s8_big_regspeed_s$S
$T residual $A --steps 1800 --warmup 100 --init $PREV \
    --init-mean runs/a2e_big_regression_s$S/final.safetensors --out runs/a2e_big_residual_s$S
$T residual $A --steps 600 --lr 1e-4 --warmup 50 --init runs/a2e_big_residual_s$S/final.safetensors \
    --init-mean runs/a2e_s8_big_regspeed_s$S/final.safetensors --out runs/a2e_s8_big_resspeed_s$S
python scripts/eval_a2e.py runs/a2e_s8_big_resspeed_s$S/final.safetensors big_resspeed_s${S}_t05_pc --temperature 0.5 \
    --per-clip-seed --out-dir runs/a2e_s8_work
[ -f runs/a2e_s8_work/eval_shipped_pc.json ] || python scripts/eval_a2e.py $PREV shipped_pc --per-clip-seed \
    --out-dir runs/a2e_s8_work
python scripts/ship_a2e.py runs/a2e_s8_big_resspeed_s$S/final.safetensors --temperature 0.5 --dry-run \
    --eval runs/a2e_s8_work/eval_big_resspeed_s${S}_t05_pc.json --against runs/a2e_s8_work/eval_shipped_pc.json
echo "to ship: rerun the last command without --dry-run, with --command and --data (see the shipped file's metadata)"

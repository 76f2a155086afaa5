# colour ablation, part 5: the proposed defaults (10 UV Fourier octaves, lr_color 1e-2) against no colour MLP, 3 seeds,
# 600 steps; held-out clip (tracked and clean track) and the first adaptation clip (seen frames: overfitting gap);
# head, mouth and rest-of-head PSNR
# run from the repository root: PYTHONPATH=. python scripts/issue16/color_run_seeds.py  (outputs under runs/, which
# git ignores; one adaptation per line of the log, the JSON rewritten after each); the old defaults:
# LR=1e-3 FOURIER=4 VARIANTS=on OUT=runs/color/bench_color_seeds_old.json
import json
import os
import time

from ggtalker_nb.adapt.color import bench_color

OUT = os.environ.get("OUT", "runs/color/bench_color_seeds.json")
SEEDS = tuple(int(s) for s in os.environ.get("SEEDS", "0,1,2").split(","))
LR, FOURIER = float(os.environ.get("LR", 1e-2)), int(os.environ.get("FOURIER", 10))  # the colour settings under test
VARIANTS = tuple(v == "on" for v in os.environ.get("VARIANTS", "on,off").split(","))  # colour MLP on / off
t0 = time.perf_counter()
rows, loads = [], []
for seed in SEEDS:
    for use_mlp in VARIANTS:
        rows += bench_color(
            {"shaded": "data/synthtalk_shaded"},
            phase1_steps=300,
            phase2_steps=300,
            threads=1,
            color_deform=False,  # as measured: before the deformation input existed
            variants=(use_mlp,),
            seeds=(seed,),
            train_eval=True,
            lr_color=LR,
            color_fourier=FOURIER,
            out_dir=os.environ.get("FRAMES"),  # a few held-out frames per run, for the figures
        )
        loads.append(os.getloadavg())
        json.dump(dict(rows=rows, loads=loads, seconds=time.perf_counter() - t0), open(OUT, "w"), indent=1)

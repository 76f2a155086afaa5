# colour ablation, part 6: the shipped deformation input (EVAdaptConfig.color_deform → ColorMLP(deform_dims=4), the
# features computed in avatar.runtime.render_batch) against no colour MLP and the defaults without it, 3 seeds, same
# data, steps and E-V prior as table color_seeds (runs/color/e2v_cfeebe2.safetensors, the prior of commit cfeebe2)
# run from the repository root: PYTHONPATH=. python scripts/issue16/color_run_deform.py  (runs/color/, git-ignored;
# one adaptation per line of the log, the JSON rewritten after each); order: deform + off for every seed, then the
# defaults without the deformation input (ORDER="deform,off;plain"); the figure's frames:
# ORDER=deform SEEDS=0 FRAMES=runs/color/frames_deform OUT=runs/color/deform_frames.json (same command)
import json
import os
import time

from ggtalker_nb.adapt.color import bench_color

OUT = os.environ.get("OUT", "runs/color/bench_color_deform_shipped.json")
SEEDS = tuple(int(s) for s in os.environ.get("SEEDS", "0,1,2").split(","))
SETTINGS = dict(deform=(True, True), off=(False, False), plain=(True, False))  # (colour MLP, color_deform)
ORDER = os.environ.get("ORDER", "deform,off;plain").split(";")  # groups run seed by seed, one group after the other
t0 = time.perf_counter()
rows, loads = [], []
for group in ORDER:
    for seed in SEEDS:
        for name in group.split(","):
            use_mlp, deform = SETTINGS[name]
            new = bench_color(
                {"shaded": "data/synthtalk_shaded"},
                phase1_steps=300,
                phase2_steps=300,
                threads=1,
                variants=(use_mlp,),
                seeds=(seed,),
                train_eval=True,
                prior="runs/color/e2v_cfeebe2.safetensors",
                color_deform=deform,
                out_dir=os.environ.get("FRAMES"),  # a few held-out frames per run, for the figure
            )
            rows += [dict(r, setting=name) for r in new]
            loads.append(os.getloadavg())
            json.dump(dict(rows=rows, loads=loads, seconds=time.perf_counter() - t0), open(OUT, "w"), indent=1)

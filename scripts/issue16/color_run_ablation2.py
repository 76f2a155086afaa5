# colour-MLP ablation, part 2: is it the optimisation budget? longer runs, colour-MLP learning rate 1e-3 vs 1e-2 (shaded
# data)
# run from the repository root: PYTHONPATH=. python scripts/issue16/color_run_ablation2.py  (outputs under runs/, which
# git ignores)
import json
import os
import time
from ggtalker_nb.adapt.color import bench_color

t0 = time.perf_counter()
rows = []
for lr, variants in ((1e-2, (True,)), (1e-3, (True, False))):
    rows += bench_color(
        {"shaded": "data/synthtalk_shaded"},
        phase1_steps=300,
        phase2_steps=300,
        threads=1,
        color_deform=False,  # as measured: before the deformation input existed
        variants=variants,
        lr_color=lr,
    )
    json.dump(
        dict(rows=rows, load=os.getloadavg(), seconds=time.perf_counter() - t0),
        open("runs/color/bench_color2.json", "w"),
        indent=1,
    )

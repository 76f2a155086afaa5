# colour ablation, part 4: are the colour MLP's UV features too coarse for the mouth? fourier 8 octaves (default 4),
# lr_color 1e-2
# run from the repository root: PYTHONPATH=. python scripts/issue16/color_run_ablation3.py  (outputs under runs/, which
# git ignores)
# (experiment only: adapt_ev builds ColorMLP(E, 6); here that constructor is swapped for one with fourier=8)
import functools
import json
import os
import time
import ggtalker_nb.adapt.ev as ev
from ggtalker_nb.avatar.color import ColorMLP
from ggtalker_nb.adapt.color import bench_color

ev.ColorMLP = functools.partial(ColorMLP, fourier=int(os.environ.get("FOURIER", 8)))
t0 = time.perf_counter()
rows = bench_color(
    {"shaded": "data/synthtalk_shaded"},
    phase1_steps=300,
    phase2_steps=300,
    threads=1,
    color_deform=False,  # as measured: before the deformation input existed
    variants=(True,),
    lr_color=1e-2,
)
for r in rows:
    r["fourier"] = int(os.environ.get("FOURIER", 8))
json.dump(
    dict(rows=rows, load=os.getloadavg(), seconds=time.perf_counter() - t0),
    open(os.environ.get("OUT", "runs/color/bench_color3.json"), "w"),
    indent=1,
)

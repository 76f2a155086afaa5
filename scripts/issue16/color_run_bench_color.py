# colour-MLP ablation (issue #16.4): build the two small SynthTalk sets, then adapt with/without the colour MLP
# run from the repository root: PYTHONPATH=. python scripts/issue16/color_run_bench_color.py  (outputs under runs/,
# which git ignores)
import json
import os
import time
from ggtalker_nb.adapt.color import bench_color, shaded_synthtalk

t0 = time.perf_counter()
dirs = {
    "shaded": shaded_synthtalk("data/synthtalk_shaded", True),
    "unshaded": shaded_synthtalk("data/synthtalk_unshaded", False),
}
print("data built", round(time.perf_counter() - t0), "s", flush=True)
rows = bench_color(
    {k: str(v) for k, v in dirs.items()},
    phase1_steps=int(os.environ.get("P1", 150)),
    phase2_steps=int(os.environ.get("P2", 150)),
    threads=1,
    color_deform=False,  # as measured: before the deformation input existed
)
json.dump(
    dict(rows=rows, load=os.getloadavg(), seconds=time.perf_counter() - t0),
    open("runs/color/bench_color.json", "w"),
    indent=1,
)

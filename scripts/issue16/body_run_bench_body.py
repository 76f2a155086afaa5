# issue #16.1 / #18.2: body inpainter v2 bench (band PSNR, seam flicker, ms/frame) on SynthTalk mini id0002
# run from the repository root: PYTHONPATH=. python scripts/issue16/body_run_bench_body.py  (outputs under runs/, which
# git ignores)
import json
import os
import time
import torch
from ggtalker_nb.adapt.inpainter import bench_body

torch.set_num_threads(2)
t0 = time.perf_counter()
r = bench_body(
    sizes=tuple(int(s) for s in os.environ.get("SIZES", "256,512").split(",")), steps=int(os.environ.get("STEPS", 1500))
)
r["seconds"] = time.perf_counter() - t0
r["load_end"] = os.getloadavg()
json.dump(r, open(os.environ.get("OUT", "runs/body/bench_body.json"), "w"), indent=1)

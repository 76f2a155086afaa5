# issue #16.1 / #18.2: body inpainter v2 bench (band PSNR, seam flicker, ms/frame) on SynthTalk mini id0002
# run from the repository root: PYTHONPATH=. python scripts/issue16/body_run_bench_body.py  (outputs under runs/, which
# git ignores); THREADS=1 SIZES=256 OUT=… for a 1-thread run at 256² only
import json
import os
import time
import torch
from ggtalker_nb.adapt.inpainter import bench_body

THREADS = int(os.environ.get("THREADS", 2))  # torch threads for training (and the only timing row when 1)
torch.set_num_threads(THREADS)
t0 = time.perf_counter()
r = bench_body(
    sizes=tuple(int(s) for s in os.environ.get("SIZES", "256,512").split(",")),
    steps=int(os.environ.get("STEPS", 1500)),
    threads=(2, 1) if THREADS > 1 else (1,),
    out_dir=os.environ.get("NETS"),  # keep the trained nets (for the before/after figures)
)
r["seconds"] = time.perf_counter() - t0
r["load_end"] = os.getloadavg()
json.dump(r, open(os.environ.get("OUT", "runs/body/bench_body.json"), "w"), indent=1)

"""A2E sampling speed, the old per-step condition encoding against the new once-per-window one, in the same run.

    # 10 s of audio, audio encoder + DDIM 10, 2 and 1 threads, medians of 5
    python scripts/bench_a2e_sampling.py [A2E file]

Cases run interleaved so that load changes hit them alike; prints JSON rows (with the load average) and writes
runs/a2e_work/speed.json."""

import torch
import time
import os
import json
import sys
import ggtalker_nb.a2e.model as M
from ggtalker_nb.a2e.model import load_a2e, sample, DEFAULT_GUIDANCE
from ggtalker_nb.a2e.eval import encode_audio
import numpy as np

src = sys.argv[1] if len(sys.argv) > 1 else "data_samples/priors/a2e_cpu.safetensors"
m, enc = load_a2e(src)
audio = (np.random.default_rng(0).standard_normal(160000) * 0.1).astype(np.float32)
orig = M._guided


def run(cache, g):
    if not cache:
        M._guided = lambda *a, cache=None: orig(*a)
    try:
        t = time.perf_counter()
        f = encode_audio(enc, audio, window=m.config.window, context=m.config.context)
        sample(m, f, 0, steps=10, guidance=g, generator=torch.Generator().manual_seed(0))
        return time.perf_counter() - t
    finally:
        M._guided = orig


rows = []
for th in (2, 1):
    torch.set_num_threads(th)
    cases = [
        ("old path, guidance (2, 1.5): 3 passes", False, (2.0, 1.5)),
        ("new path, guidance (2, 1.5): 3 passes", True, (2.0, 1.5)),
        (f"old path, default guidance {DEFAULT_GUIDANCE}: 2 passes", False, DEFAULT_GUIDANCE),
        (f"new path, default guidance {DEFAULT_GUIDANCE}: 2 passes", True, DEFAULT_GUIDANCE),
        ("new path, no guidance", True, (1.0, 1.0)),
    ]
    ts = {c[0]: [] for c in cases}
    run(True, (1.0, 1.0))
    for rep in range(5):  # interleaved, so load changes hit every case alike
        for name, cache, g in cases:
            ts[name].append(run(cache, g))
    for name, cache, g in cases:
        med = float(np.median(ts[name]))
        rows.append(dict(threads=th, what=name, seconds=med, x_realtime=10.0 / med, load=os.getloadavg()[0]))
        print(json.dumps(rows[-1]), flush=True)
os.makedirs("runs/a2e_work", exist_ok=True)
json.dump(rows, open("runs/a2e_work/speed.json", "w"), indent=1)

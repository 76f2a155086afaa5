"""A2E sampling speed of the shipped prior against the previous one, in the same run (issue #17's speed target:
≥ 20× real time for 10 s of audio with DDIM 10 + default guidance on 2 threads).

    git show 35e0568:data_samples/priors/a2e_cpu.safetensors > /tmp/a2e_cpu_old.safetensors   # the previous prior
    python scripts/bench_a2e_ship_speed.py /tmp/a2e_cpu_old.safetensors

10 s of audio, the audio encoder + DDIM 10 + guidance (1, 2) at each file's default temperature, 2 threads, the two
files interleaved, medians of 7 after a warm-up; writes the figures `ship_*` into results/a2e_speed.json and its
headline (order 13)."""

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

from ggtalker_nb.a2e.eval import encode_audio
from ggtalker_nb.a2e.model import DEFAULT_GUIDANCE, load_a2e, sample

OLD = sys.argv[1]
NEW = sys.argv[2] if len(sys.argv) > 2 else "data_samples/priors/a2e_cpu.safetensors"
torch.set_num_threads(2)
audio = (np.random.default_rng(0).standard_normal(160000) * 0.1).astype(np.float32)
models = {k: load_a2e(p) for k, p in (("previous", OLD), ("shipped", NEW))}


def run(name):
    m, enc = models[name]
    t = time.perf_counter()
    with torch.no_grad():
        f = encode_audio(enc, audio, window=m.config.window, context=m.config.context)
        sample(m, f, 0, steps=10, guidance=DEFAULT_GUIDANCE, generator=torch.Generator().manual_seed(0))
    return time.perf_counter() - t


for k in models:
    run(k)  # warm-up
times = {k: [] for k in models}
loads = []
for _ in range(7):
    for k in models:
        loads.append(os.getloadavg()[0])
        times[k].append(run(k))
x = {k: 10.0 / statistics.median(v) for k, v in times.items()}
load = round(statistics.median(loads), 2)
print({k: round(v, 1) for k, v in x.items()}, "load", load)
res = json.load(open("results/a2e_speed.json"))
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
res["figures"].update(ship_x=round(x["shipped"], 1), ship_prev_x=round(x["previous"], 1), ship_load=load)
res["notes"] = [n for n in res["notes"] if not n.startswith("Session 9")] + [
    f"Session 9 ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit} + working tree, load {load}): "
    f"`python scripts/bench_a2e_ship_speed.py /tmp/a2e_cpu_old.safetensors` — the shipped residual prior "
    f"{x['shipped']:.1f}× real time against the previous x0 prior {x['previous']:.1f}× in the same run (10 s of "
    "audio, encoder + DDIM 10 + guidance (1, 2), 2 threads, medians of 7, interleaved)."
]
for h in res["headline"]:
    if h.get("order") == 13:
        h["what"] = "A2E sampling, 10 s of audio, DDIM 10 + default guidance (1, 2), 2 threads (the shipped prior)"
        h["measured"] = (
            "{ship_x:.1f}× real time at load {ship_load:.2f} (same run: the previous shipped prior {ship_prev_x:.1f}×; "
            "the session-6 record of the previous prior: {ddim10_default_x:.1f}× at load {load:.2f}, "
            "{ddim10_default_x_loaded_lo:.1f}–{ddim10_default_x_loaded_hi:.1f}× at load 4–13)"
        )
        h["target"] = "≥ 20× — " + (
            "met" + (" (on a quiet machine)" if load < 1.5 else f" at load {load}")
            if x["shipped"] >= 20
            else f"**missed** at load {load}"
        )
json.dump(res, open("results/a2e_speed.json", "w"), indent=1, ensure_ascii=False)
open("results/a2e_speed.json", "a").write("\n")

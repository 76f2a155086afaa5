"Train the shipped E2V prior (CPU, 1 thread) and write data_samples/priors/e2v_cpu.safetensors."

import sys
import time
import json
import datetime
import torch

torch.set_num_threads(1)
from ggtalker_nb.e2v.train import E2VTrainConfig, train_e2v
from ggtalker_nb.e2v.generator import E2VConfig

t0 = time.time()
start = datetime.datetime.utcnow().isoformat(timespec="seconds") + "Z"
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 1800
cfg = E2VTrainConfig(
    steps=STEPS,
    batch_size=4,
    lr=5e-4,
    warmup=50,
    ckpt_every=50,
    log_every=10,
    out_dir="runs/e2v_prior",
    frames_per_clip=6,
    novel_per_frame=2,
    res=128,
    time_budget_s=float(sys.argv[1]) if len(sys.argv) > 1 else 2550.0,
)
r = train_e2v(cfg, E2VConfig.cpu(), "data/synthtalk")
wall = time.time() - t0
cmd = "python scripts/train_e2v.py " + " ".join(sys.argv[1:])
meta = dict(
    command=cmd,
    api=f"train_e2v(E2VTrainConfig(steps={STEPS}, batch_size=4, lr=5e-4, warmup=50, ckpt_every=50, frames_per_clip=6, "
    "novel_per_frame=2, res=128, time_budget_s={cfg.time_budget_s}), E2VConfig.cpu(), 'data/synthtalk')",
    data="data/synthtalk train split (16 identities), seed 0",
    steps=r["step"],
    stopped=r["stopped"],
    train_seconds=round(r["seconds"], 1),
    wall_seconds=round(wall, 1),
    started=start,
    threads=1,
    machine="2-core CPU shared with other jobs",
    final=r["history"][-1] if r["history"] else None,
)
r["generator"].save("data_samples/priors/e2v_cpu.safetensors", meta)
print("SAVED", json.dumps(meta))

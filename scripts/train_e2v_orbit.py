"""Retrain the E2V prior with anisotropic texel footprints and full-orbit novel views (#16), warm-started from the
previous (isotropic) prior; CPU, one thread, resumable (rerun the same command to continue from the last checkpoint).

    ggtalker synthtalk --out data/synthtalk_e2v --identities 20 --clips-per-identity 12 --resolution 256 --seed 0 \
        --max-seconds 3
    python scripts/train_e2v_orbit.py STEPS BUDGET_S [DATA] [OUT]

The warm start (OUT/init.safetensors, made once from data_samples/priors/e2v_cpu.safetensors as it was before this
run): every weight of the previous prior except the output head's scale and rotation rows, which are re-initialised
(their old values were residuals over the round base). Writes OUT/final.safetensors when the schedule finishes; the
shipping step (scripts/ship_e2v_orbit.py) evaluates it against the previous prior and copies it only if better.
"""

import datetime
import json
import sys
import time
from pathlib import Path

import torch

torch.set_num_threads(1)
from ggtalker_nb.data.synthtalk import sample_head_flame
from ggtalker_nb.e2v.generator import E2VConfig, IdentityGaussianGenerator
from ggtalker_nb.e2v.train import E2VTrainConfig, train_e2v

STEPS, BUDGET = int(sys.argv[1]), float(sys.argv[2])
DATA = sys.argv[3] if len(sys.argv) > 3 else "data/synthtalk_e2v"
OUT = Path(sys.argv[4] if len(sys.argv) > 4 else "runs/e2v_orbit")
OUT.mkdir(parents=True, exist_ok=True)
INIT = OUT / "init.safetensors"
if not INIT.exists():
    flame = sample_head_flame()
    old = IdentityGaussianGenerator.load("data_samples/priors/e2v_cpu.safetensors", flame)
    new = IdentityGaussianGenerator(flame, E2VConfig.cpu())
    sd = old.weights()
    torch.manual_seed(0)
    w, b = sd["head.weight"].clone(), sd["head.bias"].clone()
    for sl in (new.spec.scale, new.spec.rotation):
        w[sl] = torch.randn_like(w[sl]) * new.config.head_init_std
        b[sl] = 0
    sd["head.weight"], sd["head.bias"] = w, b
    new.load_state_dict(sd, strict=False)
    new.save(INIT, dict(note="warm start: the previous isotropic prior, scale/rotation output rows re-initialised"))
t0 = time.time()
start = datetime.datetime.utcnow().isoformat(timespec="seconds") + "Z"
cfg = E2VTrainConfig(
    steps=STEPS,
    batch_size=4,
    lr=3e-4,
    warmup=30,
    ckpt_every=25,
    log_every=10,
    out_dir=str(OUT),
    frames_per_clip=6,
    novel_per_frame=3,
    novel_yaw=180.0,
    res=128,
    time_budget_s=BUDGET,
    progress=False,
)
r = train_e2v(cfg, E2VConfig.cpu(), DATA, init=str(INIT))
print(
    "DONE",
    json.dumps(
        dict(
            step=r["step"],
            stopped=r["stopped"],
            seconds=round(r["seconds"], 1),
            started=start,
            wall=round(time.time() - t0, 1),
            final=r["history"][-1] if r["history"] else None,
        )
    ),
    flush=True,
)

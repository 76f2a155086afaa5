"""Fine-tune the E2V prior against the head mesh alone (#16): targets are SynthTalk re-renders of the FLAME head without
the torso (`E2VTrainConfig.targets='head'`), and the base map's Gaussians are flat along the normal and inset below the
surface (`E2VConfig(normal_scale=0.3, inset=0.0045)`), so that the splat surface's alpha-0.5 contour meets the mesh
silhouette. Warm start: the shipped prior (every weight). CPU, one thread, resumable (rerun the same command).

    python scripts/train_e2v_head.py STEPS BUDGET_S [DATA] [OUT] [SEAM_SCALE] [MIN_TANGENT]

As run: `300 2400 data/synthtalk_e2v runs/e2v_head` (warm start: the prior shipped before #16's fix), then
`300 2400 data/synthtalk_e2v runs/e2v_seam 1.6` (warm start: the first run's prior, as shipped; its frame bank copied
into runs/e2v_seam, which only skips rebuilding the same bank): `E2VConfig.seam_scale`. (The shipped runs used OUT
folders under /tmp/look/run instead of runs/.) Then `300 2400 data/synthtalk_e2v runs/e2v_cover 1.6 0.8` (warm start:
the seam prior, as shipped; same bank): `E2VConfig.min_tangent`, the decoder's floor on the tangent σ.

Then `python scripts/ship_e2v_head.py` evaluates it against the shipped prior and ships it only if it is better.
"""

import datetime
import json
import sys
import time
from pathlib import Path

import torch

torch.set_num_threads(1)
from ggtalker_nb.data.synthtalk import sample_head_flame  # noqa: E402
from ggtalker_nb.e2v.generator import E2VConfig, IdentityGaussianGenerator  # noqa: E402
from ggtalker_nb.e2v.train import E2VTrainConfig, train_e2v  # noqa: E402

STEPS, BUDGET = int(sys.argv[1]), float(sys.argv[2])
DATA = sys.argv[3] if len(sys.argv) > 3 else "data/synthtalk_e2v"
OUT = Path(sys.argv[4] if len(sys.argv) > 4 else "runs/e2v_head")
SEAM = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
MIN_TANGENT = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
OUT.mkdir(parents=True, exist_ok=True)
CONFIG = E2VConfig(normal_scale=0.3, inset=0.0045, seam_scale=SEAM, min_tangent=MIN_TANGENT)
INIT = OUT / "init.safetensors"
if not INIT.exists():
    flame = sample_head_flame()
    old = IdentityGaussianGenerator.load("data_samples/priors/e2v_cpu.safetensors", flame)
    (OUT / "previous_prior.safetensors").write_bytes(Path("data_samples/priors/e2v_cpu.safetensors").read_bytes())
    new = IdentityGaussianGenerator(flame, CONFIG)
    new.load_state_dict(old.weights(), strict=False)
    new.save(INIT, dict(note="warm start: the shipped prior's weights on the inset, flat base"))
t0 = time.time()
start = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
cfg = E2VTrainConfig(
    steps=STEPS,
    batch_size=4,
    lr=3e-4,
    warmup=20,
    ckpt_every=25,
    log_every=10,
    out_dir=str(OUT),
    frames_per_clip=4,
    novel_per_frame=2,
    novel_yaw=180.0,
    res=128,
    time_budget_s=BUDGET,
    progress=False,
    targets="head",
)
r = train_e2v(cfg, CONFIG, DATA, init=str(INIT))
final = r["history"][-1] if r["history"] else None
print(
    "DONE",
    json.dumps(
        dict(
            step=r["step"],
            stopped=r["stopped"],
            seconds=round(r["seconds"], 1),
            started=start,
            wall=round(time.time() - t0, 1),
            final=final,
        )
    ),
    flush=True,
)

# refit the shipped identity's colour stage alone (issue #16.4) with the proposed colour defaults, and measure it
# against the shipped colour MLP and no colour MLP on the identity's held-out clip (not used by its E-V adaptation)
# run from the repository root: PYTHONPATH=. python scripts/issue16/color_refit_sample.py  (outputs under runs/color/,
# which git ignores; install with scripts/issue16/color_install_sample.py only if the figures say so)
import json
import os
import time
from pathlib import Path
from types import SimpleNamespace

import torch

from ggtalker_nb.adapt.color import region_psnr, refit_color
from ggtalker_nb.avatar.identity import load_identity

torch.set_num_threads(1)
STEPS = int(os.environ.get("STEPS", 600))
d = Path("data_samples/identity_sample")
ident, flame = load_identity(d)
src = ident.info["source"]
root = Path(src["video_dir"])
held = list(src["ev_eval_clips"])
adapt = [root / c for c in src["clips"] if c not in held]
uv = ident.color_mlp.uv
res = {"steps": STEPS, "adapt_clips": [c.name for c in adapt], "heldout_clips": held, "rows": []}


def measure(label, mlp):
    ns = SimpleNamespace(gaussians=ident.gaussians, color_mlp=mlp, flame=flame, shape=ident.shape)
    for split, clips in (("heldout", [root / c for c in held]), ("train", adapt[:1])):
        r = region_psnr(ns, clips, ("tracked",), ident.camera.width, split, dict(color=label))[0]
        res["rows"].append(r)
        print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}, flush=True)


measure("shipped (joint, 4 octaves, lr 1e-3)", ident.color_mlp)
measure("none", None)
RUNS = [("refit alone, 10 octaves, lr 1e-2", dict(fourier=10, lr=1e-2))]
if os.environ.get("CONTROL"):  # the same procedure with the old colour settings
    RUNS.append(("refit alone, 4 octaves, lr 1e-3", dict(fourier=4, lr=1e-3)))
for label, kw in RUNS:
    t0, hist = time.perf_counter(), []
    mlp = refit_color(ident.gaussians, flame, ident.shape, uv, adapt, steps=STEPS, history=hist, **kw)
    res[label] = dict(fit_s=round(time.perf_counter() - t0, 1), loss_first=hist[0]["loss"], loss_last=hist[-1]["loss"])
    print(label, res[label], flush=True)
    if kw["fourier"] == 10:
        mlp.save("runs/color/color_mlp_refit.safetensors", dict(command="scripts/issue16/color_refit_sample.py"))
    measure(label, mlp)
res["load"] = os.getloadavg()
res["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
json.dump(res, open("runs/color/refit_sample.json", "w"), indent=1)

"Add the training history and the schedule record to the shipped prior's metadata."

import json
from ggtalker_nb.core import load_safetensors
from ggtalker_nb.e2v.generator import IdentityGaussianGenerator
from ggtalker_nb.data.synthtalk import sample_head_flame

P = "data_samples/priors/e2v_cpu.safetensors"
_, m = load_safetensors(P)
assert "command" in m, "the training script has not written the prior yet"
gen = IdentityGaussianGenerator.load(P, sample_head_flame())
h = json.load(open("runs/e2v_prior/history.json"))["history"]
keys = ("step", "t", "lr", "loss", "l1", "ssim", "perc", "alpha", "offset", "scale", "psnr")
hist = [{k: round(float(r[k]), 6) for k in keys if k in r} for r in h]
meta = {k: v for k, v in m.items() if k not in ("kind", "config", "uv_res", "atlas_hash")}
meta["history"] = hist
meta["command"] = (
    "python scripts/train_e2v.py 2330 900   # args: time budget (s), steps; rerun to resume, then python "
    "scripts/ship_e2v.py"
)
meta["schedule_note"] = (
    "four invocations of scripts/train_e2v.py (then kept at .scratch/h_e2v/train_prior.py): (1) args '2550' "
    "(steps=1800), stopped by hand after the "
    "step-50 checkpoint to shorten the cosine schedule; (2) '2700 1500' resumed at step 50, stopped by hand after the "
    "step-150 checkpoint when the shared CPU proved slower (~3.3 s/step); (3) '2330 900' resumed at step 150 and ran "
    "to step 800 when the session ended; (4) '1200 900' resumed at step 800 and finished at step 900 (111 s, alone on "
    "the CPU). "
    "train_seconds = summed training-loop time of all four (bank build excluded)."
)
gen.save(P, meta)
print(json.dumps({k: v for k, v in meta.items() if k != "history"}, indent=1))
print(len(hist), "history rows")

# retrain the shipped identity's body inpainter as version 2 on its own 32 body frames and the identity's renders of
# them (#16.1)
# run from the repository root: PYTHONPATH=. python scripts/issue16/body_refit_sample.py  (outputs under runs/, which
# git ignores)
import os
import time
import torch
from ggtalker_nb.adapt.inpainter import refit_body
from ggtalker_nb.avatar.identity import load_identity
from ggtalker_nb.core import data_samples_path

torch.set_num_threads(1)
t0 = time.perf_counter()
ident, flame = load_identity(data_samples_path("identity_sample"))
heads = ident.body_heads(flame)
steps = int(os.environ.get("STEPS", 1500))
b = refit_body(ident.body, heads=heads, steps=steps)
b.save(
    os.environ.get("OUT", "runs/body/body_v2.safetensors"),
    metadata=dict(
        command="scripts/issue16/body_refit_sample.py (refit_body(identity_sample body, heads=its renders of the body "
        f"frames, steps={steps}))"
    ),
)
print("done", round(time.perf_counter() - t0), b.history[-1], flush=True)

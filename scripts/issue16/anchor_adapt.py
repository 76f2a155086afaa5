r"""Adapt SynthTalk id0004 (the shipped identity's clips) with one E-V adaptation setting, for the ablation of
`EVAdaptConfig.lambda_prior` / `hidden_neck` (#16: what the adaptation video does not show).

    python scripts/issue16/anchor_adapt.py 0 transparent    # the old defaults
    python scripts/issue16/anchor_adapt.py 1 transparent    # the new defaults
    python scripts/issue16/anchor_adapt.py 1 ignore 0       # the whole neck (head-only views), as first measured
    python scripts/issue16/anchor_adapt.py 1 ignore 2       # ... also dropping a 2-px band at the occlusion edge
    python scripts/issue16/anchor_adapt.py 1 prior 0        # the hidden neck asked to look as the prior draws it
    FREE=0.7 python scripts/issue16/anchor_adapt.py 1 prior 0   # ... and texels seen at n·v < 0.7 partly anchored
    python scripts/issue16/anchor_views.py runs/adapt_anchor/lam0_transparent runs/adapt_anchor/lam1_transparent \
        runs/adapt_anchor/lam1_ignore

Trains on id0004_c000-c009 (split heldout_adapt), logs head PSNR on c010, 1200 steps (no time budget), 1 thread;
writes runs/adapt_anchor/lam{λ}_{mode}[_band{b}]/ (map + shape as safetensors, history as JSON). The third argument is
`EVAdaptConfig.hidden_band_px` (default: the config's; named in the folder when not 'transparent' and not 0); $FREE
sets `prior_free_facing` (named when not 0.5), $EDGE `edge_px` (default 0, named when set), $TAG a folder suffix;
the colour MLP has no deformation input unless DEFORM=1. Needs
$DATA (default data/synthtalk_e2v; `ggtalker synthtalk`, see scripts/train_e2v_orbit.py).
"""

import json
import os
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

from ggtalker_nb.adapt.ev import EVAdaptConfig, adapt_ev
from ggtalker_nb.data.video import clip_paths
from ggtalker_nb.talker import Talker

torch.set_num_threads(1)
lam, mode = float(sys.argv[1]), sys.argv[2]
band = int(sys.argv[3]) if len(sys.argv) > 3 else EVAdaptConfig().hidden_band_px
data = os.environ.get("DATA", "data/synthtalk_e2v")
free = float(os.environ.get("FREE", EVAdaptConfig().prior_free_facing))  # `prior_free_facing`
edge = int(os.environ.get("EDGE", 0))  # `edge_px` (the runs of the table before it existed: 0)
out = Path(
    f"runs/adapt_anchor/lam{lam:g}_{mode}"
    + (f"_band{band}" if mode != "transparent" and band else "")
    + (f"_free{free:g}" if free != 0.5 else "")
    + (f"_edge{edge}" if edge else "")
    + os.environ.get("TAG", "")
)
t = Talker.from_pretrained()
paths = sorted(p for p in clip_paths(data) if p.name.startswith("id0004_c0") and p.name != "id0004_c011")
train, held = [p for p in paths if p.name != "id0004_c010"], [p for p in paths if p.name == "id0004_c010"]
cfg = EVAdaptConfig(
    lambda_prior=lam,
    hidden_neck=mode,
    hidden_band_px=band,
    prior_free_facing=free,
    edge_px=edge,
    color_deform=os.environ.get("DEFORM", "0") == "1",  # the runs of the table were made without it
    eval_every=200,
    progress=False,
)
t0 = time.time()
r = adapt_ev(train, t.generator, cfg, out_dir=out / "ckpt", eval_clips=held, flame=t.flame)
out.mkdir(parents=True, exist_ok=True)
save_file(dict(uvmap=r.uvmap.contiguous(), shape=r.shape.contiguous()), out / "result.safetensors")
rec = dict(seconds=time.time() - t0, load=os.getloadavg()[0], config=r.config, history=r.history)
(out / "result.json").write_text(json.dumps(rec, indent=1))
print(json.dumps(r.history[-1]))

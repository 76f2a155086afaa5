"""E-V adaptation of SynthTalk id0004 (its heldout_adapt clips but the last, as `ggtalker adapt` does; E-V only, no
eval clip) with EVAdaptConfig.lambda_prior = LAMBDA from PRIOR, then the stripe ratio / head PSNR / IoU at yaw 0–180°
(scripts/stripes_adapted.py's protocol: frame 10 of the heldout_test clip at 256², against the head mesh alone).
Writes OUT_DIR/adapt_TAG.json and the renders OUT_DIR/ad_TAG_yawY.png.

    python scripts/stripes_adapt_prior.py LAMBDA PRIOR TAG [OUT_DIR]
    # as run: 10 data_samples/priors/e2v_cpu.safetensors lam10 /tmp/look/s6
"""

import json
import os
import sys
import time
import numpy as np
import torch

torch.set_num_threads(1)
from ggtalker_nb.adapt.ev import EVAdaptConfig, adapt_ev
from ggtalker_nb.data.synthtalk import sample_head_flame
from ggtalker_nb.data.video import ClipReader, clip_paths
from ggtalker_nb.e2v.eval import ground_truth, stripe_ratio, texel_lattice, view_camera
from ggtalker_nb.e2v.generator import IdentityGaussianGenerator, flame_vertices
from ggtalker_nb.gaussians.uvmap import uv_texel_table
from ggtalker_nb.metrics import psnr
from ggtalker_nb.render.gaussians import render

lam, prior_path, tag = float(sys.argv[1]), sys.argv[2], sys.argv[3]
OUT = sys.argv[4] if len(sys.argv) > 4 else "."
flame = sample_head_flame()
gen = IdentityGaussianGenerator.load(prior_path, flame)
readers = sorted((ClipReader(p) for p in clip_paths("data/synthtalk_e2v")), key=lambda r: r.path.name)
adapt = [r.path for r in readers if r.identity == "id0004" and r.meta.get("split") == "heldout_adapt"]
train = adapt[:-1] if len(adapt) >= 3 else adapt
t0 = time.time()
res = adapt_ev(train, gen, EVAdaptConfig(lambda_prior=lam, eval_every=0, progress=False), flame=flame)
secs = time.time() - t0
fl = flame
lg = res.gaussians.local() if hasattr(res.gaussians, "local") else res.gaussians
table = uv_texel_table(fl.vt, fl.ft, 128)
tgt = [r for r in readers if r.identity == "id0004" and r.meta.get("split") == "heldout_test"][0]
f = 10
tr = tgt.flame_clean if tgt.flame_clean is not None else tgt.flame
params = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tr.to_dict().items() if k != "static_offset"}
params = {k: (res.shape[None].float() if k == "shape" else v[f : f + 1]) for k, v in params.items()}
with torch.no_grad():
    v = flame_vertices(fl, params)
    g = lg.to_world(v.to(lg.means.dtype), fl.faces).detach()
rows = []
for yaw in (0, 60, 90, 135, 180):
    cam = view_camera(yaw, 0, 256)
    gt, gm = ground_truth(tgt, [f], cam, 256)
    with torch.no_grad():
        o = render(g, cam)
    a = o.alpha.reshape(256, 256)
    pred = (o.rgb.reshape(256, 256, 3) + (1 - a[..., None])).clamp(0, 1)
    r, n = stripe_ratio(pred, gt[0], (a > 0.5) & (gm[0] > 0.5), *texel_lattice(table, v[0], fl.faces, cam))
    head = (gm[0] > 0.05) | (a > 0.05)
    rows.append(
        dict(
            yaw=yaw,
            stripe=None if r is None else round(r, 3),
            psnr_head=round(float(psnr(pred, gt[0], mask=head)), 2),
            iou=round(float(((a > 0.5) & (gm[0] > 0.5)).sum() / ((a > 0.5) | (gm[0] > 0.5)).sum()), 4),
        )
    )
    from PIL import Image

    Image.fromarray((torch.cat([gt[0], pred], 1).numpy() * 255).astype(np.uint8)).save(f"{OUT}/ad_{tag}_yaw{yaw}.png")
out = dict(
    tag=tag,
    lambda_prior=lam,
    prior=prior_path,
    seconds=round(secs),
    load=os.getloadavg()[0],
    psnr_head_final=res.history[-1].get("psnr_head") if res.history else None,
    rows=rows,
)
print(json.dumps(out))
open(f"{OUT}/adapt_{tag}.json", "w").write(json.dumps(out, indent=1))

"""Why one-image heads show a grid of dark lines at a higher resolution than the prior was trained at, and the
decoder's tangent-σ floor (`E2VConfig.min_tangent`) that closes the gaps: for each floor, the shipped prior's weights
are evaluated on the held-out SynthTalk identities (head PSNR / IoU / stripes, `eval_e2v`, 128², stripes at 256²) and
the front surface's coverage is measured at 768²: the fraction of face pixels where the Gaussians in front of the
head's middle reach alpha < 0.9 (the back of the head, seen through the gaps, draws the lines).

    python scripts/issue16/e2v_coverage.py [DATA] [FLOORS...]
"""

import dataclasses
import json
import os
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
from ggtalker_nb.core import data_samples_path, load_safetensors  # noqa: E402
from ggtalker_nb.data.synthtalk import sample_head_flame  # noqa: E402
from ggtalker_nb.data.track import fit_photo  # noqa: E402
from ggtalker_nb.data.video import ClipReader  # noqa: E402
from ggtalker_nb.e2v.eval import eval_e2v, predict_map, summarize_e2v  # noqa: E402
from ggtalker_nb.e2v.generator import E2VConfig, IdentityGaussianGenerator, flame_vertices  # noqa: E402
from ggtalker_nb.render.gaussians import render  # noqa: E402
from ggtalker_nb.talker import scale_camera  # noqa: E402

DATA = sys.argv[1] if len(sys.argv) > 1 else "data/synthtalk_e2v"
FLOORS = [float(x) for x in sys.argv[2:]] or [0.0, 0.7]
PRIOR = "data_samples/priors/e2v_cpu.safetensors"
flame = sample_head_flame()
t, m = load_safetensors(PRIOR)
refs = [
    fit_photo(ClipReader(data_samples_path("synthtalk_mini") / c).frames()[0], model=flame)
    for c in ("id0001_c000", "id0002_c000")
]
from skimage import data as skdata  # noqa: E402

refs.append(fit_photo(skdata.astronaut(), model=flame))


def coverage(gen, ref, res=768):
    "Fraction of the face box (pixels with full alpha) where the front half of the Gaussians reaches alpha < 0.9."
    with torch.no_grad():
        M = predict_map(gen, ref)
        g = gen.to_local(M, ref["flame"]["shape"]).to_world(flame_vertices(flame, ref["flame"]), flame.faces)
        cam = scale_camera(ref["camera"], res, res)
        V = cam.viewmat
        z = (g.means[0] @ V[:3, :3].T + V[:3, 3])[:, 2]
        full = render(g, cam).alpha[0, ..., 0] > 0.99
        op = g.opacities.clone()
        op[0, z >= z.median()] = 0
        a = render(dataclasses.replace(g, opacities=op), cam).alpha[0, ..., 0]
    return float((a[full] < 0.9).float().mean())


rows, cache = [], {}
for c in FLOORS:
    cfg = dataclasses.replace(E2VConfig.from_json(m["config"]), min_tangent=c)
    gen = IdentityGaussianGenerator(flame, cfg)
    gen.load_state_dict(t, strict=False)
    gen.eval()
    t0 = time.time()
    ev = eval_e2v(gen, DATA, n_frames=4, stripe_res=256, gt_cache=cache, methods=("generator",))
    s = {k: summarize_e2v(ev, k) for k in ("psnr_head", "iou", "stripe")}
    g = lambda k, v: s[k][v]["generator"]
    views = list(s["psnr_head"])
    row = dict(
        min_tangent=c,
        psnr_own=round(g("psnr_head", "clip"), 2),
        psnr_yaw60=round(g("psnr_head", "yaw60"), 2) if "yaw60" in views else None,
        psnr_mean=round(float(np.mean([g("psnr_head", v) for v in views])), 2),
        iou_min=round(min(g("iou", v) for v in views), 4),
        stripe_max=round(max(g("stripe", v) for v in views if v in s["stripe"]), 3),
        gaps_768=[round(coverage(gen, r), 4) for r in refs],
        seconds=round(time.time() - t0),
        load=round(os.getloadavg()[0], 1),
    )
    rows.append(row)
    print(json.dumps(row), flush=True)

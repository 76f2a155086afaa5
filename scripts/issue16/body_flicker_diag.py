# seam flicker with one fixed body frame (issue #16.1): where does it come from?
# run from the repository root: python scripts/issue16/body_flicker_diag.py  (outputs under runs/body/flicker/)
# A. the bench's setting (synthtalk_mini id0002: heads of c001 cut out by their masks, body frame 0 of c000, 256²):
#    split the band's frame-to-frame change into pixels the head edge crossed (mask changed) and the rest
# B. the shipped identity's own renders (soft alpha): the same split by the rendered alpha
import json
import os

import numpy as np
import torch

from ggtalker_nb.adapt.inpainter import load_clip_tensors, seam_flicker
from ggtalker_nb.avatar.body import Inpainter, compose, dilate, inpainter_inputs, pushpull_fill
from ggtalker_nb.core import data_samples_path

torch.set_num_threads(1)
OUT = "runs/body/flicker"
R = 6


def split(out, masks, alpha=None, eps=1 / 255):
    "Band change |I_t − I_{t−1}| split into pixels whose head coverage changed and the rest (sums over the band)."
    m = masks.bool()
    band = (dilate(m, R) & ~m)[1:]
    d = (out[1:] - out[:-1]).abs().mean(-1)
    cov = alpha if alpha is not None else m.float()
    moved = (cov[1:] - cov[:-1]).abs() > eps
    n = band.sum().item()
    return dict(
        flicker=d[band].mean().item(),
        from_moved_edge=(d[band & moved].sum() / n).item(),
        from_static=(d[band & ~moved].sum() / n).item(),
        moved_share=(band & moved).sum().item() / n,
    )


res = {}
root = data_samples_path("synthtalk_mini")
fa, ma, _ = load_clip_tensors(root / "id0002_c000", 256)
fb, mb, hb = load_clip_tensors(root / "id0002_c001", 256)
plate = pushpull_fill(*inpainter_inputs(fa[:1], ma[:1], R))  # any fixed plate: the split below does not depend on it
naive = compose(None, hb, fa, ma, "fixed", radius_px=R)
onplate = Inpainter.composite(hb, plate.expand(len(hb), -1, -1, -1))
res["A_naive"] = split(naive, mb)
res["A_plate"] = split(onplate, mb)
res["A_video"] = split(fb, mb)
# what the naive paste shows behind the moving edge: frame 0's own head (a ghost), or background
band = dilate(mb, R) & ~mb
res["A_ghost_share"] = (band & ma[:1]).sum().item() / band.sum().item()
# B: the shipped identity, its heads rendered along its body track, over body frame 0 (fixed) and its own frames (loop)
from ggtalker_nb.avatar.identity import load_identity
from ggtalker_nb.avatar.runtime import render_frames


ident, flame = load_identity(data_samples_path("identity_sample"))

track = {k: torch.as_tensor(v).float() for k, v in ident.pose.items()}
heads = render_frames(ident.gaussians, ident.color_mlp, flame, ident.shape, track, ident.camera)
bf, bm = ident.body.frames.float() / 255, ident.body.masks
T = len(heads)
a = heads[..., 3]
hm = a > 0.5  # the rendered head's mask (band of the output)
for mode in ("fixed", "loop"):
    nv = compose(None, heads, bf, bm, mode, radius_px=R)
    v2 = compose(ident.body.inpainter, heads, bf, bm, mode, radius_px=R)
    res[f"B_{mode}_naive"] = split(nv, hm, a)
    res[f"B_{mode}_v2"] = split(v2, hm, a)
    res[f"B_{mode}_naive_flicker_gtmask"] = seam_flicker(nv, hm, R)
    torch.save({"naive": nv[:8], "v2": v2[:8]}, f"{OUT}/B_{mode}.pt")
# soft-alpha fringe: how much alpha sits outside the 0.5 mask, and how much it changes frame to frame
fr = (a > 1 / 255) & (a < 0.5)
res["B_fringe_px_per_frame"] = fr.sum().item() / T
da = (a[1:] - a[:-1]).abs()
bandB = (dilate(hm, R) & ~hm)[1:]
res["B_alpha_change_in_band"] = da[bandB].mean().item()
res["B_alpha_2nd_diff_in_band"] = (a[2:] - 2 * a[1:-1] + a[:-2]).abs()[bandB[1:]].mean().item()
res["load"] = os.getloadavg()
json.dump(res, open(f"{OUT}/diag.json", "w"), indent=1)
np.save(f"{OUT}/alpha.npy", a[:8].numpy())
for k, v in res.items():
    print(k, v)

r"""Before/after picture of an adapted identity's neck (#16.3): per identity folder one row — the front view (its head
on its body frame 0, the lower half zoomed 2×: the collar), then the head alone at yaw 0, 60, 90, 135, 180° (frame 10
of the identity's held-out clip, the clean track, without the colour MLP, as scripts/stripes_adapted.py). The front
view uses the body file's occluders when it has them (`BodyModel.compose`); label each row in the caption.

    python scripts/issue16/neck_figure.py OUT.png IDENTITY_BEFORE IDENTITY_AFTER [DATA]
"""

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ggtalker_nb.avatar.identity import load_identity
from ggtalker_nb.avatar.runtime import render_frames
from ggtalker_nb.data.synthtalk import sample_head_flame
from ggtalker_nb.data.video import ClipReader, clip_paths
from ggtalker_nb.e2v.generator import flame_vertices
from ggtalker_nb.render.gaussians import render
from ggtalker_nb.e2v.eval import view_camera

torch.set_num_threads(1)
out, dirs = sys.argv[1], sys.argv[2:4]
DATA = sys.argv[4] if len(sys.argv) > 4 else "data/synthtalk_e2v"
rows = []
for d in dirs:
    ident, fl = load_identity(Path(d), sample_head_flame())
    p, K = ident.pose, len(ident.pose["expr"])
    track = dict(expr=p["expr"], rotation=p["rotation"], neck=p["neck"], jaw=torch.zeros(K, 3), eyes=p["eyes"])
    track["translation"] = p["translation"]
    sub = {k: v[:1] for k, v in track.items()}
    with torch.no_grad():
        head = render_frames(ident.gaussians, ident.color_mlp, fl, ident.shape, sub, ident.camera).clamp(0, 1)
        front = ident.body.compose(head, "fixed", 0)[0]
    H, W = front.shape[:2]
    crop = front[H // 2 :, W // 4 : 3 * W // 4]  # (H/2, W/2) → 2× = (H, W)
    crop = crop.repeat_interleave(2, 0).repeat_interleave(2, 1)
    tgt = sorted((ClipReader(q) for q in clip_paths(DATA)), key=lambda r: r.path.name)
    tgt = [r for r in tgt if r.identity == ident.name and r.meta.get("split") == "heldout_test"][0]
    tr = tgt.flame_clean if tgt.flame_clean is not None else tgt.flame
    prm = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tr.to_dict().items() if k != "static_offset"}
    prm = {k: (ident.shape[None].float() if k == "shape" else v[10:11]) for k, v in prm.items()}
    lg = ident.gaussians.local()
    with torch.no_grad():
        v = flame_vertices(fl, prm)
        g = lg.to_world(v.to(lg.means.dtype), fl.faces).detach()
    ims = [front.numpy(), crop.numpy()]
    for yaw in (0, 60, 90, 135, 180):
        with torch.no_grad():
            o = render(g, view_camera(yaw, 0, 256))
        a = o.alpha.reshape(256, 256)
        ims.append((o.rgb.reshape(256, 256, 3) + (1 - a[..., None])).clamp(0, 1).numpy())
    rows.append(np.concatenate(ims, 1))
Image.fromarray((np.concatenate(rows, 0) * 255 + 0.5).clip(0, 255).astype(np.uint8)).save(out)
print("wrote", out)

"""Why the one-image head's rim scored badly (#16), figure of notebook 52 (python scripts/e2v_rim_figure.py OUT.jpg
[DATA]): for one held-out SynthTalk frame (id0004, first target frame)
at the clip's camera and at yaw 180°, the recorded
frame / scene render, its head mask (the torso hides the lower neck), the head mesh alone (the new ground truth), and
the base map's Gaussians placed on the exact mesh with the exact colours (no network) — centred on the surface, then
inset and flat — with the pixels where their alpha > 0.5 falls outside the mesh in red."""

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

torch.set_num_threads(1)
from ggtalker_nb.data.synthtalk import sample_head_flame  # noqa: E402
from ggtalker_nb.e2v.eval import _clips_by_identity, _source_target, ground_truth, view_camera  # noqa: E402
from ggtalker_nb.e2v.generator import E2VConfig, IdentityGaussianGenerator, flame_vertices  # noqa: E402
from ggtalker_nb.geometry import Camera  # noqa: E402
from ggtalker_nb.render.gaussians import render  # noqa: E402

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "nbs/images/e2v_rim_cause.jpg")
DATA = sys.argv[2] if len(sys.argv) > 2 else "data/synthtalk_e2v"
R = 128
flame = sample_head_flame()
_, tgt = _source_target(_clips_by_identity(DATA, ["id0004"])["id0004"])
fr = [0]
P = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tgt.flame.to_dict().items() if k != "static_offset"}
P = {k: (v.expand(1, -1) if k == "shape" else v[fr]) for k, v in P.items()}
verts = flame_vertices(flame, P)
W, H = tgt.size


def own(r):
    c = tgt.camera_at(fr[0])
    K = c.K.clone()
    K[0] *= r / W
    K[1] *= r / H
    return Camera(c.viewmat, K, r, r)


def splats(cfg, cam, colour_src):
    "The base map of `cfg` on the exact mesh, colours unwrapped from a 256² head-only render of the same view."
    gen = IdentityGaussianGenerator(flame, cfg)
    c2 = own(256) if cam is None else view_camera(180.0, 0.0, 256)
    img, m = colour_src(c2)
    un = gen.unwrap(img, verts, c2.viewmat[None], c2.K[None], (m > 0.5).float())
    vis, col = un[:, -2:-1], un[:, :3]
    mean = (col * vis).sum((2, 3), keepdim=True) / vis.sum((2, 3), keepdim=True)
    M = gen.base.clone()
    M[:, gen.spec.color] = gen.spec.logit(torch.where(vis > 0, col, mean).clamp(0, 1), eps=1e-2)
    g = gen.to_local(M * gen.uv_mask, P["shape"]).to_world(verts, flame.faces)
    cr = own(R) if cam is None else view_camera(180.0, 0.0, R)
    with torch.no_grad():
        o = render(g, cr)
    a = o.alpha[..., 0].reshape(R, R)
    return (o.rgb.reshape(R, R, 3) + 1 - a[..., None]).clamp(0, 1), a


rows = []
for view in (None, 180.0):
    cam = own(R) if view is None else view_camera(view, 0.0, R)
    old, old_m = ground_truth(tgt, fr, None if view is None else cam, R, target="frame")
    new, new_m = ground_truth(tgt, fr, None if view is None else cam, R)
    sil = new_m[0] > 0.5
    src = lambda c2: ground_truth(tgt, fr, None if view is None else c2, 256, background=0.0)  # noqa: E731
    panels = [old[0], old_m[0][..., None].expand(-1, -1, 3), new[0]]
    for cfg in (E2VConfig(), E2VConfig(normal_scale=0.3, inset=0.0045)):
        rgb, a = splats(cfg, view, src)
        over = (a > 0.5) & ~sil
        panels.append(torch.where(over[..., None], torch.tensor([1.0, 0.0, 0.0]), rgb))
        iou = float(((a > 0.5) & sil).sum() / ((a > 0.5) | sil).sum())
        print(f"view {view}: {'inset' if cfg.inset else 'on-surface'} IoU {iou:.3f}, {int(over.sum())} px outside")
    rows.append(torch.cat(panels, 1).numpy())
im = Image.fromarray((np.concatenate(rows, 0) * 255).astype(np.uint8)).resize((5 * 2 * R, 2 * 2 * R), Image.NEAREST)
d = ImageDraw.Draw(im)
for i, t in enumerate(
    ("old GT: frame", "old GT: head mask", "new GT: head mesh alone", "on-surface splats", "inset, flat splats")
):
    d.text((i * 2 * R + 4, 4), t, fill=(0, 0, 0))
OUT.parent.mkdir(parents=True, exist_ok=True)
im.save(OUT, quality=90)
print("wrote", OUT)

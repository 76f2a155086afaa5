# before/after frames of the shipped identity: version-1 body (as shipped) vs the version-2 refit (issue #16.1)
# run from the repository root: PYTHONPATH=. python scripts/issue16/body_before_after.py  (outputs under runs/, which
# git ignores)
import sys
import numpy as np
import torch
from PIL import Image
from ggtalker_nb.avatar.identity import load_identity
from ggtalker_nb.avatar.body import BodyModel
from ggtalker_nb.avatar.runtime import render_frames
from ggtalker_nb.core import data_samples_path

torch.set_num_threads(1)
ident, flame = load_identity(data_samples_path("identity_sample"))
new = BodyModel.load(sys.argv[1] if len(sys.argv) > 1 else "runs/body/body_v2.safetensors")
old = BodyModel.load(data_samples_path("identity_sample", "body.safetensors"))
idx = [0, 12]
p = ident.pose
jaw = torch.zeros(len(idx), 3)
jaw[:, 0] = torch.tensor([0.0, 0.15])
track = dict(
    expr=p["expr"][idx],
    rotation=p["rotation"][idx],
    neck=p["neck"][idx],
    jaw=jaw,
    eyes=p["eyes"][idx],
    translation=p["translation"][idx],
)
heads = render_frames(ident.gaussians, ident.color_mlp, flame, ident.shape, track, ident.camera).clamp(0, 1)
with torch.no_grad():
    a = old.compose(heads, "loop")
    b = new.compose(heads, "loop")
idx_t = torch.tensor(idx)
a, b = a[: len(idx)], b[: len(idx)]
# the compose loop uses body frames 0, 1: put each head on body frame idx[i] explicitly
from ggtalker_nb.adapt.inpainter import compose

with torch.no_grad():
    a = compose(
        old.inpainter, heads, old.frames[idx_t].float() / 255, old.masks[idx_t], "loop", radius_px=old.radius_px
    )
    b = compose(
        new.inpainter, heads, new.frames[idx_t].float() / 255, new.masks[idx_t], "loop", radius_px=new.radius_px
    )
    n = compose(None, heads, new.frames[idx_t].float() / 255, new.masks[idx_t], "loop")
rows = [torch.cat([a[i], b[i], n[i]], 1) for i in range(len(idx))]
img = (torch.cat(rows, 0).clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)
Image.fromarray(img).save("nbs/images/body_before_after.png")
crop = (
    torch.cat(
        [torch.cat([a[i][60:230, 50:206], b[i][60:230, 50:206], n[i][60:230, 50:206]], 1) for i in range(1)], 0
    ).numpy()
    * 255
    + 0.5
).astype(np.uint8)
Image.fromarray(crop).resize((crop.shape[1] * 2, crop.shape[0] * 2), Image.NEAREST).save("/tmp/body/ba_crop.png")
print("saved")

"""Before/after figure of notebook 52: ground truth, one-image head and astronaut head at yaw 0–180° (python
scripts/e2v_orbit_figure.py PRIOR OUT.png LABEL)."""

import sys
import torch
import numpy as np

torch.set_num_threads(1)
from PIL import Image, ImageDraw
from ggtalker_nb.data.synthtalk import sample_head_flame
from ggtalker_nb.core import data_samples_path
from ggtalker_nb.data.video import ClipReader
from ggtalker_nb.e2v.generator import IdentityGaussianGenerator
from ggtalker_nb.e2v.eval import (
    reference_from_clip,
    predict_map,
    render_map,
    view_camera,
    ground_truth,
    astronaut_reference,
)
from ggtalker_nb.geometry import orbit_camera

flame = sample_head_flame()
gen = IdentityGaussianGenerator.load(sys.argv[1], flame).eval()
label = sys.argv[3]
MINI = data_samples_path("synthtalk_mini")
src, tgt = ClipReader(MINI / "id0002_c000"), ClipReader(MINI / "id0002_c001")
ref = reference_from_clip(src)
M = predict_map(gen, ref)
fr = [10]
R = 160
prm = {
    k: (torch.from_numpy(v).expand(1, -1) if k == "shape" else torch.from_numpy(v[fr]))
    for k, v in tgt.flame.to_dict().items()
    if k != "static_offset"
}
yaws = (0, 60, 90, 135, 180)
gts, preds = [], []
for y in yaws:
    cam = view_camera(y, 0.0, R)
    gts.append(ground_truth(tgt, fr, cam, R)[0][0].numpy())
    preds.append(render_map(gen, M, ref["flame"]["shape"], prm, cam)[0][0].clamp(0, 1).numpy())
astro = astronaut_reference(flame)
Ma = predict_map(gen, astro)
zero = {"expr": torch.zeros(1, flame.n_expr), "shape": torch.zeros(1, flame.n_shape)}
ast = [
    render_map(
        gen, Ma, zero["shape"], zero, orbit_camera(y, 0, 1.2, target=(0.0, -0.05, 0.0), fov_deg=20.0, width=R, height=R)
    )[0][0]
    .clamp(0, 1)
    .numpy()
    for y in yaws
]
rows = [np.concatenate(r, 1) for r in (gts, preds, ast)]
im = Image.fromarray((np.concatenate(rows, 0) * 255).astype(np.uint8))
d = ImageDraw.Draw(im)
for i, t in enumerate(
    ("SynthTalk ground truth (held-out id0002)", f"{label}: one-image head", f"{label}: astronaut photo")
):
    d.text((4, 4 + i * R), t, fill=(200, 0, 0))
for j, y in enumerate(yaws):
    d.text((j * R + R - 40, 4), f"yaw {y}", fill=(0, 0, 160))
im.save(sys.argv[2])

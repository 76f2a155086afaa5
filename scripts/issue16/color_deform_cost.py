# cost of the colour MLP's deformation input per frame on the CPU: render_batch at 256² with the shipped identity
# (data_samples/identity_sample), its colour MLP without the input against the same MLP with it (deform_dims=4: the
# shipped weights plus a random first_d, or the reverse for an identity made with the input), 1 torch thread; the calls
# interleave and each figure is the median of REPS; the features alone (neutral_vertices + deform_features) likewise
# run from the repository root: OUT=runs/color/deform_cost.json PYTHONPATH=. python scripts/issue16/color_deform_cost.py
# (prints one JSON line; batch sizes BATCH=1,8: one frame per call, and render_frames' chunk)
import json
import os
import statistics
import time

import torch

from ggtalker_nb.avatar.color import ColorMLP
from ggtalker_nb.avatar.identity import load_identity
from ggtalker_nb.avatar.runtime import deform_features, neutral_vertices, pack_track, posed_vertices, render_batch
from ggtalker_nb.geometry import Camera

torch.set_num_threads(1)
REPS, SIZE = int(os.environ.get("REPS", 40)), int(os.environ.get("SIZE", 256))
ident, flame = load_identity("data_samples/identity_sample")
shipped = ident.color_mlp  # with or without the input: the other one is built from its weights
config = {k: v for k, v in shipped.config.items() if k != "deform_dims"}
torch.manual_seed(0)
plain, deform = ColorMLP(**config).set_uv(shipped.uv), ColorMLP(**config, deform_dims=4).set_uv(shipped.uv)
plain.load_state_dict({k: v for k, v in shipped.state_dict().items() if k != "first_d.weight"})
deform.load_state_dict(shipped.state_dict(), strict=False)  # first_d: the shipped one, or a random start
plain.eval(), deform.eval()
cam = ident.camera
s = SIZE / cam.width
cam = Camera(cam.viewmat, cam.K * torch.tensor([[s], [s], [1.0]]), SIZE, SIZE)
params = pack_track(ident.pose, flame.n_expr)
lg = ident.gaussians.local()
T = params.shape[0]


with torch.no_grad():
    V_all = posed_vertices(flame, ident.shape, params)  # (T, V, 3): render_batch computes these anyway


def feature(p, j):  # what the input adds before the MLP: the neutral mesh and the features of the posed frames
    return deform_features(V_all[j : j + len(p)], neutral_vertices(flame, ident.shape), flame.faces, lg.face_id)


runs = dict(
    none=lambda p: render_batch(lg, None, flame, ident.shape, p, cam),
    plain=lambda p: render_batch(lg, plain, flame, ident.shape, p, cam),
    deform=lambda p: render_batch(lg, deform, flame, ident.shape, p, cam),
    feature=feature,
)
out = dict(
    what=f"render_batch ms/frame at {SIZE}², identity_sample ({lg.n} Gaussians), 1 thread, median of {REPS} calls "
    "(per frame: the call's time / B); feature = neutral mesh + deform_features of the posed vertices (which "
    "render_batch computes anyway); deform_minus_plain = what the input adds to render_batch (features + MLP term)",
    load_start=[round(x, 2) for x in os.getloadavg()],
)
for B in tuple(int(b) for b in os.environ.get("BATCH", "1,8").split(",")):
    cams = Camera(cam.viewmat.expand(B, 1, 4, 4), cam.K.expand(B, 1, 3, 3), SIZE, SIZE) if B > 1 else cam
    runs["none"] = lambda p: render_batch(lg, None, flame, ident.shape, p, cams)
    runs["plain"] = lambda p: render_batch(lg, plain, flame, ident.shape, p, cams)
    runs["deform"] = lambda p: render_batch(lg, deform, flame, ident.shape, p, cams)
    times = {k: [] for k in runs}
    with torch.no_grad():
        for i in range(REPS + 3):
            j = (i * B) % (T - B + 1)
            p = params[j : j + B]
            for k, f in runs.items():
                t0 = time.perf_counter()
                f(p, j) if k == "feature" else f(p)
                if i >= 3:
                    times[k].append((time.perf_counter() - t0) * 1e3 / B)
    med = {k: round(statistics.median(v), 2) for k, v in times.items()}
    out[f"B{B}"] = dict(
        median_ms=med,
        feature_ms=med["feature"],
        deform_minus_plain_ms=round(med["deform"] - med["plain"], 2),
    )
out["load_end"] = [round(x, 2) for x in os.getloadavg()]
print(json.dumps(out))
if os.environ.get("OUT"):
    json.dump(out, open(os.environ["OUT"], "w"), indent=1, ensure_ascii=False)

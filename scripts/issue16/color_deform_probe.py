# colour ablation, probe: does a per-Gaussian deformation input help the colour MLP? (issue #16.4, experiment only)
# superseded: the input is shipped (EVAdaptConfig.color_deform, default on; scripts/issue16/color_run_deform.py)
# The MLP's per-Gaussian half of layer 1 also sees 4 features of its parent triangle in the frame: log edge-length
# ratios (3) and log area ratio against the neutral mesh (same shape, zero expression and pose) — the local stretch
# the SynthTalk shading follows. Swapped in by patching adapt.ev / avatar.runtime (nothing in the package changes).
# run from the repository root: PYTHONPATH=. python scripts/issue16/color_deform_probe.py  (runs/color/, git-ignored)
# compare with the no-MLP runs of the same seeds in runs/color/bench_color_seeds.json (same prior: E-V prior of cfeebe2)
import json
import os
import time

import torch
from torch import nn

import ggtalker_nb.adapt.ev as ev
import ggtalker_nb.avatar.runtime as rt
from ggtalker_nb.adapt.color import bench_color
from ggtalker_nb.avatar.color import ColorMLP

SCALE = 5.0  # log-ratios of a few tenths → O(1) inputs


class _FirstG(nn.Module):
    "layer 1's per-Gaussian half + a linear map of the frame's deformation features (set before each render)."

    def __init__(self, lin: nn.Linear):
        super().__init__()
        self.lin, self.d, self.feat = lin, nn.Linear(4, lin.out_features, bias=False), None

    def forward(self, x):
        y = self.lin(x)
        return y if self.feat is None else y + self.d(self.feat)


def make_mlp(n_expr, pose_dim=6, **kw):
    m = ColorMLP(n_expr, pose_dim, **kw)
    m.first_g = _FirstG(m.first_g)
    return m


def _edges_area(v, faces):
    a, b, c = v[..., faces[:, 0], :], v[..., faces[:, 1], :], v[..., faces[:, 2], :]
    e = torch.stack([(b - a).norm(dim=-1), (c - b).norm(dim=-1), (a - c).norm(dim=-1)], -1)
    area = torch.linalg.cross(b - a, c - a, dim=-1).norm(dim=-1, keepdim=True) / 2
    return torch.cat([e, area], -1).clamp(min=1e-12).log()


_orig = rt.render_batch


def render_batch(lg, color_mlp, flame, shape, params, camera, background=None):
    if color_mlp is not None and isinstance(color_mlp.first_g, _FirstG):
        p = rt.split_params(params, flame.n_expr)
        verts = flame(shape, p["expr"], p["pose"], p["transl"]).vertices
        z = params[:1] * 0
        q = rt.split_params(z, flame.n_expr)
        neutral = flame(shape, q["expr"], q["pose"], q["transl"]).vertices
        f = ((_edges_area(verts, flame.faces) - _edges_area(neutral, flame.faces)) * SCALE).clamp(-3, 3)
        color_mlp.first_g.feat = f[..., lg.face_id, :]
    try:
        return _orig(lg, color_mlp, flame, shape, params, camera, background)
    finally:
        if color_mlp is not None and isinstance(color_mlp.first_g, _FirstG):
            color_mlp.first_g.feat = None


ev.ColorMLP, ev.render_batch, rt.render_batch = make_mlp, render_batch, render_batch
OUT = os.environ.get("OUT", "runs/color/bench_color_deform.json")
t0, rows, loads = time.perf_counter(), [], []
for seed in tuple(int(s) for s in os.environ.get("SEEDS", "0,1,2").split(",")):
    rows += bench_color(
        {"shaded": "data/synthtalk_shaded"},
        phase1_steps=300,
        phase2_steps=300,
        threads=1,
        color_deform=False,  # as measured: before the deformation input existed
        variants=(True,),
        seeds=(seed,),
        train_eval=True,
        prior="runs/color/e2v_cfeebe2.safetensors",
    )
    loads.append(os.getloadavg())
    json.dump(dict(rows=rows, loads=loads, seconds=time.perf_counter() - t0), open(OUT, "w"), indent=1)

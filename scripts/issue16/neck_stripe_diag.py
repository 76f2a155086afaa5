r"""Where the stripes of an adapted map come from (#16.3): the stripe ratio at yaw 0-180° (as
scripts/issue16/anchor_views.py) on all head pixels, on the head without the FLAME neck, and on the neck alone.

    python scripts/issue16/neck_stripe_diag.py runs/adapt_anchor/lam1_ignore [more runs]

Prints one JSON row per run and yaw (None: no 32² patch of the region lies on the head).
"""

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from ggtalker_nb.adapt.ev import neck_faces_of
from ggtalker_nb.data.video import ClipReader, clip_paths
from ggtalker_nb.e2v.eval import ground_truth, stripe_ratio, texel_lattice, view_camera
from ggtalker_nb.e2v.generator import flame_vertices, neutral_vertices
from ggtalker_nb.gaussians.uvmap import uv_texel_table, uvmap_to_gaussians
from ggtalker_nb.render.gaussians import render
from ggtalker_nb.render.mesh import rasterize
from ggtalker_nb.talker import Talker

torch.set_num_threads(1)
DATA = os.environ.get("DATA", "data/synthtalk_e2v")
t = Talker.from_pretrained()
fl, spec = t.flame, t.generator.spec
table = uv_texel_table(fl.vt, fl.ft, 128)
neck = neck_faces_of(fl)
tgt = [ClipReader(p) for p in clip_paths(DATA) if p.name == "id0004_c011"][0]
tr = tgt.flame_clean if tgt.flame_clean is not None else tgt.flame
f = 10
for run in map(Path, sys.argv[1:]):
    w = load_file(run / "result.safetensors")
    shape = w["shape"].float()
    with torch.no_grad():
        lg = uvmap_to_gaussians(w["uvmap"], table, neutral_vertices(fl, shape), fl.faces, spec)
    params = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tr.to_dict().items() if k != "static_offset"}
    params = {k: (shape[None] if k == "shape" else v[f : f + 1]) for k, v in params.items()}
    with torch.no_grad():
        v = flame_vertices(fl, params)
        g = lg.to_world(v.to(lg.means.dtype), fl.faces).detach()
    for yaw in (0, 60, 90, 135, 180):
        cam = view_camera(yaw, 0, 256)
        gt, gm = ground_truth(tgt, [f], cam, 256)
        with torch.no_grad():
            o = render(g, cam)
            fid = rasterize(v, fl.faces, cam).face_id.reshape(256, 256)
        a = o.alpha.reshape(256, 256)
        pred = (o.rgb.reshape(256, 256, 3) + (1 - a[..., None])).clamp(0, 1)
        head = (a > 0.5) & (gm[0] > 0.5)
        on_neck = (fid >= 0) & neck[fid.clamp_min(0)]
        lat = texel_lattice(table, v[0], fl.faces, cam)
        row = dict(run=run.name, yaw=yaw)
        for name, m in (("all", head), ("no_neck", head & ~on_neck), ("neck", head & on_neck)):
            r, n = stripe_ratio(pred, gt[0], m, *lat)
            row[name] = None if r is None else round(r, 2)
            row[f"patches_{name}"] = n
        print(json.dumps(row), flush=True)

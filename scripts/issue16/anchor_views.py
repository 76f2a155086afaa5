r"""Novel views (yaw 0-180°) of adapted maps (scripts/issue16/anchor_adapt.py) against SynthTalk's render of the
head mesh alone (`e2v.eval.ground_truth`) for id0004's held-out clip c011, frame 10: head PSNR, silhouette IoU and
stripe ratio (as scripts/stripes_adapted.py), plus the held-out front PSNR of the adaptation log, plus the front view:
each head composited on the shipped identity's body frames 0/10/20, PSNR on the lower neck against the body frame,
with the head in front of everything and with the body frames' occluders in front (scripts/issue16/neck_front.py).
Writes the table 'adapt_anchor' into results/e2v_views.json and a picture to nbs/images/adapt_anchor.png (per run:
front frame 0 with the head in front, the same with the occluders, then yaw 0, 60, 90, 135, 180).

    python scripts/issue16/anchor_views.py runs/adapt_anchor/lam0_transparent runs/adapt_anchor/lam1_ignore

TABLE=adapt_edge (runs adapted from the shipped, floored E2V prior: decoded with its tangent-σ floor, as adaptation
does; the table 'adapt_edge' and nbs/images/adapt_edge.png instead, with the column edge_px):

    TABLE=adapt_edge python scripts/issue16/anchor_views.py runs/adapt_anchor/lam1_prior_free0.7_newprior \
        runs/adapt_anchor/lam1_prior_free0.7_edge2_newprior
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file

from ggtalker_nb.data.video import ClipReader, clip_paths
from ggtalker_nb.e2v.eval import ground_truth, stripe_ratio, texel_lattice, view_camera
from ggtalker_nb.e2v.generator import flame_vertices, neutral_vertices
from ggtalker_nb.gaussians.uvmap import uv_texel_table, uvmap_to_gaussians
from ggtalker_nb.metrics import psnr
from ggtalker_nb.render.gaussians import render
from ggtalker_nb.talker import Talker

sys.path.insert(0, str(Path(__file__).parent))
from neck_front import front_rows  # noqa: E402

torch.set_num_threads(1)
DATA = os.environ.get("DATA", "data/synthtalk_e2v")
TABLE = os.environ.get("TABLE", "adapt_anchor")
EDGE_TABLE = TABLE == "adapt_edge"
YAWS = (0, 60, 90, 135, 180)
t = Talker.from_pretrained()
fl, spec = t.flame, t.generator.spec
table = uv_texel_table(fl.vt, fl.ft, 128)
tgt = [ClipReader(p) for p in clip_paths(DATA) if p.name == "id0004_c011"][0]
tr = tgt.flame_clean if tgt.flame_clean is not None else tgt.flame
f = 10
rows, pics = [], []
for run in map(Path, sys.argv[1:]):
    w = load_file(run / "result.safetensors")
    rec = json.loads((run / "result.json").read_text())
    shape = w["shape"].float()
    with torch.no_grad():
        if EDGE_TABLE:  # the prior's floor on the tangent σ, as adaptation decoded the map
            lg = t.generator.to_local(w["uvmap"][None], shape[None])
        else:
            lg = uvmap_to_gaussians(w["uvmap"], table, neutral_vertices(fl, shape), fl.faces, spec)
    params = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tr.to_dict().items() if k != "static_offset"}
    params = {k: (shape[None] if k == "shape" else v[f : f + 1]) for k, v in params.items()}
    with torch.no_grad():
        v = flame_vertices(fl, params)
        g = lg.to_world(v.to(lg.means.dtype), fl.faces).detach()
    row = dict(
        setting=run.name,
        lambda_prior=rec["config"]["lambda_prior"],
        hidden_neck=rec["config"]["hidden_neck"],
        hidden_band_px=rec["config"].get("hidden_band_px", 0),
        **({"edge_px": rec["config"].get("edge_px", 0)} if EDGE_TABLE else {}),
        front_psnr_heldout=round(rec["history"][-1]["psnr_eval"], 2),
    )
    ims = []
    for yaw in YAWS:
        cam = view_camera(yaw, 0, 256)
        gt, gm = ground_truth(tgt, [f], cam, 256)
        with torch.no_grad():
            o = render(g, cam)
        a = o.alpha.reshape(256, 256)
        pred = (o.rgb.reshape(256, 256, 3) + (1 - a[..., None])).clamp(0, 1)
        r, _ = stripe_ratio(pred, gt[0], (a > 0.5) & (gm[0] > 0.5), *texel_lattice(table, v[0], fl.faces, cam))
        head = (gm[0] > 0.05) | (a > 0.05)
        row[f"psnr_{yaw}"] = round(float(psnr(pred, gt[0], mask=head)), 2)
        row[f"iou_{yaw}"] = round(float(((a > 0.5) & (gm[0] > 0.5)).sum() / ((a > 0.5) | (gm[0] > 0.5)).sum()), 3)
        row[f"stripe_{yaw}"] = None if r is None else round(r, 2)
        ims.append((pred.numpy() * 255).astype(np.uint8))
    fr, fp = front_rows([str(run)])
    row["front_lower_neck_head_in_front"] = fr[0]["psnr_lower_neck_head_in_front"]
    row["front_lower_neck_occluders"] = fr[0]["psnr_lower_neck_occluders"]
    front = [(np.asarray(x) * 255 + 0.5).clip(0, 255).astype(np.uint8) for x in fp[0][0]]
    rows.append(row)
    pics.append(np.concatenate(front + ims, 1))
    print(json.dumps(row), flush=True)
Image.fromarray(np.concatenate(pics, 0)).save(f"nbs/images/{TABLE}.png")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
p = Path("results/e2v_views.json")
res = json.loads(p.read_text())
cmd = (
    "python scripts/issue16/anchor_adapt.py λ MODE [BAND] (each setting; FREE=0.7 for prior_free_facing) && "
    "python scripts/issue16/anchor_views.py " + " ".join(sys.argv[1:])
)
table = dict(
    name=TABLE,
    title="E-V adaptation of SynthTalk id0004 (1200 steps, the same prior — the shipped E2V prior before its "
    "min_tangent fine-tune — and clips, the colour MLP without the deformation input): no anchor with the hidden neck "
    "faded; lambda_prior 1 weighted by texel coverage with the hidden neck faded ('transparent'), ignored ('ignore', "
    "also with a 2-px edge band) or asked to look as the prior draws it ('prior', also with prior_free_facing 0.7 "
    "and lambda_prior 10); held-out front PSNR from the adaptation log, then frame 10 of the held-out clip c011 at yaw "
    "0–180° against the head mesh alone, without the colour MLP; last: PSNR of the lower neck (the body frames' "
    "occluders grown by 4 px) of the front composite on the shipped identity's body frames 0/10/20 against those "
    "frames, head in front vs occluders in front",
    columns=["setting", "lambda_prior", "hidden_neck", "hidden_band_px"]
    + (["edge_px"] if EDGE_TABLE else [])
    + ["front_psnr_heldout"]
    + [f"{m}_{y}" for m in ("psnr", "iou", "stripe") for y in YAWS]
    + ["front_lower_neck_head_in_front", "front_lower_neck_occluders"],
    rows=rows,
    notes=[
        f"{cmd}; commit {commit} + working tree; the project's 2-core CPU, 1 thread, load "
        f"{os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    ],
)
if EDGE_TABLE:
    table["title"] = (
        "E-V adaptation of SynthTalk id0004 from the shipped E2V prior (with its tangent-σ floor), the defaults "
        "(lambda_prior 1, hidden_neck 'prior', prior_free_facing 0.7), without the colour MLP's deformation input: the "
        "outline taken as head colour (edge_px 0) or as the head over its background (edge_px 2); columns as in "
        "adapt_anchor"
    )
res["tables"] = [t for t in res["tables"] if t.get("name") != TABLE] + [table]
p.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n")

r"""The front view with the torso in front of the head (#16.3): the shipped identity's body frames composited with
heads from adapted maps (scripts/issue16/anchor_adapt.py runs, or the shipped identity's own head), with and without
the body frames' occluder masks (`adapt.ev.body_occluders`, `avatar.body.compose(body_occluders=...)`).

    python scripts/issue16/neck_front.py shipped runs/adapt_anchor/lam1_transparent runs/adapt_anchor/lam1_ignore_band2

Per head: PSNR against the body frame itself (the frame the body model keeps, with its own head) on the whole frame and
on the *lower neck* (the occluder pixels dilated by 4 px: where a head drawn over the shirt shows), for body frames
0, 10, 20, with occluders and without. Heads are rendered from the identity's body track (jaw closed), run maps without
the colour MLP. Prints JSON rows; writes runs/neck/front.png (rows = heads; per frame: without, with occluders) and
runs/neck/front.json. Needs only data_samples/ (and the runs).
"""

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file

from ggtalker_nb.adapt.ev import body_occluders
from ggtalker_nb.avatar.body import dilate
from ggtalker_nb.avatar.identity import load_identity
from ggtalker_nb.avatar.runtime import pack_track, render_frames
from ggtalker_nb.core import data_samples_path
from ggtalker_nb.e2v.generator import neutral_vertices
from ggtalker_nb.gaussians.binding import BoundGaussians
from ggtalker_nb.gaussians.uvmap import uv_texel_table, uvmap_to_gaussians
from ggtalker_nb.metrics import psnr
from ggtalker_nb.talker import Talker

torch.set_num_threads(1)
FRAMES = [0, 10, 20]


def front_rows(names: list, identity=None, save: bool = True) -> tuple[list, list]:
    """Rows (PSNR of the composite against the body frame, whole frame and lower neck, with and without occluders) and
    pictures (per head, per frame: [without, with occluders], whole frames) for heads `names` ('shipped' or run
    folders)."""
    ident, flame = load_identity(identity or os.environ.get("IDENTITY", data_samples_path("identity_sample")))
    body = ident.body
    p = ident.pose
    K = len(p["expr"])
    track = dict(
        expr=p["expr"],
        rotation=p["rotation"],
        neck=p["neck"],
        jaw=torch.zeros(K, 3),
        eyes=p["eyes"],
        translation=p["translation"],
    )
    sub = {k: v[FRAMES] for k, v in track.items()}
    occ_all = body.occluders
    if occ_all is None:  # a body file from before the occluders: compute them from the body track
        occ_all = body_occluders(flame, ident.shape, pack_track(track, flame.n_expr), ident.camera, body.masks)
    occ = occ_all[FRAMES]
    near = dilate(occ, 4)
    bf = body.frames[FRAMES].float() / 255
    spec = Talker.from_pretrained().generator.spec
    table = uv_texel_table(flame.vt, flame.ft, 128)
    rows, pics = [], []
    for name in names:
        if name == "shipped":
            g, mlp, shape = ident.gaussians, ident.color_mlp, ident.shape
        else:
            w = load_file(Path(name) / "result.safetensors")
            shape = w["shape"].float()
            with torch.no_grad():
                lg = uvmap_to_gaussians(w["uvmap"], table, neutral_vertices(flame, shape), flame.faces, spec)
            g, mlp = BoundGaussians.from_local(lg.detach()), None
        heads = render_frames(g, mlp, flame, shape, sub, ident.camera).clamp(0, 1)
        row, ims = dict(head=Path(name).name), []
        for on in (False, True):
            body.occluders = occ_all if on else None
            with torch.no_grad():
                out = torch.stack([body.compose(heads[k : k + 1], "fixed", f)[0] for k, f in enumerate(FRAMES)])
            tag = "occluders" if on else "head_in_front"
            row[f"psnr_frame_{tag}"] = round(float(np.mean([psnr(out[k], bf[k]) for k in range(len(FRAMES))])), 2)
            row[f"psnr_lower_neck_{tag}"] = round(
                float(np.mean([psnr(out[k], bf[k], mask=near[k]) for k in range(len(FRAMES))])), 2
            )
            ims.append(out)
        rows.append(row)
        print(json.dumps(row), flush=True)
        pics.append([[im[k].numpy() for im in ims] for k in range(len(FRAMES))])
    return rows, pics


if __name__ == "__main__":
    rows, pics = front_rows(sys.argv[1:])
    H = pics[0][0][0].shape[0]
    strip = [np.concatenate([np.concatenate(pr, 1)[H // 3 :] for pr in per_head], 1) for per_head in pics]
    Path("runs/neck").mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.concatenate(strip, 0) * 255 + 0.5).clip(0, 255).astype(np.uint8)).save("runs/neck/front.png")
    Path("runs/neck/front.json").write_text(
        json.dumps(dict(rows=rows, frames=FRAMES, load=os.getloadavg()[0], argv=sys.argv[1:]), indent=1) + "\n"
    )

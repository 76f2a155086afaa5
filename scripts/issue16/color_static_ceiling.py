# colour ablation, part 3: the most a colour model could gain — the held-out clip rendered with each vertex's *mean*
# shading
# run from the repository root: PYTHONPATH=. python scripts/issue16/color_static_ceiling.py  (outputs under runs/, which
# git ignores)
# factor (the best an expression-independent albedo can do, with perfect geometry) against the truly shaded frames
import json
import torch
from ggtalker_nb.data.video import ClipReader
from ggtalker_nb.data.synthtalk import SynthTalk
from ggtalker_nb.adapt.color import mouth_mask
from ggtalker_nb.metrics import psnr

torch.set_num_threads(1)
r = ClipReader("data/synthtalk_shaded/id0002_c002")
s = r.meta["synthtalk"]
gen = SynthTalk(
    s["seed"],
    s["n_identities"],
    s["clips_per_identity"],
    s["size"],
    s["tracking_noise"],
    max_seconds=s.get("max_seconds"),
    motion_version=s.get("motion_version", 1),
    expression_shading=True,
)
scene = gen.scene(s["identity_index"])
tr = r.flame_clean
shaded, ms, _ = scene.render(tr, r.camera)
fl = scene.flame
sh = scene.shading
from ggtalker_nb.core import pad_last

with torch.no_grad():
    out = fl(
        shape=torch.as_tensor(pad_last(tr.shape, fl.n_shape)),
        expr=torch.as_tensor(pad_last(tr.expr, fl.n_expr)),
        pose=torch.as_tensor(tr.pose()),
        transl=torch.as_tensor(tr.translation),
    )
    tints = sh(out.vertices, torch.as_tensor(tr.pose())[:, 6:9])
mean_tint = tints.mean(0, keepdim=True)
scene.shading = lambda v, j: mean_tint.expand(len(v), -1, -1)
static, _, _ = scene.render(tr, r.camera)
scene.shading = None
plain, _, _ = scene.render(tr, r.camera)
f = lambda x: torch.from_numpy(x).float() / 255
mm = mouth_mask(torch.as_tensor(r.landmarks), torch.from_numpy(ms))
m = torch.from_numpy(ms)
res = dict(
    static_vs_shaded_mouth=float(psnr(f(static), f(shaded), mm).mean()),
    plain_vs_shaded_mouth=float(psnr(f(plain), f(shaded), mm).mean()),
    static_vs_shaded_head=float(psnr(f(static), f(shaded), m).mean()),
    stored_vs_rerender_mouth=float(psnr(f(r.frames()), f(shaded), mm).mean()),
)
print(res)
json.dump(res, open("runs/color/static_ceiling.json", "w"), indent=1)

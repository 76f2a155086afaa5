"""Stripe ratio of the astronaut one-photo head at the photo's own view (the only view with ground truth: the photo),
BEFORE (default runs/e2v_orbit/previous_prior.safetensors) vs the shipped prior; adds it to results/e2v_views.json.

    python scripts/stripes_astronaut.py [BEFORE]
"""

import json
import sys

import torch

torch.set_num_threads(1)
from ggtalker_nb.data.synthtalk import sample_head_flame
from ggtalker_nb.e2v.generator import IdentityGaussianGenerator, flame_vertices
from ggtalker_nb.e2v.eval import astronaut_reference, predict_map, render_map, texel_lattice, stripe_ratio
from ggtalker_nb.geometry import Camera

flame = sample_head_flame()
out = {}
for name, p in (
    ("before", sys.argv[1] if len(sys.argv) > 1 else "runs/e2v_orbit/previous_prior.safetensors"),
    ("after", "data_samples/priors/e2v_cpu.safetensors"),
):
    gen = IdentityGaussianGenerator.load(p, flame).eval()
    astro = astronaut_reference(flame)
    M = predict_map(gen, astro)
    zero = {"expr": torch.zeros(1, flame.n_expr), "shape": torch.zeros(1, flame.n_shape)}
    cam = Camera(astro["viewmat"][0], astro["K"][0], 256, 256)
    pred, a = render_map(gen, M, zero["shape"], zero, cam)
    v = flame_vertices(flame, zero)[0]
    r, n = stripe_ratio(pred[0], astro["image"][0], a[0] > 0.5, *texel_lattice(gen.table, v, flame.faces, cam))
    out[name] = dict(stripe=r, patches=n)
print(json.dumps(out))
from pathlib import Path

P = Path("results/e2v_views.json")
rec = json.loads(P.read_text())
rec["figures"].update(
    astronaut_stripe_own=round(out["after"]["stripe"], 3), astronaut_stripe_own_before=round(out["before"]["stripe"], 3)
)
rec["notes"] = [n for n in rec["notes"] if not n.startswith("astronaut_stripe_own")] + [
    f"astronaut_stripe_own(_before): python scripts/stripes_astronaut.py {' '.join(sys.argv[1:])} — the photo head at "
    "the photo's own camera, "
    "256², against the photo (alpha > 0.5 patches); at other views a photo has no ground truth"
]
P.write_text(json.dumps(rec, indent=1, ensure_ascii=False) + "\n")

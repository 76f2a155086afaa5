# figure for issue #16.4: what the colour MLP changes on the mouth of held-out frames (SynthTalk with shading)
# run from the repository root after color_run_seeds.py with FRAMES=runs/color/frames:
#   PYTHONPATH=. python scripts/issue16/color_figure.py [runs/color/frames/shaded_on_s0.safetensors [OUT.png]]
# writes nbs/images/color_mouth.png: per frame (widest-open mouths), truth | with the MLP | MLP off (same Gaussians) |
# |with − off| ×4 | |truth − off| ×4 (what a perfect colour model would add)
import sys

import numpy as np
from PIL import Image, ImageDraw

from ggtalker_nb.core import load_safetensors

t, _ = load_safetensors(sys.argv[1] if len(sys.argv) > 1 else "runs/color/frames/shaded_on_s0.safetensors")
f = {k: t[k].float() / 255 for k in ("truth", "with_mlp", "mlp_off")}
cols = []
for i in range(len(t["index"])):
    m = t["mouth"][i]
    ys, xs = m.any(1).nonzero()[:, 0], m.any(0).nonzero()[:, 0]
    y0, y1 = max(0, int(ys[0]) - 6), int(ys[-1]) + 7
    x0, x1 = max(0, int(xs[0]) - 6), int(xs[-1]) + 7
    crop = lambda x: x[i, y0:y1, x0:x1]
    d1 = ((crop(f["with_mlp"]) - crop(f["mlp_off"])).abs() * 4).clamp(0, 1)
    d2 = ((crop(f["truth"]) - crop(f["mlp_off"])).abs() * 4).clamp(0, 1)
    tiles = [crop(f["truth"]), crop(f["with_mlp"]), crop(f["mlp_off"]), d1, d2]
    cols.append(tiles)
S = 4
names = ["truth", "colour MLP on", "MLP off", "|on - off| x4", "|truth - off| x4"]
w = max(c[0].shape[1] for c in cols) * S
h = max(c[0].shape[0] for c in cols) * S
canvas = Image.new("RGB", (len(names) * (w + 4) + 40, len(cols) * (h + 4) + 16), "white")
for j, n in enumerate(names):
    ImageDraw.Draw(canvas).text((40 + j * (w + 4) + 2, 2), n, fill="black")
for i, tiles in enumerate(cols):
    ImageDraw.Draw(canvas).text((2, 16 + i * (h + 4) + h // 2), f"#{int(t['index'][i])}", fill="black")
    for j, x in enumerate(tiles):
        im = Image.fromarray((x.numpy() * 255).astype(np.uint8))
        im = im.resize((x.shape[1] * S, x.shape[0] * S), Image.NEAREST)
        canvas.paste(im, (40 + j * (w + 4), 16 + i * (h + 4)))
canvas.save(sys.argv[2] if len(sys.argv) > 2 else "nbs/images/color_mouth.png")
mse = lambda a, b: float(((a - b) ** 2)[t["mouth"]].mean())
print("mouth MSE off / on:", mse(f["mlp_off"], f["truth"]), mse(f["with_mlp"], f["truth"]), canvas.size)

# figure for issue #16.1's fixed-body seam flicker: heads of a held-out clip over one fixed body frame (bench setting,
# 256²), naive paste vs the version-2 clean plate vs the real video, and |I_t − I_{t−1}| of each (×4)
# run from the repository root: PYTHONPATH=. python scripts/issue16/body_flicker_figure.py [net]  (net: a bench net
# saved by bench_body(out_dir=…), default runs/body/nets/inpainter_256.safetensors)
# writes nbs/images/body_fixed_flicker.png
import sys

import numpy as np
import torch
from PIL import Image, ImageDraw

from ggtalker_nb.adapt.inpainter import load_clip_tensors
from ggtalker_nb.avatar.body import Inpainter, compose, dilate
from ggtalker_nb.core import data_samples_path, load_safetensors

torch.set_num_threads(1)
R = 6
t_net, m_net = load_safetensors(sys.argv[1] if len(sys.argv) > 1 else "runs/body/nets/inpainter_256.safetensors")
net = Inpainter.from_config(m_net["config"])
net.load_state_dict(t_net)
net.eval()
root = data_samples_path("synthtalk_mini")
fa, ma, _ = load_clip_tensors(root / "id0002_c000", 256)
fb, mb, hb = load_clip_tensors(root / "id0002_c001", 256)
naive = compose(None, hb, fa, ma, "fixed", radius_px=R)
v2 = compose(net, hb, fa, ma, "fixed", radius_px=R)
band = dilate(mb, R) & ~mb
t = int((band & ma[:1]).sum((1, 2)).argmax())  # the frame where the naive paste shows most of the old head
ys, xs = (mb[t] | ma[0]).any(1).nonzero()[:, 0], (mb[t] | ma[0]).any(0).nonzero()[:, 0]
y0, y1 = max(0, int(ys[0]) - 12), min(256, int(ys[-1]) + 13)
x0, x1 = max(0, int(xs[0]) - 12), min(256, int(xs[-1]) + 13)


def tile(img):
    a = (img[y0:y1, x0:x1].clamp(0, 1).numpy() * 255).astype(np.uint8)
    return Image.fromarray(a).resize(((x1 - x0) * 2, (y1 - y0) * 2), Image.NEAREST)


def diff(v):
    return ((v[t] - v[t - 1]).abs().mean(-1, keepdim=True) * 4).expand(-1, -1, 3)


tiles = [
    ("naive paste", naive[t]),
    ("clean plate (v2)", v2[t]),
    ("real frame", fb[t]),
    ("|I_t - I_t-1| naive, x4", diff(naive)),
    ("|I_t - I_t-1| v2, x4", diff(v2)),
    ("|I_t - I_t-1| real, x4", diff(fb)),
]
ims = [tile(x) for _, x in tiles]
W, H = ims[0].size
canvas = Image.new("RGB", (W * 3 + 8, (H + 16) * 2 + 4), "white")
for i, ((name, _), im) in enumerate(zip(tiles, ims)):
    x, y = (i % 3) * (W + 4), (i // 3) * (H + 18)
    canvas.paste(im, (x, y + 14))
    ImageDraw.Draw(canvas).text((x + 2, y + 1), name, fill="black")
canvas.save("nbs/images/body_fixed_flicker.png")
print("frame", t, "crop", (y0, y1, x0, x1), canvas.size)

"""The adapted identity in the orbit view (yaw 60 / 90 / 120°, with its colour MLP, as the Talker draws it) before and
after the colour MLP's per-Gaussian gain (`EVAdaptConfig.color_gain`): the purple on the back of the scalp came from
the MLP. Writes nbs/images/color_gain.png.

    python scripts/issue16/color_gain_figure.py BEFORE AFTER

As run: `runs/lead/identity_sample_neck data_samples/identity_sample` (the first: the identity shipped before the
gain, re-adapted with the whole neck).
"""

import sys

import numpy as np
import torch
from PIL import Image, ImageDraw

from ggtalker_nb.talker import Talker

torch.set_num_threads(2)
rows = []
for label, path in zip(("before: MLP on every texel", "after: gain = 1 - anchor weight"), sys.argv[1:3]):
    t = Talker.from_pretrained()
    t.load_identity(path)
    r = t.view_renderer(resolution=256)
    im = Image.fromarray(np.concatenate([r(y, 0.0) for y in (60, 90, 120)], 1))
    ImageDraw.Draw(im).text((6, 4), label, fill=(0, 0, 0))
    rows.append(np.asarray(im))
Image.fromarray(np.concatenate(rows, 0)).save("nbs/images/color_gain.png")
print("wrote nbs/images/color_gain.png")

"""One-image heads rendered at 768² (3× the photo crop), before and after the decoder's tangent-σ floor: a held-out
synthtalk_mini frame and the astronaut photo, each fitted by `fit_photo`. Writes nbs/images/e2v_gaps.jpg.

    python scripts/issue16/e2v_gaps_figure.py [BEFORE] [AFTER]

As run: `runs/e2v_cover/previous_prior.safetensors data_samples/priors/e2v_cpu.safetensors`.
"""

import sys

import numpy as np
import torch
from PIL import Image, ImageDraw
from skimage import data as skdata

from ggtalker_nb.core import data_samples_path
from ggtalker_nb.data.synthtalk import sample_head_flame
from ggtalker_nb.data.track import fit_photo
from ggtalker_nb.data.video import ClipReader
from ggtalker_nb.e2v.eval import predict_map, render_map
from ggtalker_nb.e2v.generator import IdentityGaussianGenerator
from ggtalker_nb.talker import scale_camera

torch.set_num_threads(1)
before = sys.argv[1] if len(sys.argv) > 1 else "runs/e2v_cover/previous_prior.safetensors"
after = sys.argv[2] if len(sys.argv) > 2 else "data_samples/priors/e2v_cpu.safetensors"
flame = sample_head_flame()
refs = [
    fit_photo(ClipReader(data_samples_path("synthtalk_mini") / "id0002_c000").frames()[0], model=flame),
    fit_photo(skdata.astronaut(), model=flame),
]
rows = []
for label, path in (("before (no floor)", before), ("after (min_tangent 0.8)", after)):
    gen = IdentityGaussianGenerator.load(path, flame).eval()
    tiles = []
    for ref in refs:
        with torch.no_grad():
            M = predict_map(gen, ref)
            rgb, _ = render_map(gen, M, ref["flame"]["shape"], ref["flame"], scale_camera(ref["camera"], 768, 768))
        tiles.append((rgb[0, 200:520, 200:560].clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8))
    im = Image.fromarray(np.concatenate(tiles, 1))
    ImageDraw.Draw(im).text((8, 6), label, fill=(0, 0, 0))
    rows.append(np.asarray(im))
Image.fromarray(np.concatenate(rows, 0)).save("nbs/images/e2v_gaps.jpg", quality=88)
print("wrote nbs/images/e2v_gaps.jpg")

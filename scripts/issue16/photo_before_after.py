"""One photo in (scikit-image's astronaut): the front and orbit views before and after the photo-path fixes of this
issue — the body's re-drawn band (6 px → 1 px), the tracker's neck cover (the collar stays in front of the neck, and
the E-V prior no longer reads the collar as neck skin), and the rim and mouth fixes of `Talker.from_photo` (rim colours
fitted to the photo, the photo's own head edge kept under the head, a dark mouth cavity; `photo_rim.py`). Writes
nbs/images/photo_before_after.jpg.

    python scripts/issue16/photo_before_after.py
"""

import numpy as np
import torch
from PIL import Image, ImageDraw
from skimage import data as skdata

from ggtalker_nb.data.speech import tts
from ggtalker_nb.talker import Talker

torch.set_num_threads(1)
speech = tts("Hello, I speak from one photo.")
rows = []
for label, kw in (
    (
        "before: 6-px band, collar read as neck",
        dict(radius_px=6, neck_cover=False, edge_px=0, refine_steps=0, fill_mouth=False),
    ),
    ("after: 1-px band, collar in front, rim and mouth fixes", {}),
):
    t = Talker.from_photo(skdata.astronaut(), **kw)
    v = t.speak(speech, views=("front", "orbit"), seed=0)
    f = v.frames[len(v.frames) // 3]
    im = Image.fromarray(f)
    ImageDraw.Draw(im).text((6, 4), label, fill=(255, 255, 255))
    rows.append(np.asarray(im))
Image.fromarray(np.concatenate(rows, 0)).save("nbs/images/photo_before_after.jpg", quality=90)
print("wrote nbs/images/photo_before_after.jpg")

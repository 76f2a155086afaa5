"""Regenerate the README poster (nbs/images/demo_poster.jpg) from `ggtalker demo` on the shipped defaults.

The poster is one frame of the demo video (front view | novel-view orbit, 256 px high): the frame where the mouth is
most open, so the picture shows the head speaking. Run from the repository root: `python scripts/make_poster.py`."""

import sys

import numpy as np
from PIL import Image

from ggtalker_nb.core import data_samples_path
from ggtalker_nb.data.speech import read_audio
from ggtalker_nb.media import AUDIO_SR
from ggtalker_nb.talker import Talker


def main(out: str = "nbs/images/demo_poster.jpg", resolution: int = 256):
    talker = Talker()
    talker.load_identity(data_samples_path("identity_sample", must_exist=True))
    speech = read_audio(data_samples_path("audio", "sample.wav", must_exist=True), AUDIO_SR)
    video = talker.speak(speech, views=("front", "orbit"), resolution=resolution)
    jaw_opening = np.asarray(video.flame["pose"])[:, 6]  # FLAME pose: global, neck, jaw (x: opening), eyes
    index = int(np.argmax(jaw_opening))
    frame = np.asarray(video.frames[index])
    Image.fromarray(frame).save(out, quality=90)
    print(f"wrote {out}: frame {index} of {video.n_frames}, {frame.shape[1]}x{frame.shape[0]}")


if __name__ == "__main__":
    main(*sys.argv[1:2])

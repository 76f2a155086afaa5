"""Other-voice speed perturbation of A2E training windows (issue #17, session 8): on a real clip folder the perturbed
window's motion is the clip's motion read f times faster, its audio the clip's speech resampled to the same timing;
the factors are seeded and bounded."""

import numpy as np
import pytest
import torch

from ggtalker_nb.a2e.audio import speed_perturb
from ggtalker_nb.a2e.train import SpeedPerturbed
from ggtalker_nb.core import data_samples_path
from ggtalker_nb.data.video import AudioMotionDataset

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def ds():
    return AudioMotionDataset(data_samples_path("synthtalk_mini", must_exist=True), window=20, stride=10)


def test_motion_and_audio_follow_the_factor(ds):
    sp = SpeedPerturbed(ds, p=1.0, seed=3)
    done = 0
    for i in range(len(ds)):
        f, (j, s0) = sp.factor(i), ds.items[i]
        it = sp[i]
        s = int(it["start"])
        assert s <= s0
        r = ds.cache(ds.clips[j])
        t = s + np.arange(20) * f
        want = np.stack([np.interp(t, np.arange(len(r.flame.expr)), r.flame.expr[:, k]) for k in range(4)], 1)
        np.testing.assert_allclose(it["expr"][:, :4].numpy(), want, atol=1e-5)
        assert it["audio"].shape == ds[i]["audio"].shape
        spf = 16000 / r.fps
        src = torch.as_tensor(r.audio[int(round(s * spf)) : int(round(s * spf)) + int(round(20 * f * spf))])
        ref = speed_perturb(src.float(), f, n_out=len(it["audio"]))
        torch.testing.assert_close(it["audio"], ref)
        for k in ("shape", "identity", "clip"):
            assert torch.equal(torch.as_tensor(it[k]), torch.as_tensor(ds[i][k]))
        done += 1
    assert done >= 3


def test_factors_are_seeded_and_bounded(ds):
    a, b = SpeedPerturbed(ds, p=0.5, seed=0), SpeedPerturbed(ds, p=0.5, seed=0)
    fs = [a.factor(i) for i in range(200)]
    assert fs == [b.factor(i) for i in range(200)]
    moved = [abs(f - 1) for f in fs if f != 1]
    assert 40 < len(moved) < 160 and min(moved) >= 0.04 - 1e-12 and max(moved) <= 0.12 + 1e-12
    assert fs != [SpeedPerturbed(ds, p=0.5, seed=1).factor(i) for i in range(200)]


def test_speed_perturb_keeps_length_and_scales_duration():
    x = torch.randn(8000, generator=torch.Generator().manual_seed(0))
    assert len(speed_perturb(x, 1.1)) == round(8000 / 1.1)
    assert len(speed_perturb(x, 0.9)) == round(8000 / 0.9)
    # an onset at 0.25 s arrives at 0.25 / f s
    y = torch.zeros(16000)
    y[4000:] = torch.sin(torch.arange(12000) * 0.3)
    for f in (0.9, 1.1):
        z = speed_perturb(y, f)
        onset = int((z.abs() > 0.5).nonzero()[0])
        assert abs(onset - 4000 / f) < 10

"""A2E prior work of issue #17: condition tokens encoded once per window (bit-identical), audio augmentation only while
training, SynthTalk motion version 2 varies per seed and version 1 is unchanged, the style metric ranks a speaker's
own motion first."""

import numpy as np
import pytest
import torch

import ggtalker_nb.a2e.model as M
from ggtalker_nb.a2e.audio import MelEncoder, augment_speech
from ggtalker_nb.a2e.eval import style_report
from ggtalker_nb.a2e.model import A2EConfig, A2EModel, a2e_loss, sample, training_audio
from ggtalker_nb.data.synthtalk import (
    MOTION_VERSION,
    MotionVariety,
    SpeakingStyle,
    SynthTalk,
    synthesize_motion,
    vary_articulation,
    visemes_from_phonemes,
)


def _tiny(**kw):
    torch.manual_seed(0)
    return A2EModel(
        A2EConfig.cpu(
            d=32, layers=1, heads=2, ffn=64, audio_dim=16, window=12, context=4, steps=20, n_identities=3, **kw
        )
    ).eval()


@pytest.mark.parametrize("guidance", [(1.0, 1.0), (1.0, 2.0), (2.0, 1.5)])
def test_sampling_encodes_the_condition_once_per_window_and_is_unchanged(monkeypatch, guidance):
    m, f = _tiny(), torch.randn(2, 30, 16)
    calls = []
    orig_enc = m.encode_condition
    m.encode_condition = lambda *a, **k: calls.append(1) or orig_enc(*a, **k)
    a = sample(m, f, torch.tensor([0, 2]), steps=5, guidance=guidance, generator=torch.Generator().manual_seed(0))
    windows = 3  # 30 frames, 12 new frames per window
    assert len(calls) == windows
    orig = M._guided  # the step-by-step path: no cache, every pass encodes again
    monkeypatch.setattr(M, "_guided", lambda *args, cache=None: orig(*args))
    b = sample(m, f, torch.tensor([0, 2]), steps=5, guidance=guidance, generator=torch.Generator().manual_seed(0))
    assert len(calls) == windows + 3 * 5  # 5 steps per window, once per step
    assert torch.equal(a, b)


def test_audio_is_augmented_only_while_training():
    m = _tiny(p_augment=1.0)
    batch = dict(audio=torch.randn(2, 12 * 640) * 0.1)
    g = lambda: torch.Generator().manual_seed(1)
    assert torch.equal(training_audio(m, batch, g()), batch["audio"])  # eval mode: the audio as it is
    m.train()
    x1, x2 = training_audio(m, batch, g()), training_audio(m, batch, g())
    assert torch.equal(x1, x2) and not torch.allclose(x1, batch["audio"])  # reproducible from the step's generator
    m0 = _tiny()
    m0.train()
    assert torch.equal(training_audio(m0, batch, g()), batch["audio"])  # p_augment = 0: the old behaviour
    enc = MelEncoder(out_dim=16, channels=8, layers=0)
    b = dict(batch, expr=torch.zeros(2, 12, 50), jaw=torch.zeros(2, 12, 3), identity=torch.tensor([0, 1]))
    assert torch.isfinite(a2e_loss(m, b, enc, generator=g())["loss"])


def test_augmentation_levels_stay_in_range():
    x = torch.randn(16, 8000) * 0.3
    y = augment_speech(x, torch.Generator().manual_seed(0), p=1.0)
    assert y.shape == x.shape and torch.isfinite(y).all() and y.abs().max() <= 1.0
    assert (y - x).abs().amax(1).min() > 0  # every row changed


PHS = [
    ("_", 0, 0.3),
    ("b", 0.3, 0.38),
    ("ɔ", 0.38, 0.6),
    ("t", 0.6, 0.7),
    ("_", 0.7, 1.3),
    ("m", 1.3, 1.4),
    ("iː", 1.4, 1.8),
    ("_", 1.8, 2.2),
]


def test_motion_version_2_varies_with_the_seed_and_version_1_does_not():
    names = ["lip_pucker", "lip_spread_smile", "lip_press", "upper_lip_raise", "lower_lip_depress", "lip_funnel"]
    run = lambda k, var: synthesize_motion(
        PHS, 55, SpeakingStyle(), np.random.default_rng(k), names, 10, 10, variety=var
    )[0]
    v1 = [run(k, None) for k in range(3)]
    assert all(np.array_equal(v1[0].jaw, t.jaw) and np.array_equal(v1[0].expr[:, :6], t.expr[:, :6]) for t in v1)
    v2 = [run(k, MotionVariety.draw(np.random.default_rng([k, 6]))) for k in range(3)]
    d = [np.abs(v2[i].jaw[:, 0] - v2[j].jaw[:, 0]).mean() for i, j in ((0, 1), (0, 2), (1, 2))]
    assert min(d) > 0.003, d  # a new utterance each time
    vis = visemes_from_phonemes(PHS)
    for k in range(3):  # lips still meet on /b/ and /m/
        y = vary_articulation(vis, 55, 25, MotionVariety.draw(np.random.default_rng([k, 6])))
        assert y[int(0.34 * 25), 1] > 0.8 and y[int(1.35 * 25), 1] > 0.8


def test_synthtalk_records_and_rebuilds_its_motion_version(tmp_path):
    g1, g2 = SynthTalk(0, 3, 2, size=32, motion_version=1), SynthTalk(0, 3, 2, size=32)
    c1, c2 = g1.make_clip(0, 0, render=False), g2.make_clip(0, 0, render=False)
    assert c1.meta["synthtalk"]["motion_version"] == 1 and c2.meta["synthtalk"]["motion_version"] == MOTION_VERSION
    assert c2.meta["synthtalk"]["variety"]["seed"] == g2.variety(0, 0).seed
    assert not np.array_equal(c1.flame.jaw, c2.flame.jaw)
    assert np.array_equal(g2.make_clip(0, 0, render=False).flame.jaw, c2.flame.jaw)  # deterministic
    with pytest.raises(Exception, match="motion_version"):
        SynthTalk(0, 3, 2, motion_version=4)


def test_style_distance_ranks_the_own_speaker_first():
    rng = np.random.default_rng(0)

    def speaker(amp, f):  # clips of a speaker: opening amplitude `amp`, rhythm `f` Hz
        t = np.arange(100) / 25
        return [
            np.stack(
                [
                    amp * (1 + np.sin(2 * np.pi * f * t + rng.uniform(0, 6))) + rng.normal(0, 0.2, 100),
                    40 + amp * np.sin(2 * np.pi * f * t) + rng.normal(0, 0.2, 100),
                    30 + rng.normal(0, 0.05, 100),
                ],
                -1,
            )
            for _ in range(6)
        ]

    spk = {f"s{i}": (1 + i, 2 + i) for i in range(4)}
    true = {k: speaker(*v) for k, v in spk.items()}
    same = {k: speaker(*v) for k, v in spk.items()}
    mean = {k: speaker(2.5, 3.5) for k in spk}
    d_same, d_mean = style_report(true, same)["style_dist"], style_report(true, mean)["style_dist"]
    assert d_same < 0.5 * d_mean, (d_same, d_mean)

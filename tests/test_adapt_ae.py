"""A-E adaptation: held-out loss goes down, the file loads, an interrupted run resumes to the same weights, any-length
speech."""

import inspect
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from ggtalker_nb.a2e.audio import build_audio_encoder
from ggtalker_nb.a2e.model import A2EConfig, load_a2e
from ggtalker_nb.a2e.train import TrainConfig, train_a2e
from ggtalker_nb.adapt.ae import adapt_a2e, speak_motion
from ggtalker_nb.core import InputError, data_samples_path
from ggtalker_nb.data.video import AudioMotionDataset

torch.set_num_threads(1)
MINI = data_samples_path("synthtalk_mini", must_exist=True)
TINY = A2EConfig.cpu(d=32, layers=1, heads=2, ffn=64, audio_dim=16, window=20, context=5, steps=50)


@pytest.fixture(scope="module")
def prior(tmp_path_factory):
    out = tmp_path_factory.mktemp("prior")
    train_a2e(
        TrainConfig(
            steps=20,
            batch_size=4,
            lr=2e-3,
            warmup=2,
            ckpt_every=100,
            out_dir=str(out),
            lip_loss=0.5,
            window_stride=5,
            progress=False,
        ),
        replace(TINY, n_identities=2),
        AudioMotionDataset(MINI, window=TINY.n, stride=5, split="train"),
        encoder=build_audio_encoder("mel", out_dim=16, channels=16, layers=0),
    )
    return out / "final.safetensors"


KW = dict(steps=16, lr=2e-3, id_lr=2e-2, batch_size=4, eval_every=4, patience=None, lip_loss=0.5, progress=False)


def test_signature_matches_iface():
    p = inspect.signature(adapt_a2e).parameters
    assert list(p)[:3] == ["prior", "clips", "out_dir"]
    assert {"steps", "lr", "time_budget_s", "val_clips", "patience", "progress"} <= set(p) and p["lr"].default == 1e-5
    q = inspect.signature(speak_motion).parameters
    assert list(q)[:8] == ["model", "encoder", "audio_16k", "identity", "steps", "sampler", "guidance", "seed"]


def test_adapt_lowers_heldout_loss_and_loads(prior, tmp_path):
    r = adapt_a2e(prior, [MINI / "id0002_c000"], tmp_path, val_clips=[MINI / "id0002_c001"], **KW)
    assert r["val_best"] < r["val_before"], r
    m, e = load_a2e(r["path"])
    assert m.config.n_identities == 3 and r["identity"] == 2 and m.identity_names[2] == "id0002"
    assert (tmp_path / "adapt.json").is_file()
    o = speak_motion(m, e, np.zeros(16000, np.float32), identity=r["identity"], steps=2)
    assert o["expr"].shape == (25, 50) and o["jaw"].shape == (25, 3)


def test_interrupted_adaptation_resumes_identically(prior, tmp_path):
    "A run stopped mid-way (between two validations) and rerun ends with the same weights as an uninterrupted run."
    a = adapt_a2e(prior, [MINI / "id0002_c000"], tmp_path / "a", val_clips=[MINI / "id0002_c001"], **KW)
    b1 = adapt_a2e(
        prior, [MINI / "id0002_c000"], tmp_path / "b", val_clips=[MINI / "id0002_c001"], **{**KW, "run_steps": 6}
    )
    assert b1["stopped"] == "run_steps" and b1["steps"] == 6 and load_a2e(b1["path"])[0].config.n_identities == 3
    b = adapt_a2e(prior, [MINI / "id0002_c000"], tmp_path / "b", val_clips=[MINI / "id0002_c001"], **KW)
    assert b["steps"] == KW["steps"] and b["val"] == a["val"]
    ma, mb = load_a2e(a["path"])[0], load_a2e(b["path"])[0]
    for (k, x), y in zip(ma.state_dict().items(), mb.state_dict().values()):
        assert torch.equal(x, y), k


def test_name_clash_and_bad_prior(prior, tmp_path):
    "Adapting a clip of a known identity adds a *new* row with a distinct name; a non-A2E prior is refused."
    r = adapt_a2e(prior, [MINI / "id0000_c000"], tmp_path, **{**KW, "steps": 2, "patience": None})
    assert r["identity"] == 2 and r["name"] == "id0000~1"
    with pytest.raises(InputError, match="A2EModel"):
        adapt_a2e((torch.nn.Linear(2, 2), None), [MINI / "id0000_c000"], tmp_path / "x")


@settings(max_examples=6, deadline=None)
@given(S=st.one_of(st.integers(1, 2000), st.integers(16000 * 20, 16000 * 40)))
def test_speak_motion_any_length(prior, S):
    "Odd and long (20–40 s) inputs: T = ceil(S·25/16000) frames, all finite."
    m, e = load_a2e(prior)
    a = (np.random.default_rng(S).standard_normal(S) * 0.1).astype(np.float32)
    o = speak_motion(m, e, a, identity=None, steps=2)
    T = -(-S * 25 // 16000)
    assert o["expr"].shape == (T, 50) and o["jaw"].shape == (T, 3)
    assert np.isfinite(o["expr"]).all() and np.isfinite(o["jaw"]).all()

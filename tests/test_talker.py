"The Talker with toy priors: identity folder round trip, version/tamper errors, resume, any-length/any-rate speech."

import json
import math
import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch

from ggtalker_nb.core import AssetError, InputError, data_samples_path
from ggtalker_nb.data.speech import write_wav
from ggtalker_nb.talker import (
    AdaptSettings,
    Talker,
    Video,
    load_identity,
    make_tiny_priors,
    pingpong,
    read_identity_json,
    speech_16k,
)

torch.set_num_threads(1)
MINI = data_samples_path("synthtalk_mini", must_exist=True)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    "Toy priors and a tiny identity adapted from the mini set's held-out id0002 (work folder kept)."
    d = tmp_path_factory.mktemp("talker")
    t = Talker.from_pretrained(make_tiny_priors(d / "priors"))
    s = replace(AdaptSettings.preset("tiny"), keep_work=True)
    ident = t.adapt(MINI, d / "id", time_budget_s=None, identity="id0002", settings=s, progress=False)
    return d, t, ident


def _copy(made, name):
    d, _, _ = made
    out = d / name
    shutil.copytree(d / "id", out, ignore=shutil.ignore_patterns("work"))
    return out


def test_round_trip(made):
    d, t, ident = made
    info = read_identity_json(d / "id")
    assert info["format"] == "ggtalker-identity" and info["version"] == 1 and info["name"] == "id0002"
    assert info["made_by"]["command"].startswith("Talker.adapt(") and info["source"]["clips"] == [
        "id0002_c000",
        "id0002_c001",
    ]
    assert set(info["priors"]) == {"a2e", "e2v"} and len(info["priors"]["a2e"]["sha256"]) == 64
    back, _ = load_identity(d / "id")
    for k, v in ident.gaussians.state_dict().items():
        torch.testing.assert_close(back.gaussians.state_dict()[k], v)
    for k, v in ident.color_mlp.state_dict().items():
        torch.testing.assert_close(back.color_mlp.state_dict()[k], v)
    for k, v in ident.body.inpainter.state_dict().items():
        torch.testing.assert_close(back.body.inpainter.state_dict()[k], v)
    assert torch.equal(back.body.frames, ident.body.frames) and torch.equal(back.body.masks, ident.body.masks)
    for k, v in ident.pose.items():
        torch.testing.assert_close(back.pose[k], v)
    torch.testing.assert_close(back.camera.viewmat, ident.camera.viewmat)
    torch.testing.assert_close(back.shape, ident.shape)
    for k, v in ident.a2e.state_dict().items():
        torch.testing.assert_close(back.a2e.state_dict()[k], v)
    assert back.a2e_identity == ident.a2e_identity == 2
    # a fresh Talker with no priors speaks the same frames as the adapting one
    t2 = Talker()
    t2.load_identity(d / "id")
    a = (np.sin(np.arange(8000) / 9) * 0.3).astype(np.float32)
    v1, v2 = t.speak((a, 16000), views="front,orbit"), t2.speak((a, 16000), views="front,orbit")
    assert np.array_equal(v1.frames, v2.frames) and v1.views == ("front", "orbit")


def test_rerun_returns_finished_identity_and_refuses_other_clips(made):
    d, t, ident = made
    again = t.adapt(MINI, d / "id", identity="id0002", settings=AdaptSettings.preset("tiny"), progress=False)
    torch.testing.assert_close(again.gaussians.mu_l, ident.gaussians.mu_l)
    with pytest.raises(InputError, match="made from other clips"):
        t.adapt(MINI / "id0002_c000", d / "id", settings=AdaptSettings.preset("tiny"), progress=False)


def test_resume_after_interruption(made):
    "An adaptation killed after its stages but before identity.json resumes from work/ to the same identity."
    d, t, ident = made
    out = d / "resumed"
    shutil.copytree(d / "id" / "work", out / "work")  # what an interrupted run leaves behind
    r = t.adapt(MINI, out, time_budget_s=None, identity="id0002", settings=AdaptSettings.preset("tiny"), progress=False)
    torch.testing.assert_close(r.gaussians.mu_l, ident.gaussians.mu_l)
    assert torch.equal(r.body.frames, ident.body.frames)
    assert not (out / "work").exists()  # cleaned up once identity.json is written


def test_version_and_tamper_errors(made):
    d, _, _ = made

    def edit_json(name, fn):
        p = _copy(made, name)
        j = json.loads((p / "identity.json").read_text())
        fn(j)
        (p / "identity.json").write_text(json.dumps(j))
        return p

    p = edit_json("v2", lambda j: j.update(version=2))
    with pytest.raises(AssetError, match=r"version 2, but this ggtalker-nb reads version 1"):
        load_identity(p)
    p = edit_json("v0", lambda j: j.update(version=0))
    with pytest.raises(AssetError, match=r"version 0, but .* version 1"):
        load_identity(p)
    p = edit_json("fmt", lambda j: j.update(format="something-else"))
    with pytest.raises(AssetError, match="not a ggtalker-identity"):
        load_identity(p)
    p = edit_json("path", lambda j: j["components"]["body"].update(file="../id/body.safetensors"))
    with pytest.raises(AssetError, match="plain file name"):
        load_identity(p)
    p = edit_json("nocomp", lambda j: j["components"].pop("a2e"))
    with pytest.raises(AssetError, match="no 'a2e' component"):
        load_identity(p)
    p = edit_json("head", lambda j: j["head_model"].update(hash="0" * 16))
    with pytest.raises(AssetError, match="another head model"):
        load_identity(p)
    p = _copy(made, "badjson")
    (p / "identity.json").write_text("{not json")
    with pytest.raises(AssetError, match="not valid JSON"):
        load_identity(p)
    p = _copy(made, "trunc")
    b = (p / "body.safetensors").read_bytes()
    (p / "body.safetensors").write_bytes(b[: len(b) // 3])
    with pytest.raises(AssetError, match="body.safetensors: does not match its size/SHA-256"):
        load_identity(p)
    with pytest.raises(AssetError, match="not a valid safetensors file"):
        load_identity(p, verify=False)  # still caught unverified
    p = _copy(made, "flip")
    b = bytearray((p / "motion.safetensors").read_bytes())
    b[-3] ^= 0x10
    (p / "motion.safetensors").write_bytes(bytes(b))
    with pytest.raises(AssetError, match="motion.safetensors: does not match"):
        load_identity(p)
    p = _copy(made, "gone")
    (p / "gaussians.safetensors").unlink()
    with pytest.raises(AssetError, match="gaussians.safetensors: missing"):
        load_identity(p)
    with pytest.raises(AssetError, match="no such identity folder"):
        load_identity(d / "nowhere")


@pytest.mark.parametrize(
    "n,sr,kind",
    [
        (1, 16000, "f32"),
        (7, 8000, "f32"),
        (12345, 44100, "f64"),
        (40001, 96000, "f32"),
        (22051, 22050, "int16-stereo"),
        (3333, 48000, "file"),
    ],
)
def test_speak_any_length_and_rate(made, tmp_path, n, sr, kind):
    _, t, _ = made
    rng = np.random.default_rng(n)
    a = (rng.standard_normal(n) * 0.2).astype(np.float64 if kind == "f64" else np.float32)
    if kind == "int16-stereo":
        src = ((rng.standard_normal((n, 2)) * 5000).astype(np.int16), sr)
    elif kind == "file":
        src = write_wav(tmp_path / "x.wav", a, sr)
    else:
        src = (a, sr)
    x16 = speech_16k(src)
    v = t.speak(src, size=32, views=("orbit", "front"))
    assert v.n_frames == math.ceil(len(x16) * 25 / 16000) >= 1
    assert v.frames.shape == (v.n_frames, 32, 64, 3) and v.frames.dtype == np.uint8
    assert v.flame["expr"].shape == (v.n_frames, 50) and np.isfinite(v.flame["pose"]).all()
    assert v.sr == 16000 and len(v.audio) == len(x16)


def test_speak_bad_inputs(made):
    _, t, _ = made
    z = np.zeros(1600, np.float32)
    for bad, msg in [
        (dict(audio=np.array([0.1, np.inf], np.float32), sr=16000), "NaN/inf"),
        (dict(audio=np.zeros(0, np.float32), sr=16000), "non-empty"),
        (dict(audio=z), "sample rate"),
        (dict(audio=z, sr=1000), "8000"),
        (dict(audio=z, sr=16000, views=()), "views"),
        (dict(audio=z, sr=16000, views=("front", "front")), "views"),
        (dict(audio=z, sr=16000, size=8), "size"),
        (dict(audio=z, sr=16000, chunk=0), "chunk"),
        (dict(audio=np.ones(16000 * 4, np.float32), sr=16000, max_seconds=3), "max_seconds"),
        (dict(audio=["not", "audio"]), "expected a path"),
    ]:
        with pytest.raises(InputError, match=msg):
            t.speak(**bad)
    with pytest.raises(InputError, match="no identity"):
        Talker().speak(z, sr=16000)
    with pytest.raises(InputError, match="no priors"):
        Talker().adapt(MINI, "x")
    with pytest.raises(InputError, match="3 identities"):
        Talker.from_pretrained(made[0] / "priors").adapt(MINI, made[0] / "y")


def test_silence_gives_a_still_mouth_and_custom_camera_is_head_only(made):
    _, t, ident = made
    v = t.speak(np.zeros(8000, np.float32), sr=16000, camera=ident.camera)
    assert v.n_frames == 13
    # head-only (no body): the corners are the plain background
    assert np.abs(v.frames[:, :3, :3].astype(float) - np.array([0.92, 0.92, 0.94]) * 255).max() <= 1.0
    assert pingpong(5, ident.n_body).tolist() == [0, 1, 2, 3, 4]


def test_video_save_has_audio(made, tmp_path):
    from ggtalker_nb.media import probe_video

    _, t, _ = made
    v = t.speak((np.sin(np.arange(16000) / 5).astype(np.float32) * 0.3, 16000))
    assert isinstance(v, Video)
    info = probe_video(v.save(tmp_path / "v.mp4"))
    assert info["audio"] and info["video"] == "48x48" and abs(info["duration"] - 1.0) < 0.15

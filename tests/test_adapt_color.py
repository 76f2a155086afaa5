"The colour stage's settings: EVAdaptConfig.color_fourier reaches the colour MLP; old runs and files keep theirs."

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from ggtalker_nb.adapt.ev import EVAdaptConfig, adapt_ev
from ggtalker_nb.avatar.color import ColorMLP
from ggtalker_nb.core import InputError, data_samples_path, load_safetensors
from ggtalker_nb.data.video import Clip, ClipReader

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "train_v0"


@pytest.fixture(scope="module")
def clip():
    c = ClipReader(data_samples_path("synthtalk_mini") / "id0002_c000").load()
    return Clip(c.frames[:6], c.flame.slice(0, 6), c.camera, dict(c.meta), None, c.masks[:6])


def _cfg(**kw):
    return EVAdaptConfig(
        uv_res=16, image_size=16, phase1_steps=1, phase2_steps=0, batch_frames=1, eval_every=0, progress=False, **kw
    )


@pytest.mark.parametrize("fourier", [2, 7])
def test_adapt_ev_builds_the_colour_mlp_from_its_config(clip, fourier):
    r = adapt_ev([clip], None, _cfg(color_fourier=fourier))
    assert r.color_mlp.config["fourier"] == fourier
    assert r.config["color_fourier"] == fourier


def test_color_fourier_is_checked():
    with pytest.raises(InputError, match="color_fourier"):
        _cfg(color_fourier=-1).validate()


def test_a_run_from_before_the_field_resumes_with_its_own_colour_settings(clip, tmp_path):
    "A checkpoint written before `color_fourier` existed (4 octaves) resumes with the default config, unchanged."
    out = tmp_path / "ev"
    out.mkdir()
    shutil.copy(FIXTURES / "ev_adapt_ckpt.safetensors", out / "ckpt.safetensors")
    t_old, m_old = load_safetensors(out / "ckpt.safetensors")
    assert "color_fourier" not in m_old["config"]
    cfg = EVAdaptConfig(
        uv_res=16,
        image_size=16,
        phase1_steps=1,
        phase2_steps=1,
        batch_frames=1,
        eval_every=0,
        ckpt_every=1,
        progress=False,
    )
    r = adapt_ev([clip], None, cfg, out_dir=out)  # at its end already: loads, no step
    assert r.config["color_fourier"] == 4 and r.config["lr_color"] == m_old["config"]["lr_color"]
    assert r.color_mlp.config["fourier"] == 4
    for k, v in r.color_mlp.state_dict().items():
        assert torch.equal(v, t_old[f"mlp.{k}"]), k
    # a run that asks for other colour settings explicitly is refused, as for any other setting
    other = 3 if cfg.color_fourier != 3 else 5
    with pytest.raises(InputError, match="other settings"):
        adapt_ev([clip], None, replace(cfg, color_fourier=other), out_dir=out)


def test_the_shipped_identity_keeps_its_colour_mlp():
    "Identity folders store the colour MLP's own config: a change of the adaptation defaults does not touch them."
    f = data_samples_path("identity_sample") / "color_mlp.safetensors"
    t, m = load_safetensors(f)
    mlp = ColorMLP.load(f)
    assert mlp.config == m["config"]
    for k, v in mlp.state_dict().items():
        assert torch.equal(v, t[k]), k

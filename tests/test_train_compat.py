"""Checkpoints written by the training code from before the shared loop (07_train) still load and resume.

The fixtures in tests/fixtures/train_v0/ were written by that code (`make_train_v0.py` beside them, run with the
package of that time): tiny A2E and E2V runs stopped at step 2 of 4, and an E-V adaptation stopped after 2 steps.
Resuming one with the same settings and no further steps must write back exactly the tensors it read (model,
encoder, optimiser), and continuing must carry the stored history over."""

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from ggtalker_nb.core import InputError, data_samples_path

torch.set_num_threads(1)
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "train_v0"
CLIPS = str(data_samples_path("synthtalk_mini", must_exist=True))


def _same_tensors(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_a2e_checkpoint_v0_resumes(tmp_path):
    from ggtalker_nb.a2e.audio import build_audio_encoder
    from ggtalker_nb.a2e.model import A2EConfig
    from ggtalker_nb.a2e.train import CKPT_LATEST, CKPT_PREVIOUS, TrainConfig, find_resume, load_checkpoint, train_a2e

    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(FIXTURES / "a2e_latest.safetensors", run / CKPT_LATEST)
    old_tensors, old_meta = load_checkpoint(run / CKPT_LATEST)
    assert old_meta["train_state"]["step"] == 2 and find_resume(run)[2].name == CKPT_LATEST
    model_cfg = A2EConfig.cpu(d=16, layers=1, heads=2, ffn=32, window=8, context=2, steps=20, audio_dim=16)
    cfg = lambda steps: TrainConfig(
        steps=steps,
        batch_size=2,
        lr=1e-3,
        warmup=1,
        ckpt_every=2,
        log_every=1,
        lip_loss=0.0,
        window_stride=6,
        progress=False,
        out_dir=str(run),
    )
    encoder = lambda: build_audio_encoder("mel", out_dim=16, channels=8, layers=0)
    r = train_a2e(cfg(2), model_cfg, CLIPS, encoder=encoder())  # resume at the end: no step
    assert r["step"] == 2 and r["history"] == old_meta["train_state"]["history"]
    new_tensors, new_meta = load_checkpoint(run / CKPT_LATEST)
    _same_tensors(new_tensors, old_tensors)  # model, encoder, optimiser
    assert new_meta["optimizer"]["param_groups"] == old_meta["optimizer"]["param_groups"]
    assert (run / CKPT_PREVIOUS).exists()
    r = train_a2e(cfg(4), model_cfg, CLIPS, encoder=encoder())
    assert r["step"] == 4 and r["stopped"] == "done" and r["history"][:2] == old_meta["train_state"]["history"]
    assert [h["step"] for h in r["history"]] == [1, 2, 3, 4]


def test_e2v_checkpoint_v0_resumes(tmp_path):
    from ggtalker_nb.e2v.generator import E2VConfig
    from ggtalker_nb.e2v.train import CKPT_LATEST, E2VTrainConfig, build_frame_bank, load_e2v_checkpoint, train_e2v

    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(FIXTURES / "e2v_latest.safetensors", run / CKPT_LATEST)
    old_tensors, old_meta = load_e2v_checkpoint(run / CKPT_LATEST)
    bank = build_frame_bank(CLIPS, frames_per_clip=2, novel_per_frame=0, res=16, split="train", seed=0)
    gen_cfg = E2VConfig(
        uv_res=16, widths=(4, 8), feat_ch=2, feat_res=16, enc_res=16, enc_widths=(4,), code_dim=4, footprint="isotropic"
    )  # what files of that time used
    cfg = lambda steps: E2VTrainConfig(
        steps=steps,
        batch_size=1,
        lr=2e-3,
        warmup=1,
        res=16,
        ckpt_every=2,
        log_every=1,
        progress=False,
        out_dir=str(run),
    )
    with pytest.raises(InputError, match="another E2VConfig"):  # the new default footprint differs
        train_e2v(cfg(2), replace(gen_cfg, footprint="anisotropic"), bank=bank)
    r = train_e2v(cfg(2), gen_cfg, bank=bank)
    assert r["step"] == 2 and r["history"] == old_meta["train_state"]["history"]
    new_tensors, _ = load_e2v_checkpoint(run / CKPT_LATEST)
    _same_tensors(new_tensors, old_tensors)
    r = train_e2v(cfg(4), gen_cfg, bank=bank)
    assert r["step"] == 4 and r["history"][:2] == old_meta["train_state"]["history"]


def test_ev_adapt_checkpoint_v0_resumes(tmp_path):
    from ggtalker_nb.adapt.ev import EVAdaptConfig, adapt_ev
    from ggtalker_nb.core import load_safetensors
    from ggtalker_nb.data.video import Clip, ClipReader

    c = ClipReader(data_samples_path("synthtalk_mini") / "id0002_c000").load()
    clip = Clip(c.frames[:6], c.flame.slice(0, 6), c.camera, dict(c.meta), None, c.masks[:6])
    out = tmp_path / "ev"
    out.mkdir()
    shutil.copy(FIXTURES / "ev_adapt_ckpt.safetensors", out / "ckpt.safetensors")
    old_tensors, _ = load_safetensors(out / "ckpt.safetensors")
    cfg = lambda phase2: EVAdaptConfig(
        uv_res=16,
        image_size=16,
        phase1_steps=1,
        phase2_steps=phase2,
        batch_frames=1,
        eval_every=0,
        ckpt_every=1,
        progress=False,
    )
    r = adapt_ev([clip], None, cfg(1), out_dir=out)  # resume at the end: no step
    assert r.config["steps"] == 2 and torch.equal(r.uvmap, old_tensors["uvmap"])
    _same_tensors(load_safetensors(out / "ckpt.safetensors")[0], old_tensors)
    r = adapt_ev([clip], None, cfg(2), out_dir=out)
    assert r.config["steps"] == 3 and not torch.equal(r.uvmap, old_tensors["uvmap"])

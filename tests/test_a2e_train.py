"""A2E training loop: exact resume, SIGKILL during/after checkpoint writes, truncated checkpoints, NaN guard, 2-rank
gloo DDP."""

import json
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest
from helpers import subprocess_env, torchrun2
import torch
from hypothesis import given, settings, strategies as st

from ggtalker_nb.a2e.audio import build_audio_encoder
from ggtalker_nb.a2e.model import A2EConfig, load_a2e
from ggtalker_nb.a2e.train import (
    CKPT_LATEST,
    CKPT_PREVIOUS,
    TrainConfig,
    TrainingDivergedError,
    find_resume,
    load_checkpoint,
    load_regressor,
    train_a2e,
)
from ggtalker_nb.core import AssetError, data_samples_path

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parent.parent
CLIPS = str(data_samples_path("synthtalk_mini", must_exist=True))
TINY = dict(d=32, layers=1, heads=2, ffn=64, window=12, context=4, steps=50, dropout=0.1, audio_dim=32)
ENC = dict(out_dim=32, channels=16, layers=0)

# the same tiny setup for in-process runs and the subprocesses
SETUP = f"""
import os, sys, torch
torch.set_num_threads(1)
from ggtalker_nb.a2e.train import TrainConfig, train_a2e
from ggtalker_nb.a2e.model import A2EConfig
from ggtalker_nb.a2e.audio import build_audio_encoder
mcfg = A2EConfig.cpu(**{TINY!r})
def enc(): torch.manual_seed(123); return build_audio_encoder("mel", **{ENC!r})
"""


def _cfg(out, **kw):
    return TrainConfig(
        **{
            **dict(
                steps=8,
                batch_size=2,
                lr=1e-3,
                warmup=2,
                ckpt_every=2,
                log_every=1,
                out_dir=str(out),
                lip_loss=0.2,
                window_stride=6,
                progress=False,
            ),
            **kw,
        }
    )


def _enc():
    torch.manual_seed(123)
    return build_audio_encoder("mel", **ENC)


def _same(a, b):
    for (k, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), k


@pytest.mark.parametrize("kind,split", [("diffusion", 3), ("regression", 5)])
def test_resume_is_exact(tmp_path, kind, split):
    "N steps straight == split steps + resume (data order, loss noise and dropout derive from (seed, step))."
    m = A2EConfig.cpu(**TINY)
    a = train_a2e(_cfg(tmp_path / "a"), m, CLIPS, encoder=_enc(), kind=kind)
    b1 = train_a2e(_cfg(tmp_path / "b", run_steps=split), m, CLIPS, encoder=_enc(), kind=kind)
    assert (b1["step"], b1["stopped"]) == (split, "run_steps")
    b = train_a2e(_cfg(tmp_path / "b"), m, CLIPS, encoder=_enc(), kind=kind)
    assert b["step"] == 8 and b["history"] == a["history"]
    _same(a["model"], b["model"])
    _same(a["encoder"], b["encoder"])
    final = (load_a2e if kind == "diffusion" else load_regressor)(tmp_path / "b" / "final.safetensors")[0]
    _same(final, a["model"])
    hist = json.loads((tmp_path / "b" / "history.json").read_text())
    assert [r["step"] for r in hist["history"]] == list(range(1, 9))


def test_no_pickle_in_checkpoint(tmp_path):
    "Checkpoints are plain safetensors: tensors for model/encoder/optimiser, JSON metadata for the rest."
    train_a2e(_cfg(tmp_path, steps=2), A2EConfig.cpu(**TINY), CLIPS, encoder=_enc())
    t, meta = load_checkpoint(tmp_path / CKPT_LATEST)
    assert any(k.startswith("optim.state.") and k.endswith(".exp_avg_sq") for k in t)
    assert any(k.startswith("encoder.") for k in t) and meta["train_state"]["step"] == 2
    raw = (tmp_path / CKPT_LATEST).read_bytes()
    assert b"\x80\x04" not in raw[:64] and not raw.startswith(b"PK")  # not a pickle / torch.save zip


@pytest.mark.parametrize("when", ["during", "after"])
def test_sigkill_then_resume(tmp_path, when):
    "SIGKILL a training process while (or right after) it writes a checkpoint; the resume loads and finishes."
    out = tmp_path / "run"
    script = tmp_path / "train.py"
    script.write_text(
        SETUP
        + textwrap.dedent(f"""
        cfg = TrainConfig(steps=int(sys.argv[1]), batch_size=2, lr=1e-3, warmup=2, ckpt_every=1, log_every=1,
                          out_dir={str(out)!r}, lip_loss=0.0, window_stride=6, progress=False)
        r = train_a2e(cfg, mcfg, {CLIPS!r}, encoder=enc())
        print("DONE", r["step"], flush=True)
    """)
    )
    p = subprocess.Popen(
        [sys.executable, str(script), "400"], env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    t0, killed_at = time.time(), None
    try:
        while time.time() - t0 < 60 and p.poll() is None:
            tmps = list(out.glob(".*.tmp")) if out.exists() else []
            if when == "during" and tmps and (out / CKPT_LATEST).exists():
                killed_at = "tmp present"
                break
            if when == "after" and (out / CKPT_PREVIOUS).exists():
                killed_at = "after rotation"
                break
            time.sleep(0.0005)
        p.send_signal(signal.SIGKILL)
    finally:
        p.kill()
        p.wait()
    assert killed_at is not None, (when, p.stdout.read().decode()[-2000:])
    found = find_resume(out)
    assert found is not None
    t, meta, path = found
    start = meta["train_state"]["step"]
    assert start >= 1
    assert not list(out.glob(".*.tmp"))  # stale temp files cleaned up
    r = train_a2e(
        TrainConfig(
            steps=start + 3,
            batch_size=2,
            lr=1e-3,
            warmup=2,
            ckpt_every=1,
            log_every=1,
            out_dir=str(out),
            lip_loss=0.0,
            window_stride=6,
            progress=False,
        ),
        A2EConfig.cpu(**TINY),
        CLIPS,
        encoder=_enc(),
    )
    assert r["step"] == start + 3 and r["stopped"] == "done"
    assert load_checkpoint(out / CKPT_LATEST)[1]["train_state"]["step"] == start + 3


def test_truncated_latest_falls_back(tmp_path):
    "A truncated latest checkpoint: AssetError on load, resume warns and continues from previous."
    m = A2EConfig.cpu(**TINY)
    train_a2e(_cfg(tmp_path, steps=4), m, CLIPS, encoder=_enc())
    lp = tmp_path / CKPT_LATEST
    lp.write_bytes(lp.read_bytes()[: lp.stat().st_size // 2])
    with pytest.raises(AssetError, match="truncated"):
        load_checkpoint(lp)
    with pytest.warns(UserWarning, match="cannot resume"):
        r = train_a2e(_cfg(tmp_path, steps=6), m, CLIPS, encoder=_enc())
    assert r["step"] == 6 and len(r["history"]) == 6  # resumed at step 2 (previous), history carried over
    (tmp_path / CKPT_PREVIOUS).write_bytes(b"garbage")
    lp.write_bytes(b"\x00" * 20)
    with pytest.warns(UserWarning):
        assert find_resume(tmp_path) is None


def test_nan_guard_counts_and_stops(tmp_path):
    "NaN batches are skipped and counted; all-NaN data stops with TrainingDivergedError and no checkpoint."
    from ggtalker_nb.data.video import AudioMotionDataset

    m = A2EConfig.cpu(**TINY)
    ds = AudioMotionDataset(CLIPS, window=m.n, stride=6)

    class Bad(torch.utils.data.Dataset):
        def __init__(self, every, clean):
            self.every, self.clean, self.identity_names = every, clean, ds.identity_names

        def __len__(self):
            return len(ds)

        def __getitem__(self, i):
            it = dict(ds[i])
            self.clean -= 1
            if self.clean < 0 and i % self.every == 0:
                it["audio"] = it["audio"] * float("nan")
            return it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = train_a2e(_cfg(tmp_path / "a", steps=6, batch_size=1, lip_loss=0), m, Bad(2, len(ds)), encoder=_enc())
        assert 0 < r["nan_skipped"] < 6 and r["step"] == 6
        with pytest.raises(TrainingDivergedError, match="consecutive"):
            train_a2e(
                _cfg(tmp_path / "b", steps=20, batch_size=1, max_bad_steps=3, lip_loss=0),
                m,
                Bad(1, len(ds)),
                encoder=_enc(),
            )
    for f in (tmp_path / "b").glob("*.safetensors"):  # whatever was written holds finite weights
        t, _ = load_checkpoint(f)
        assert all(torch.isfinite(v).all() for v in t.values() if v.is_floating_point())


def test_early_stopping(tmp_path):
    "With patience 1 and a far too large lr the validation loss gets worse at once and training ends early."
    from ggtalker_nb.data.video import list_clips

    clips = list_clips(CLIPS)
    r = train_a2e(
        _cfg(tmp_path, steps=200, lr=0.3, warmup=0, ckpt_every=1, patience=1, lip_loss=0),
        A2EConfig.cpu(**TINY),
        clips[:4],
        clips[4:],
        encoder=_enc(),
    )
    assert r["stopped"] == "early_stopping" and r["step"] < 20, (r["step"], r["val"])
    assert r["val"][-1]["val_loss"] > min(v["val_loss"] for v in r["val"])
    assert load_a2e(tmp_path / "best.safetensors")[0] is not None


def test_ddp_two_ranks_identical(tmp_path):
    "torchrun with 2 gloo CPU ranks: different windows per rank, averaged gradients, identical final weights."
    out = tmp_path / "ddp"
    script = tmp_path / "ddp.py"
    script.write_text(
        SETUP
        + textwrap.dedent(f"""
        from ggtalker_nb.core import save_safetensors
        cfg = TrainConfig(steps=4, batch_size=2, lr=1e-3, warmup=1, ckpt_every=2, log_every=1, out_dir={str(out)!r},
                          lip_loss=0.1, window_stride=6, progress=False)
        r = train_a2e(cfg, mcfg, {CLIPS!r}, encoder=enc())
        assert r["world"] == 2, r["world"]
        save_safetensors(dict(r["model"].state_dict()), {str(tmp_path)!r} + f"/rank{{r['rank']}}.safetensors",
                         dict(history=r["history"]))
        import torch.distributed as dist; dist.destroy_process_group()
    """)
    )
    time.time()
    (w0, m0), (w1, m1) = torchrun2(script, tmp_path)
    assert w0.keys() == w1.keys() and all(torch.equal(w0[k], w1[k]) for k in w0)
    l0, l1 = [h["loss"] for h in m0["history"]], [h["loss"] for h in m1["history"]]
    assert len(l0) == 4 and l0 != l1  # each rank saw its own windows/noise
    t, meta = load_checkpoint(out / CKPT_LATEST)
    assert (
        meta["world_size"] == 2
        and meta["train_state"]["step"] == 4
        and all(torch.equal(t["model." + k], w0[k]) for k in w0)
    )


def test_dataloader_workers_same_result(tmp_path):
    "num_workers=2 feeds the same windows in the same order as num_workers=0."
    m = A2EConfig.cpu(**TINY)
    a = train_a2e(_cfg(tmp_path / "a", steps=3, lip_loss=0), m, CLIPS, encoder=_enc())
    b = train_a2e(_cfg(tmp_path / "b", steps=3, lip_loss=0, num_workers=2), m, CLIPS, encoder=_enc())
    _same(a["model"], b["model"])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), B=st.integers(1, 5), world=st.integers(1, 4), seed=st.integers(0, 2**31))
def test_step_sampler_shards_epochs(n, B, world, seed):
    "Across ranks, the first n stream positions of each epoch visit every window exactly once; start_step only skips."
    from ggtalker_nb.a2e.train import StepBatchSampler

    ss = [StepBatchSampler(n, B, seed, rank=r, world=world) for r in range(world)]
    G = B * world
    steps = -(-2 * n // G) + 1
    stream = {}
    for s in range(steps):
        for r, smp in enumerate(ss):
            for j, i in enumerate(smp.indices(s)):
                stream[s * G + r + world * j] = i
    assert sorted(stream[p] for p in range(n)) == list(range(n))
    assert sorted(stream[p] for p in range(n, 2 * n)) == list(range(n))
    it = iter(StepBatchSampler(n, B, seed, start_step=steps - 1, rank=world - 1, world=world))
    assert next(it) == ss[-1].indices(steps - 1)


def test_finetune_hooks(tmp_path):
    "identity_names must match the rows; lr_mult scales a parameter group's lr; model_init keeps the given normaliser."
    from ggtalker_nb.a2e.model import A2EModel

    m = A2EConfig.cpu(**TINY, n_identities=3)
    with pytest.raises(Exception, match="identity_names"):
        train_a2e(_cfg(tmp_path / "x", steps=1), m, CLIPS, encoder=_enc(), identity_names=["a", "b"])
    init = A2EModel(m).state_dict()
    init["normalizer.mean"] = torch.full_like(init["normalizer.mean"], 0.25)
    r = train_a2e(
        _cfg(tmp_path / "y", steps=2, lip_loss=0.0),
        m,
        CLIPS,
        encoder=_enc(),
        model_init=init,
        freeze_encoder=True,
        identity_names=["id0002", "id0001", "id0000"],
        lr_mult={"id_emb": 10.0},
    )
    assert torch.equal(r["model"].normalizer.mean, init["normalizer.mean"])
    t, meta = load_checkpoint(tmp_path / "y" / CKPT_LATEST)
    groups = meta["optimizer"]["param_groups"]
    assert sorted(g.get("lr_mult", 1.0) for g in groups) == [1.0, 1.0, 10.0]
    g10 = next(g for g in groups if g.get("lr_mult") == 10.0)
    g1 = next(g for g in groups if "lr_mult" not in g)
    assert abs(g10["lr"] - 10 * g1["lr"]) < 1e-12
    assert meta["identity_names"] == ["id0002", "id0001", "id0000"]

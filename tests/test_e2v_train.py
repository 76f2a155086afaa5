"E2V training loop: overfitting one pair, exact resume (also after SIGKILL), NaN guard, 2-rank gloo DDP, bad inputs."

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

from ggtalker_nb.core import AssetError, InputError, data_samples_path, save_safetensors
from ggtalker_nb.a2e.train import TrainingDivergedError
from ggtalker_nb.e2v.generator import E2VConfig, IdentityGaussianGenerator
from ggtalker_nb.e2v.train import (
    CKPT_LATEST,
    CKPT_PREVIOUS,
    WEIGHTS_LATEST,
    E2VTrainConfig,
    build_frame_bank,
    find_e2v_resume,
    load_e2v_checkpoint,
    load_frame_bank,
    save_frame_bank,
    train_e2v,
)

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parent.parent
CLIPS = str(data_samples_path("synthtalk_mini", must_exist=True))
RES = 32


@pytest.fixture(scope="module")
def bank():
    return build_frame_bank(CLIPS, frames_per_clip=2, novel_per_frame=1, res=RES, split="train", seed=0)


def _cfg(out, **kw):
    return E2VTrainConfig(
        **{
            **dict(
                steps=6,
                batch_size=2,
                lr=2e-3,
                warmup=1,
                res=RES,
                ckpt_every=2,
                log_every=1,
                out_dir=str(out),
                progress=False,
            ),
            **kw,
        }
    )


def _same(a, b):
    wa, wb = a.weights(), b.weights()
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k


def test_overfit_one_pair(tmp_path, bank):
    "Training on a single target (tiny config) lowers the loss and raises PSNR."
    one = dict(
        tensors={k: v[[1]] if k.startswith("target.") else v for k, v in bank["tensors"].items()},
        identity_names=bank["identity_names"],
        res=RES,
    )
    r = train_e2v(
        _cfg(tmp_path, steps=80, batch_size=1, lr=3e-3, warmup=2, ckpt_every=80, log_every=5),
        E2VConfig.tiny(),
        bank=one,
    )
    h = r["history"]
    # log entries average 5 steps and the background grey is random per step, so compare the first and the last
    # 20 steps (4 entries each) rather than two single entries
    first, last = h[:4], h[-4:]
    mean = lambda rows, k: sum(x[k] for x in rows) / len(rows)
    assert mean(last, "loss") < 0.7 * mean(first, "loss"), [x["loss"] for x in h]
    assert mean(last, "psnr") > mean(first, "psnr") + 1.0, [x["psnr"] for x in h]


def test_resume_is_exact(tmp_path, bank):
    "N steps straight == k steps + resume: same history, same weights, same optimiser state; files are safetensors."
    a = train_e2v(_cfg(tmp_path / "a"), E2VConfig.tiny(), bank=bank)
    b1 = train_e2v(_cfg(tmp_path / "b", run_steps=3), E2VConfig.tiny(), bank=bank)
    assert (b1["step"], b1["stopped"]) == (3, "run_steps")
    b = train_e2v(_cfg(tmp_path / "b"), E2VConfig.tiny(), bank=bank)
    assert b["step"] == 6 and b["stopped"] == "done"
    assert [{k: v for k, v in h.items() if k != "t"} for h in a["history"]] == [
        {k: v for k, v in h.items() if k != "t"} for h in b["history"]
    ]
    _same(a["generator"], b["generator"])
    ta, _ = load_e2v_checkpoint(tmp_path / "a" / CKPT_LATEST)
    tb, mb = load_e2v_checkpoint(tmp_path / "b" / CKPT_LATEST)
    assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)
    assert any(k.startswith("optim.state.") and k.endswith("exp_avg_sq") for k in tb) and mb["train_state"]["step"] == 6
    g = IdentityGaussianGenerator.load(tmp_path / "b" / "final.safetensors", a["generator"].flame)
    _same(g, a["generator"])
    raw = (tmp_path / "b" / CKPT_LATEST).read_bytes()
    assert b"\x80\x04" not in raw[:64] and not raw.startswith(b"PK")
    hist = json.loads((tmp_path / "b" / "history.json").read_text())
    assert [r["step"] for r in hist["history"]] == list(range(1, 7))


def test_sigkill_then_resume_identical(tmp_path, bank):
    "SIGKILL a training process after a checkpoint; resuming gives the weights of an uninterrupted run."
    out = tmp_path / "run"
    out.mkdir()
    save_frame_bank(bank, out / "bank.safetensors")  # the subprocess reads the same bank from out_dir
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(f"""
        import torch; torch.set_num_threads(1)
        from ggtalker_nb.e2v.train import E2VTrainConfig, train_e2v
        from ggtalker_nb.e2v.generator import E2VConfig
        cfg = E2VTrainConfig(steps=400, batch_size=2, lr=2e-3, warmup=1, res={RES}, ckpt_every=1, log_every=1,
                             out_dir={str(out)!r}, progress=False)
        train_e2v(cfg, E2VConfig.tiny())
    """)
    )
    p = subprocess.Popen(
        [sys.executable, str(script)], env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    t0, seen = time.time(), False
    try:
        while time.time() - t0 < 60 and p.poll() is None:
            if (out / CKPT_PREVIOUS).exists() and (out / "history.json").exists():
                seen = True
                break
            time.sleep(0.002)
        p.send_signal(signal.SIGKILL)
    finally:
        p.kill()
        p.wait()
    assert seen, p.stdout.read().decode()[-2000:]
    found = find_e2v_resume(out)
    assert found is not None and not list(out.glob(".*.tmp"))
    start = found[1]["train_state"]["step"]
    assert start >= 1
    N = start + 3
    r = train_e2v(
        E2VTrainConfig(
            steps=400,
            run_steps=N - start,
            batch_size=2,
            lr=2e-3,
            warmup=1,
            res=RES,
            ckpt_every=1,
            log_every=1,
            out_dir=str(out),
            progress=False,
        ),
        E2VConfig.tiny(),
    )
    ref = train_e2v(
        E2VTrainConfig(
            steps=400,
            run_steps=N,
            batch_size=2,
            lr=2e-3,
            warmup=1,
            res=RES,
            ckpt_every=1,
            log_every=1,
            out_dir=str(tmp_path / "ref"),
            progress=False,
        ),
        E2VConfig.tiny(),
        bank=bank,
    )
    assert r["step"] == ref["step"] == N
    _same(r["generator"], ref["generator"])
    g = IdentityGaussianGenerator.load(out / WEIGHTS_LATEST, r["generator"].flame)
    _same(g, r["generator"])


def test_truncated_latest_falls_back(tmp_path, bank):
    "A truncated latest checkpoint: AssetError on load; resume warns and continues from previous."
    train_e2v(_cfg(tmp_path, steps=4), E2VConfig.tiny(), bank=bank)
    lp = tmp_path / CKPT_LATEST
    lp.write_bytes(lp.read_bytes()[: lp.stat().st_size // 2])
    with pytest.raises(AssetError):
        load_e2v_checkpoint(lp)
    with pytest.warns(UserWarning, match="cannot resume"):
        r = train_e2v(_cfg(tmp_path, steps=5), E2VConfig.tiny(), bank=bank)
    assert r["step"] == 5 and len(r["history"]) == 5


def _poison(bank, which):
    t = dict(bank["tensors"])
    img = t["source.expr"].clone()
    img[which] = float("nan")
    t["source.expr"] = img
    return dict(bank, tensors=t)


def test_nan_guard(tmp_path, bank):
    "Batches with NaN FLAME parameters are skipped and counted; all-NaN data stops with TrainingDivergedError."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = train_e2v(_cfg(tmp_path / "a", steps=6, batch_size=1), E2VConfig.tiny(), bank=_poison(bank, [0]))
        assert 0 < r["nan_skipped"] < 6 and r["step"] == 6
        for v in r["generator"].weights().values():
            assert torch.isfinite(v).all()
        with pytest.raises(TrainingDivergedError, match="consecutive"):
            train_e2v(
                _cfg(tmp_path / "b", steps=20, batch_size=1, max_bad_steps=3),
                E2VConfig.tiny(),
                bank=_poison(bank, slice(None)),
            )
    for f in (tmp_path / "b").glob(
        "*.safetensors"
    ):  # whatever was written (skipped steps still count) holds finite weights
        if f.name in (CKPT_LATEST, CKPT_PREVIOUS):
            t, meta = load_e2v_checkpoint(f)
            assert meta["train_state"]["nan_skipped"] == meta["train_state"]["step"] < 3
            assert all(torch.isfinite(v).all() for v in t.values() if v.is_floating_point())


def test_ddp_two_ranks_identical(tmp_path, bank):
    "torchrun with 2 gloo CPU ranks: different pairs per rank, averaged gradients, identical final weights."
    out = tmp_path / "ddp"
    out.mkdir()
    save_frame_bank(bank, out / "bank.safetensors")
    script = tmp_path / "ddp.py"
    script.write_text(
        textwrap.dedent(f"""
        import torch; torch.set_num_threads(1)
        from ggtalker_nb.core import save_safetensors
        from ggtalker_nb.e2v.train import E2VTrainConfig, train_e2v
        from ggtalker_nb.e2v.generator import E2VConfig
        cfg = E2VTrainConfig(steps=3, batch_size=1, lr=2e-3, warmup=1, res={RES}, ckpt_every=3, log_every=1,
                             out_dir={str(out)!r}, progress=False)
        r = train_e2v(cfg, E2VConfig.tiny())
        assert r["world"] == 2, r["world"]
        save_safetensors(r["generator"].weights(), {str(tmp_path)!r} + f"/rank{{r['rank']}}.safetensors",
                         dict(history=r["history"]))
        import torch.distributed as dist; dist.destroy_process_group()
    """)
    )
    (w0, m0), (w1, m1) = torchrun2(script, tmp_path)
    assert w0.keys() == w1.keys() and all(torch.equal(w0[k], w1[k]) for k in w0)
    l0, l1 = [h["loss"] for h in m0["history"]], [h["loss"] for h in m1["history"]]
    assert len(l0) == 3 and l0 != l1  # each rank trained on its own pairs
    t, meta = load_e2v_checkpoint(out / CKPT_LATEST)
    assert meta["world_size"] == 2 and meta["train_state"]["step"] == 3
    assert all(torch.equal(t["model." + k], w0[k]) for k in w0)


def test_bad_inputs(tmp_path, bank):
    "Clear errors for bad configs, missing data, a bank of another size, a checkpoint of another architecture or kind."
    with pytest.raises(InputError, match="perceptual"):
        E2VTrainConfig(perceptual="lpips")
    with pytest.raises(InputError, match="multiple of 16"):
        E2VTrainConfig(res=40)
    with pytest.raises(InputError, match="loss weights"):
        E2VTrainConfig(lambda_l1=-1)
    with pytest.raises(InputError, match="train_clips or a bank"):
        train_e2v(_cfg(tmp_path / "x"), E2VConfig.tiny())
    with pytest.raises(InputError, match="bank's targets"):
        train_e2v(_cfg(tmp_path / "y", res=64), E2VConfig.tiny(), bank=bank)
    with pytest.raises(InputError, match="no clips"):
        build_frame_bank(CLIPS, split="no_such_split")
    train_e2v(_cfg(tmp_path / "z", steps=1), E2VConfig.tiny(), bank=bank)
    other = E2VConfig.tiny()
    other.code_dim = 8
    with pytest.raises(InputError, match="another E2VConfig"):
        train_e2v(_cfg(tmp_path / "z", steps=2), other, bank=bank)
    save_safetensors({"x": torch.zeros(1)}, tmp_path / "notbank.safetensors", dict(kind="something"))
    with pytest.raises(AssetError, match="frame bank"):
        load_frame_bank(tmp_path / "notbank.safetensors")
    with pytest.raises(AssetError, match="E2V training checkpoint"):
        load_e2v_checkpoint(tmp_path / "notbank.safetensors")
    with pytest.raises(Exception, match="VGG16"):
        train_e2v(
            _cfg(tmp_path / "v", perceptual="vgg", vgg_weights=str(tmp_path / "none.pth")), E2VConfig.tiny(), bank=bank
        )

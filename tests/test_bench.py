"""The quick benchmark run: every table is computed (head-pixel image figures, our own composed full frame),
well-formed, finite, and written as JSON/markdown/HTML."""

import json
import math

import pytest
import torch

from ggtalker_nb.bench import TABLES, WHATS, YAWS, check_table, run_bench
from ggtalker_nb.core import InputError

torch.set_num_threads(1)

EXPECTED_COLS = dict(
    self_reenactment=[
        "identity",
        "psnr_head",
        "ssim_head",
        "psnr_frame",
        "ssim_frame",
        "lpips",
        "lmd_px",
        "lve_mm",
        "mee",
        "mo_corr",
        "av_offset",
        "av_conf",
        "adapt_s",
        "fps",
    ],
    ood_audio=["split", "model", "clips", "mo_corr", "av_ok", "av_conf", "lve_mm"],
    ablations=[
        "ablation",
        "psnr_head",
        "ssim_head",
        "psnr_frame",
        "ssim_frame",
        "lpips",
        "lmd_px",
        "lve_mm",
        "mee",
        "mo_corr",
        "av_offset",
        "av_conf",
        "adapt_s",
    ],
    novel_views=["model", "yaw", "psnr_head", "ssim_head", "iou"],
    speed=["what", "seconds", "per_s", "unit"],
)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    return run_bench("tables", quick=True, out_dir=out), out


def test_all_tables_computed(quick):
    tables, out = quick
    assert list(tables) == list(TABLES) == list(WHATS["tables"])
    for name, t in tables.items():
        check_table(t)  # every row has every column; every number finite
        assert t["columns"] == EXPECTED_COLS[name], name
        assert t["provenance"]["command"] == "ggtalker bench tables --quick"
        for k in ("cpu", "cores", "torch", "commit", "date"):
            assert t["provenance"][k], (name, k)
        for r in t["rows"]:
            for c, v in r.items():
                assert isinstance(v, str) or math.isfinite(v), (name, c, v)
                if isinstance(v, str) and c in (
                    "psnr_head",
                    "psnr_frame",
                    "ssim_frame",
                    "lmd_px",
                    "lve_mm",
                    "fps",
                    "seconds",
                ):
                    pytest.fail(f"{name}.{c} is {v!r}")
        on_disk = json.loads((out / f"{name}.json").read_text())
        assert on_disk["rows"] == t["rows"]
        assert (out / f"{name}.md").read_text().startswith("### Table") and (out / f"{name}.html").stat().st_size > 1000
    assert (out / "README.md").read_text().count("### Table") == 5


def test_table_contents(quick):
    tables, _ = quick
    ab = [r["ablation"] for r in tables["ablations"]["rows"]]
    assert ab == [
        "full",
        "w/o A-E prior",
        "w/o A-E fine-tuning",
        "w/o E-V prior",
        "w/o E-V fine-tuning",
        "w/o colour MLP",
        "w/o FLAME refinement",
    ]
    nv = tables["novel_views"]["rows"]
    assert [(r["model"], r["yaw"]) for r in nv] == [
        (m, y) for m in ("full", "w/o E-V prior", "E-V prior only (eval_e2v)") for y in YAWS
    ]
    assert set(YAWS) >= {0, 30, 45, 60, 90, 180}  # the paper's yaws and the side and back views (#16)
    sr = tables["self_reenactment"]["rows"]
    assert sr and all(0 < r["ssim_head"] <= 1 and r["psnr_head"] > 5 and r["fps"] > 0 for r in sr)
    # the full row of the ablations is the self-reenactment result (same runs)
    assert tables["ablations"]["rows"][0]["psnr_head"] == pytest.approx(sr[0]["psnr_head"])
    whats = " ".join(r["what"] for r in tables["speed"]["rows"])
    for k in ("renderer (ours", "with E-V prior", "from scratch", "real-time factor", "end to end"):
        assert k in whats
    assert any("lpips" in n for n in tables["self_reenactment"]["notes"])  # the n/a reason is stated


def test_bad_what():
    with pytest.raises(InputError, match="expected one of"):
        run_bench("everything", quick=True, write=False)


def test_missing_data_fails_fast(tmp_path, monkeypatch):
    "The full run without data/synthtalk stops at once with the command that builds it (before the renderer timing)."
    import ggtalker_nb.bench as B
    from ggtalker_nb.core import AssetError

    monkeypatch.setattr(B, "_speed_render", lambda setup: pytest.fail("timed the renderer before checking the data"))
    with pytest.raises(AssetError, match="ggtalker synthtalk --out"):
        run_bench("tables", setup=B.BenchSetup.full(data=tmp_path / "nope"), write=False)


def test_two_identities_add_a_mean_row(tmp_path):
    "With more than one held-out identity the self-reenactment table gains a mean row (the path the full run takes)."
    import shutil
    from ggtalker_nb.bench import BenchSetup
    from ggtalker_nb.core import data_samples_path

    data = tmp_path / "mini"
    shutil.copytree(data_samples_path("synthtalk_mini"), data)
    for clip, split in (
        ("id0001_c000", "heldout_adapt"),
        ("id0001_c001", "heldout_test"),
    ):  # hold a second identity out
        m = json.loads((data / clip / "meta.json").read_text())
        m["split"] = split
        (data / clip / "meta.json").write_text(json.dumps(m))
    tables = run_bench("adapt", setup=BenchSetup.quick_(data=data, n_identities=2), write=False)
    rows = tables["self_reenactment"]["rows"]
    assert [r["identity"] for r in rows] == ["id0001", "id0002", "mean"]
    assert rows[2]["psnr_head"] == pytest.approx((rows[0]["psnr_head"] + rows[1]["psnr_head"]) / 2)
    check_table(tables["ablations"])
    check_table(tables["novel_views"])


def test_a2e_family_quick_has_speed_rows(tmp_path):
    """`ggtalker bench a2e --quick` used to fail with 'table speed: no rows': the quick run now times the loaded prior
    once."""
    tables = run_bench("a2e", quick=True, out_dir=tmp_path)
    assert list(tables) == ["ood_audio", "speed"]
    assert [r["what"] for r in tables["speed"]["rows"]] == ["A2E encoder + sample DDIM, 10 steps, 2 s of audio (quick)"]
    assert tables["speed"]["rows"][0]["per_s"] > 0

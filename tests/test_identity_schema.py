"""An identity folder is checked tensor by tensor against its identity.json, not only by checksum: with the checksums
recomputed (or verify=False) a tensor of the wrong dtype or shape is an AssetError naming the file and the tensor."""

import json
import shutil

import pytest
import torch

from ggtalker_nb.core import AssetError, data_samples_path, load_safetensors, save_safetensors
from ggtalker_nb.talker import file_sha256, load_identity


@pytest.fixture(scope="module")
def sample_dir():
    return data_samples_path("identity_sample", must_exist=True)


def _tamper(src, dst, file, change, fix_checksum=True):
    "Copy the identity, rewrite one tensor file with `change(tensors)`, and (optionally) recompute its checksum."
    shutil.copytree(src, dst)
    p = dst / file
    t, meta = load_safetensors(p)
    change(t)
    save_safetensors(t, p, meta)
    if fix_checksum:
        j = json.loads((dst / "identity.json").read_text())
        c = next(c for c in j["components"].values() if c["file"] == file)
        c.update(bytes=p.stat().st_size, sha256=file_sha256(p))
        (dst / "identity.json").write_text(json.dumps(j))
    return dst


def _set(key, fn):
    def change(t):
        t[key] = fn(t[key])

    return change


CASES = {
    "rotation f16 (K, 6)": (
        "motion.safetensors",
        _set("rotation", lambda x: torch.zeros(x.shape[0], 6, dtype=torch.float16)),
        "'rotation'",
    ),
    "eyes (13, 18)": ("motion.safetensors", _set("eyes", lambda x: torch.zeros(13, 18)), "'eyes'"),
    "expr too narrow": ("motion.safetensors", _set("expr", lambda x: x[:, :10].contiguous()), "'expr'"),
    "q_l (N, 3)": ("gaussians.safetensors", _set("q_l", lambda x: x[:, :3].contiguous()), "'q_l'"),
    "mu_l float64": ("gaussians.safetensors", _set("mu_l", lambda x: x.double()), "'mu_l'"),
    "one Gaussian fewer": (
        "gaussians.safetensors",
        lambda t: t.update({k: v[:-1].contiguous() for k, v in t.items()}),
        "'mu_l'",
    ),
    "face_id out of range": ("gaussians.safetensors", _set("face_id", lambda x: x + 10**6), "'face_id'"),
    "colour uv (N, 3)": ("color_mlp.safetensors", _set("uv", lambda x: torch.zeros(x.shape[0], 3)), "'uv'"),
    "colour weight f16": ("color_mlp.safetensors", _set("out.weight", lambda x: x.half()), "'out.weight'"),
    "body frames RGBA": (
        "body.safetensors",
        _set("frames", lambda x: torch.zeros(*x.shape[:3], 4, dtype=torch.uint8)),
        "'frames'",
    ),
    "inpainter weight shape": (
        "body.safetensors",
        _set("inpainter.out.weight", lambda x: torch.zeros(4, *x.shape[1:])),
        "'inpainter.out.weight'",
    ),
    "a2e weight f16": (
        "a2e.safetensors",
        _set("model.blocks.0.sa.out_proj.weight", lambda x: x.half()),
        "'model.blocks.0.sa.out_proj.weight'",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_wrong_tensor_is_named(sample_dir, tmp_path, case):
    file, change, tensor = CASES[case]
    d = _tamper(sample_dir, tmp_path / "id", file, change)
    with pytest.raises(AssetError) as e:
        load_identity(d)
    assert file in str(e.value) and tensor in str(e.value), str(e.value)


def test_no_checksums_still_checked(sample_dir, tmp_path):
    d = _tamper(sample_dir, tmp_path / "id", "motion.safetensors", CASES["rotation f16 (K, 6)"][1], fix_checksum=False)
    with pytest.raises(AssetError, match="does not match its size/SHA-256"):
        load_identity(d)
    with pytest.raises(
        AssetError, match=r"motion.safetensors: tensor 'rotation' is float16 \(32, 6\), expected float32 \(32, 3\)"
    ):
        load_identity(d, verify=False)


def test_the_shipped_identity_passes(sample_dir):
    ident, flame = load_identity(sample_dir)
    assert ident.gaussians.n == ident.info["n_gaussians"] and ident.n_body == ident.info["n_body"]

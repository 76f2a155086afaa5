"""E2V against the head mesh alone (#16): the head-only ground truth covers the surface the Gaussians are bound to, the
inset/flat base's alpha-0.5 contour meets the mesh silhouette, the offset regulariser leaves the base's inset alone, a
'head' frame bank, and the evaluation's ground-truth cache."""

import numpy as np
import pytest
import torch

from ggtalker_nb.core import InputError, data_samples_path
from ggtalker_nb.data.synthtalk import sample_head_flame
from ggtalker_nb.data.video import ClipReader, clip_paths
from ggtalker_nb.e2v import eval as e2v_eval
from ggtalker_nb.e2v.eval import eval_e2v, ground_truth, view_camera
from ggtalker_nb.e2v.generator import E2VConfig, IdentityGaussianGenerator, flame_vertices
from ggtalker_nb.e2v.train import E2VTrainConfig, build_frame_bank, e2v_loss, head_render, pair_batch
from ggtalker_nb.render.gaussians import render
from ggtalker_nb.render.mesh import rasterize

torch.set_num_threads(1)
CLIPS = str(data_samples_path("synthtalk_mini", must_exist=True))


@pytest.fixture(scope="module")
def flame():
    return sample_head_flame()


@pytest.fixture(scope="module")
def clip():
    return ClipReader([p for p in clip_paths(CLIPS) if p.name == "id0002_c001"][0])


def _track(reader, frames):
    from dataclasses import replace

    fl = reader.flame_clean if reader.flame_clean is not None else reader.flame
    keys = ("expr", "rotation", "neck", "jaw", "eyes", "translation")
    return replace(fl, **{k: getattr(fl, k)[frames] for k in keys})


def _params(reader, frames):
    fl = reader.flame_clean if reader.flame_clean is not None else reader.flame
    d = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in fl.to_dict().items()}
    return {k: (v.expand(len(frames), -1) if k == "shape" else v[frames]) for k, v in d.items() if k != "static_offset"}


@pytest.mark.parametrize("yaw", [0.0, 180.0])
def test_head_truth_is_the_whole_mesh(flame, clip, yaw):
    "The head-only ground truth's silhouette is the FLAME mesh's own; the scene's head mask loses the neck to the torso"
    fr = [5]
    cam = view_camera(yaw, 0.0, 64)
    _, cov = head_render(clip.meta, _track(clip, fr), cam, 64, supersample=1)
    sil = torch.isfinite(rasterize(flame_vertices(flame, _params(clip, fr)), flame.faces, cam).depth)
    assert torch.equal(cov > 0.5, sil)
    _, old = ground_truth(clip, fr, cam, 64, target="frame")
    assert bool(((old > 0.5) <= sil).all()) and int(sil.sum()) > int((old > 0.5).sum()) * 1.05  # the lower neck
    img, m = ground_truth(clip, fr, cam, 64)  # default: the head mesh alone, anti-aliased
    assert ((m > 0.5) ^ sil).float().mean() < 0.01 and 0 < float(m.min()) + 1 and float(m.max()) <= 1
    assert torch.allclose(img[~(m > 0)], torch.ones(1))  # over white where there is no head


def test_head_truth_needs_synthtalk(clip):
    class Fake:
        meta, path = {}, "x"

    with pytest.raises(InputError, match="SynthTalk"):
        ground_truth(Fake(), [0], view_camera(0, 0, 32), 32)
    with pytest.raises(InputError, match="target"):
        ground_truth(clip, [0], view_camera(0, 0, 32), 32, target="mesh")
    with pytest.raises(InputError, match="supersample"):
        head_render(clip.meta, _track(clip, [0]), view_camera(0, 0, 32), 32, supersample=0)


def _base_iou(flame, clip, cfg, yaw):
    "IoU of the base map's alpha > 0.5 (Gaussians on the exact mesh) with the mesh silhouette, and pixels outside it."
    gen = IdentityGaussianGenerator(flame, cfg)
    p = _params(clip, [5])
    cam = view_camera(yaw, 0.0, 128)
    g = gen.to_local(gen.base, p["shape"]).to_world(flame_vertices(flame, p), flame.faces)
    with torch.no_grad():
        a = render(g, cam).alpha[0, ..., 0] > 0.5
    sil = torch.isfinite(rasterize(flame_vertices(flame, p), flame.faces, cam).depth)[0]
    return float((a & sil).sum() / (a | sil).sum()), int((a & ~sil).sum())


@pytest.mark.parametrize("yaw", [0.0, 90.0])
def test_inset_flat_base_meets_the_silhouette(flame, clip, yaw):
    "Splats centred on the surface bulge past the silhouette; the inset, flat base's alpha-0.5 contour meets it."
    old_iou, old_out = _base_iou(flame, clip, E2VConfig(), yaw)
    new_iou, new_out = _base_iou(flame, clip, E2VConfig(normal_scale=0.3, inset=0.0045), yaw)
    assert new_out < 0.5 * old_out
    assert new_iou > old_iou and new_iou >= 0.95


def test_inset_validation(flame):
    with pytest.raises(InputError, match="inset"):
        E2VConfig(inset=0.02).validate()
    with pytest.raises(InputError, match="normal_scale"):
        E2VConfig(normal_scale=0.0).validate()
    with pytest.raises(InputError, match="seam_scale"):
        E2VConfig(seam_scale=-1.0).validate()
    cfg = E2VConfig.from_json(E2VConfig(normal_scale=0.3, inset=0.004).to_json())
    assert (cfg.normal_scale, cfg.inset) == (0.3, 0.004)


def test_offset_term_is_relative_to_the_base(flame):
    "A network that outputs nothing keeps the base's inset: no offset penalty for it."
    bank = build_frame_bank(CLIPS, frames_per_clip=1, novel_per_frame=0, res=32, split="train", targets="head")
    cfg = E2VConfig.tiny()
    gen = IdentityGaussianGenerator(flame, E2VConfig(**{**cfg.__dict__, "inset": 0.004}))
    with torch.no_grad():
        gen.head.weight.zero_()
        gen.head.bias.zero_()
    batch = pair_batch(bank, [0], torch.Generator().manual_seed(0))
    t = e2v_loss(gen, batch, E2VTrainConfig(res=32, perceptual="none"))
    assert float(t["offset"].detach()) < 1e-6


def test_head_bank(flame):
    "targets='head': every target is the head mesh alone (more head than the torso-masked frames); SynthTalk only."
    kw = dict(frames_per_clip=1, novel_per_frame=1, res=32, split="train", seed=0)
    head, frame = build_frame_bank(CLIPS, targets="head", **kw), build_frame_bank(CLIPS, targets="frame", **kw)
    h, f = head["tensors"]["target.mask"], frame["tensors"]["target.mask"]
    assert h.shape == f.shape
    assert float(h.sum()) > 1.05 * float(f.sum())
    with pytest.raises(InputError, match="targets"):
        build_frame_bank(CLIPS, targets="nope", **kw)
    with pytest.raises(InputError, match="targets"):
        E2VTrainConfig(targets="nope")


def test_eval_ground_truth_cache(flame, monkeypatch):
    "A shared cache renders each ground truth once and changes no figure."
    gen = IdentityGaussianGenerator(flame, E2VConfig.tiny()).eval()
    calls = []
    real = e2v_eval.ground_truth
    monkeypatch.setattr(e2v_eval, "ground_truth", lambda *a, **k: calls.append(1) or real(*a, **k))
    views = {"clip": None, "yaw90": (90.0, 0.0)}
    kw = dict(views=views, identities=["id0002"], n_frames=1, res=32, methods=("unwrap",))
    cache = {}
    a = eval_e2v(gen, CLIPS, gt_cache=cache, **kw)
    n = len(calls)
    b = eval_e2v(gen, CLIPS, gt_cache=cache, **kw)
    assert n == 2 and len(calls) == n
    assert a == b


def test_seam_texels_find_the_cut():
    "A quad whose two triangles share their UVs has no seam; cut apart in UV, texels along the cut (both sides) are."
    from ggtalker_nb.gaussians.uvmap import seam_texels, uv_texel_table

    faces = torch.tensor([[0, 1, 2], [0, 2, 3]])
    vt = torch.tensor([[0.05, 0.05], [0.95, 0.05], [0.95, 0.95], [0.05, 0.95]])
    table = uv_texel_table(vt, faces, 16)
    assert not seam_texels(table, faces, vt, faces).any()
    # the second triangle gets its own copy of the shared edge's UVs, shifted: a cut along the diagonal 0–2
    vt2 = torch.cat([vt, vt[[0, 2]] * 0.5])
    ft2 = torch.tensor([[0, 1, 2], [4, 5, 3]])
    t2 = uv_texel_table(vt2, ft2, 16)
    s = seam_texels(t2, faces, vt2, ft2, reach=1.0)
    assert 0 < int(s.sum()) < t2.n
    assert set(t2.face_id[s].tolist()) == {0, 1}  # both charts' texels along the cut
    with pytest.raises(InputError, match="reach"):
        seam_texels(t2, faces, vt2, ft2, reach=0)


def test_seam_scale_closes_the_seam_gap(flame):
    "Texels of two charts stop short of their seam: at the back of the head the splat surface is thin along it."
    p = {"shape": torch.zeros(1, flame.n_shape), "expr": torch.zeros(1, flame.n_expr)}
    v = flame_vertices(flame, p)
    cam = view_camera(180.0, 0.0, 256)
    sil = torch.isfinite(rasterize(v, flame.faces, cam).depth)[0].float()
    inner = -torch.nn.functional.max_pool2d(-sil[None, None], 7, 1, 3)[0, 0] > 0.5  # ≥ 3 px inside the silhouette
    deficit = []
    for s in (1.0, 1.6):
        gen = IdentityGaussianGenerator(flame, E2VConfig(normal_scale=0.3, inset=0.0045, seam_scale=s))
        with torch.no_grad():
            a = render(gen.to_local(gen.base).to_world(v, flame.faces), cam).alpha[0, ..., 0]
        deficit.append(float((1 - a)[inner].max()))
    assert deficit[1] < 0.5 * deficit[0]

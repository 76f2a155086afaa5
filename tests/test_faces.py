"""Fast checks of `ggtalker_nb.data.faces` (MediaPipe models on LiteRT, our decoding/ROI/tracking, the landmark
embedding).

The notebook nbs/33_data.faces.ipynb holds the full tests; these guard the public API the tracker and the CLI use."""

import numpy as np
import pytest
import torch

pytest.importorskip("ai_edge_litert")

from ggtalker_nb.core import AssetError, InputError
from ggtalker_nb.data import faces as fc


@pytest.fixture(scope="module")
def astro():
    skdata = pytest.importorskip("skimage.data")
    return skdata.astronaut()


def test_anchors_layout():
    a = fc.ssd_anchors()
    assert a.shape == (896, 2)
    np.testing.assert_allclose(a[:3], [[1 / 32, 1 / 32], [1 / 32, 1 / 32], [3 / 32, 1 / 32]])
    np.testing.assert_allclose(a[512:518], [[1 / 16, 1 / 16]] * 6)
    assert ((a > 0) & (a < 1)).all()


def test_decode_one_anchor_by_hand():
    raw = np.zeros((896, 16), np.float32)
    raw[700] = [12.8, -6.4, 32, 64] + [1.28 * k for k in range(12)]
    boxes, kp = fc.decode_boxes(raw)
    ax, ay = fc.ANCHORS[700]
    np.testing.assert_allclose(
        boxes[700], [ax + 0.1 - 0.125, ay - 0.05 - 0.25, ax + 0.1 + 0.125, ay - 0.05 + 0.25], atol=1e-6
    )
    np.testing.assert_allclose(kp[700, 2], [ax + 0.04, ay + 0.05], atol=1e-6)
    np.testing.assert_allclose(
        boxes[0], [fc.ANCHORS[0, 0], fc.ANCHORS[0, 1]] * 2, atol=1e-7
    )  # zero regressors: a point box


def test_weighted_nms_merges_overlaps():
    b = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    kp = np.zeros((3, 6, 2), np.float32)
    s = np.array([0.9, 0.6, 0.8], np.float32)
    ob, _, os_ = fc.weighted_nms(b, kp, s, iou=0.3)
    np.testing.assert_allclose(ob, [[0.4, 0.4, 10.4, 10.4], [50, 50, 60, 60]], atol=1e-5)
    np.testing.assert_allclose(os_, [0.9, 0.8])


@pytest.mark.parametrize("angle", [0.0, 0.7, -2.5])
def test_roi_round_trip_and_crop(angle):
    roi = fc.Roi(120.0, 90.0, 80.0, angle)
    p = np.random.default_rng(1).uniform(0, 192, (20, 3))
    np.testing.assert_allclose(fc.image_to_roi(fc.roi_to_image(p, roi, 192), roi, 192), p, atol=1e-3)
    im = np.zeros((200, 240, 3), np.uint8)
    im[89:92, 129:132] = 255  # dot centred at (130.5, 90.5)
    c = fc.crop_roi(im, roi, 96)[..., 0]
    w, j = c / c.sum(), np.arange(96) + 0.5
    dot = fc.roi_to_image(np.array([(w.sum(0) * j).sum(), (w.sum(1) * j).sum()]), roi, 96)
    np.testing.assert_allclose(dot, [130.5, 90.5], atol=0.6)


def test_closest_point_matches_dense_search():
    g = torch.Generator().manual_seed(3)
    A, B, C, P = (torch.randn(30, 3, generator=g, dtype=torch.float64) for _ in range(4))
    q, bc = fc.closest_point_on_triangles(P, A, B, C)
    s = torch.linspace(0, 1, 151, dtype=torch.float64)
    u, v = torch.meshgrid(s, s, indexing="ij")
    k = (u + v) <= 1
    u, v = u[k], v[k]
    dense = (1 - u - v)[None, :, None] * A[:, None] + u[None, :, None] * B[:, None] + v[None, :, None] * C[:, None]
    brute = (dense - P[:, None]).norm(dim=-1).min(1).values
    exact = (q - P).norm(dim=-1)
    assert (exact <= brute + 1e-9).all() and ((brute - exact) < 0.03 * (B - A).norm(dim=-1)).all()
    assert (bc >= -1e-9).all()


def test_embedding_io_and_points(tmp_path):
    emb = fc.load_sample_head_embedding()
    assert len(emb) > 200 and emb.mp_index.max() < fc.MP_N_POINTS
    emb.save(tmp_path / "e.npz")
    e2 = fc.LandmarkEmbedding.load(tmp_path / "e.npz")
    np.testing.assert_array_equal(e2.vertex_ids, emb.vertex_ids)
    np.testing.assert_allclose(e2.bary, emb.bary)
    (tmp_path / "junk.npz").write_bytes(b"PK not a zip")
    with pytest.raises(AssetError):
        fc.LandmarkEmbedding.load(tmp_path / "junk.npz")
    v = torch.randn(2, emb.n_verts, 3, dtype=torch.float64, requires_grad=True)
    small = fc.LandmarkEmbedding(
        emb.mp_index[:5], emb.faces[:5], emb.bary[:5], emb.vertex_ids[:5], emb.spread_mm[:5], emb.n_verts
    )
    assert torch.autograd.gradcheck(lambda x: fc.embedding_points(small, x), (v,))
    with pytest.raises(InputError, match="vertices"):
        fc.embedding_points(emb, v[:, :10])


def test_landmarker_on_a_photo(astro):
    lm = fc.FaceLandmarker(num_threads=1, progress=False)(astro)
    assert lm.points.shape == (1, 468, 3) and lm.detected[0] and lm.n_faces[0] == 1
    x0, y0, x1, y1 = fc.detect_faces(astro, num_threads=1).boxes[0]
    eyes_mouth = lm.points[0, [fc.MP_EYE_R_OUTER, fc.MP_EYE_L_OUTER, fc.MP_NOSE_TIP, fc.MP_MOUTH_R, fc.MP_MOUTH_L], :2]
    assert ((eyes_mouth[:, 0] > x0) & (eyes_mouth[:, 0] < x1) & (eyes_mouth[:, 1] > y0) & (eyes_mouth[:, 1] < y1)).all()
    with pytest.raises(InputError, match="no face"):
        fc.FaceLandmarker(num_threads=1, progress=False)(np.full((128, 128, 3), 100, np.uint8))
    flagged = fc.FaceLandmarker(num_threads=1, progress=False)(np.stack([astro, np.full_like(astro, 100)]))
    assert flagged.detected.tolist() == [True, False] and flagged.missing_frames().tolist() == [1]


def test_segmentation(astro):
    m = fc.segment_person(astro)
    assert m.shape == astro.shape[:2] and m.dtype == np.float32 and 0 <= m.min() and m.max() <= 1
    assert m[100:160, 200:250].mean() > 0.9  # the face

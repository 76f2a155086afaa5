"Tests of ggtalker_nb.viz beyond the notebook: property tests, parity with 02_geometry, widgets linked together."

import base64
import io
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st, HealthCheck
from hypothesis.extra.numpy import arrays
from PIL import Image

from ggtalker_nb.core import InputError
from ggtalker_nb.viz import (
    NovelViewWidget,
    SliderPanel,
    ellipsoid_mesh,
    find_object,
    icosphere,
    image_grid,
    plot_curves,
    plot_timeline,
    quat_to_matrix_np,
    show_gaussians,
    show_mesh,
    show_points,
    show_video,
    to_png_bytes,
    to_uint8_image,
    update_gaussians,
    update_mesh,
)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def test_import_is_light_and_headless():
    "Importing the module pulls in no UI package and needs no display."
    code = (
        "import os, sys; os.environ.pop('DISPLAY', None); import ggtalker_nb.viz; "
        "print(sorted(m for m in ('k3d', 'mediapy', 'ipywidgets', 'plotly') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout


# ---------------------------------------------------------------- images
@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 7), h=st.integers(1, 9), w=st.integers(1, 9), ncols=st.integers(1, 8), pad=st.integers(0, 3))
def test_image_grid_places_every_image(n, h, w, ncols, pad):
    rng = np.random.default_rng(n * 1000 + h * 100 + w)
    ims = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    g = image_grid(ims, ncols=ncols, pad=pad)
    c = min(ncols, n)
    r = -(-n // c)
    assert g.shape == (r * h + (r + 1) * pad, c * w + (c + 1) * pad, 3) and g.dtype == np.float32
    for i in range(n):
        y, x = pad + (i // c) * (h + pad), pad + (i % c) * (w + pad)
        np.testing.assert_array_equal((g[y : y + h, x : x + w] * 255).round().astype(np.uint8), ims[i])
    # everything not covered by an image is background
    mask = np.ones(g.shape[:2], bool)
    for i in range(n):
        y, x = pad + (i // c) * (h + pad), pad + (i % c) * (w + pad)
        mask[y : y + h, x : x + w] = False
    assert (g[mask] == 1.0).all()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(img=arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12), st.sampled_from([1, 3, 4]))))
def test_png_round_trip(img):
    back = np.asarray(Image.open(io.BytesIO(to_png_bytes(img))))
    np.testing.assert_array_equal(back.reshape(img.shape), img)


@pytest.mark.parametrize("device", DEVICES)
def test_png_accepts_torch_float_on_any_device(device):
    x = torch.rand(6, 7, 3, device=device, dtype=torch.float16)
    back = np.asarray(Image.open(io.BytesIO(to_png_bytes(x))))
    np.testing.assert_array_equal(back, to_uint8_image(x.float().cpu().numpy()))


def test_show_video_html_decodes_to_the_frames():
    "The inline mp4 decodes back to T frames of the (even-padded) size with the right brightness."
    import imageio_ffmpeg

    frames = np.linspace(0.1, 0.9, 6)[:, None, None, None] * np.ones((6, 21, 33, 3))
    html = show_video(torch.tensor(frames), fps=12, return_html=True)
    b64 = re.search(r"data:video/mp4;base64,([A-Za-z0-9+/=]+)", html).group(1)
    import tempfile
    import os

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "v.mp4")
        open(p, "wb").write(base64.b64decode(b64))
        # decode with the ffmpeg binary directly (mediapy.read_video passes -vsync, which new ffmpeg builds reject)
        raw = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", p, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
        back = np.frombuffer(raw, np.uint8).reshape(-1, 22, 34, 3)
    assert back.shape == (6, 22, 34, 3)
    np.testing.assert_allclose(back.reshape(6, -1).mean(1) / 255, frames.reshape(6, -1).mean(1), atol=0.03)


# ---------------------------------------------------------------- geometry parity
def test_quat_to_matrix_matches_geometry():
    from ggtalker_nb.geometry import quat_to_matrix

    q = torch.randn(100, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(quat_to_matrix_np(q.numpy()), quat_to_matrix(q).numpy(), atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 6), sigma=st.floats(0.5, 3.0), subdiv=st.integers(0, 2))
def test_ellipsoid_is_the_sigma_surface_of_the_covariance(seed, k, sigma, subdiv):
    "Every ellipsoid vertex satisfies (x−μ)ᵀ Σ⁻¹ (x−μ) = σ², with Σ from geometry.Gaussians.covariances."
    from ggtalker_nb.geometry import Gaussians

    g = torch.Generator().manual_seed(seed)
    gs = Gaussians(
        torch.randn(k, 3, generator=g, dtype=torch.float64),
        torch.randn(k, 4, generator=g, dtype=torch.float64),
        torch.rand(k, 3, generator=g, dtype=torch.float64) * 0.3 + 0.02,
        torch.rand(k, generator=g, dtype=torch.float64),
        torch.rand(k, 3, generator=g, dtype=torch.float64),
    )
    v, f = ellipsoid_mesh(gs.means, gs.scales, gs.quats, sigma=sigma, subdivisions=subdiv)
    per = 10 * 4**subdiv + 2
    assert v.shape == (k * per, 3) and f.shape == (k * 20 * 4**subdiv, 3) and f.max() == k * per - 1
    d = torch.from_numpy(v).double().reshape(k, per, 3) - gs.means[:, None]
    maha = torch.einsum("kvi,kij,kvj->kv", d, torch.linalg.inv(gs.covariances()), d)
    torch.testing.assert_close(maha, torch.full_like(maha, sigma**2), rtol=2e-3, atol=2e-3)  # float32 vertices


def test_show_gaussians_takes_a_geometry_gaussians_frame():
    from ggtalker_nb.geometry import Gaussians

    g = torch.Generator().manual_seed(1)
    gs = Gaussians(
        torch.randn(2, 50, 3, generator=g),
        torch.randn(2, 50, 4, generator=g),
        torch.rand(2, 50, 3, generator=g) * 0.1,
        torch.rand(2, 50, generator=g),
        torch.rand(2, 50, 16, 3, generator=g) - 0.5,
    )
    plot = show_gaussians(gs.frame(0), ellipsoids=5)
    cen = find_object(plot, "gaussians/centres")
    ell = find_object(plot, "gaussians/ellipsoids")
    np.testing.assert_allclose(cen.positions, gs.means[0].numpy())
    np.testing.assert_allclose(cen.opacities, gs.opacities[0].numpy())
    assert ell.vertices.shape == (5 * 42, 3)
    update_gaussians(plot, gs.frame(1))  # next frame: centres, ellipsoids, opacities all follow
    np.testing.assert_allclose(cen.positions, gs.means[1].numpy())
    sub = np.array(ell.custom_data["subset"])
    ref, _ = ellipsoid_mesh(gs.means[1, sub], gs.scales[1, sub], gs.quats[1, sub])
    np.testing.assert_allclose(ell.vertices, ref, atol=1e-6)
    with pytest.raises(InputError, match="one frame"):
        show_gaussians(gs)


# ---------------------------------------------------------------- k3d
@pytest.mark.parametrize("device", DEVICES)
def test_mesh_and_points_from_torch_on_any_device(device):
    v, f = icosphere(1)
    vt, ft = torch.from_numpy(v).to(device), torch.from_numpy(f).to(device)
    plot = show_mesh(vt, ft, colors=vt[:, 0])
    show_points(vt * 2, colors=(vt + 1) / 2, plot=plot)
    mesh, pts = find_object(plot, "mesh"), find_object(plot, "points")
    np.testing.assert_array_equal(mesh.vertices, v)
    np.testing.assert_array_equal(pts.positions, 2 * v)
    update_mesh(mesh, vt * 3)
    np.testing.assert_array_equal(mesh.vertices, 3 * v)


def test_snapshot_is_self_contained_html():
    v, f = icosphere(2)
    html = show_points(v, plot=show_mesh(v, f)).get_snapshot()
    assert html.lstrip().lower().startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert re.search(r"<script[^>]*\bsrc\s*=", html) is None
    assert re.search(r"<link[^>]*\bhref\s*=\s*[\"']https?://", html) is None


def test_bad_inputs_name_the_argument():
    v, f = icosphere(0)
    with pytest.raises(InputError, match="verts: contains NaN"):
        show_mesh(np.full((3, 3), np.nan), [[0, 1, 2]])
    with pytest.raises(InputError, match="faces: expected integer"):
        show_mesh(v, f.astype(np.float32))
    with pytest.raises(InputError, match="scales: must be ≥ 0"):
        ellipsoid_mesh(np.zeros((1, 3)), -np.ones((1, 3)), np.array([[1.0, 0, 0, 0]]))


# ---------------------------------------------------------------- plotly
def test_curves_time_axis_and_timeline_alone():
    fig = plot_curves({"a": torch.arange(10.0)}, fps=5)
    np.testing.assert_allclose(fig.data[0].x, np.arange(10) / 5)
    fig = plot_timeline([("a", 0.5, 1.0), ("b", 1.0, 2.0)])
    assert len(fig.layout.shapes) == 2 and tuple(fig.layout.xaxis.range) == (0.5, 2.0)
    with pytest.raises(InputError, match="events\\[0\\]"):
        plot_timeline([("a", 1.0)])


# ---------------------------------------------------------------- widgets
def test_panel_drives_a_novel_view():
    "The pattern later notebooks use: expression sliders re-render the current novel view."
    state = {"smile": 0.0}
    calls = []

    def render(yaw, pitch, dist):
        calls.append((yaw, pitch, dist, state["smile"]))
        img = torch.zeros(16, 16, 3, dtype=torch.uint8)
        img[..., 0] = int(127 + yaw)  # the image depends on the angle …
        img[: int(16 * state["smile"]), :, 1] = 255  # … and on the expression
        return img

    nv = NovelViewWidget(render, dist_range=(1.0, 3.0))
    assert nv.view == (0.0, 0.0, 2.0) and nv.n_renders == 1
    panel = SliderPanel({"smile": (0.0, 1.0, 0.0)}, lambda v: (state.update(v), nv.refresh()))
    png = bytes(nv.image.value)
    panel.sliders["smile"].value = 0.5
    assert calls[-1] == (0.0, 0.0, 2.0, 0.5) and nv.n_renders == 2 and bytes(nv.image.value) != png
    nv.sliders["pitch"].value = -12.0
    assert calls[-1] == (0.0, -12.0, 2.0, 0.5) and nv.n_renders == 3
    got = np.asarray(Image.open(io.BytesIO(bytes(nv.image.value))))
    np.testing.assert_array_equal(got, nv.last_image)
    nv.set(yaw=30)
    assert calls[-1][0] == 30.0 and nv.last_image[0, 0, 0] == 157
    # sliders carry the ranges and initial values they were given
    nv2 = NovelViewWidget(render, yaw_range=(-45, 45), pitch_range=(-10, 20), dist_range=(0.2, 0.8), init={"dist": 0.3})
    assert [(s.min, s.max, s.value) for s in nv2.sliders.values()] == [(-45, 45, 0), (-10, 20, 0), (0.2, 0.8, 0.3)]
    with pytest.raises(InputError, match="render: expected a callable"):
        NovelViewWidget("not callable")

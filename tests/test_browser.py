"""What a researcher sees: the widgets drawn by a real browser.

Headless Chromium (WebGL 2 through SwiftShader, no GPU needed) is driven from Python over the DevTools protocol
(a small client on `websocket-client`). Pages: a k3d snapshot of the Gaussian inspector's 3D view
(`plot.get_snapshot()`:
self-contained, no kernel), the inspector's novel-view image as the browser shows it, and a plotly figure.
Each page is screenshotted until the picture stops changing (a screenshot right after load is blank), then:
it drew (pixels differing from the background), no console error or exception occurred, and a 3D view shows the face
(the nose tip, projected with the camera the browser actually used, lies near the image centre and in front of both
ears). The checks are shown to fail on a view that draws nothing and on one that faces away.

Skipped only where no Chromium/Chrome binary can be found (CI installs Debian's `chromium` in .ci/run; or set
GGTALKER_CHROMIUM). `GGTALKER_SCREENSHOT_DIR=nbs/images pytest tests/test_browser.py` also writes the inspector
screenshot of the README (inspector.jpg).
"""

import base64
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
K3D_SIZE = (640, 480)  # browser window for the k3d pages (width, height)
NOSE, EARS = "nose", "ears"


def find_browser() -> str | None:
    "A Chromium/Chrome binary: $GGTALKER_CHROMIUM, else the usual names on PATH."
    if os.environ.get("GGTALKER_CHROMIUM"):
        return os.environ["GGTALKER_CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


class Browser:
    "Headless Chromium with one page, driven over the DevTools protocol."

    def __init__(self, exe: str, width: int = 800, height: int = 600, timeout: float = 30):
        import websocket  # websocket-client (a dev requirement)

        self.tmp = tempfile.mkdtemp(prefix="ggt_chromium_")
        self.proc = subprocess.Popen(
            [
                exe,
                "--headless=new",
                "--use-angle=swiftshader",
                "--enable-unsafe-swiftshader",
                "--no-sandbox",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--hide-scrollbars",
                "--mute-audio",
                f"--user-data-dir={self.tmp}",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        port_file, t0 = Path(self.tmp) / "DevToolsActivePort", time.time()
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{exe} exited with {self.proc.returncode}: {self.proc.stderr.read().decode()[-2000:]}"
                )
            if time.time() - t0 > timeout:
                self.close()
                raise TimeoutError(f"{exe}: no DevTools port after {timeout} s")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        page = next(
            p for p in json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list")) if p["type"] == "page"
        )
        self._timeout_exc = websocket.WebSocketTimeoutException
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.n, self.events = 0, []
        for m in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.call(m)
        self.resize(width, height)

    def call(self, method: str, **params):
        "Send one command, return its result (events that arrive meanwhile are kept)."
        self.n += 1
        i = self.n
        self.ws.send(json.dumps(dict(id=i, method=method, params=params)))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == i:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]
            self.events.append(msg)

    def resize(self, width: int, height: int):
        self.width, self.height = width, height
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def open(self, path: Path, timeout: float = 30):
        "Load a local file; wait for its load event. Console/exception events start afresh."
        self.events = []
        self.call("Page.navigate", url=Path(path).resolve().as_uri())
        t0 = time.time()
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.time() - t0 > timeout:
                raise TimeoutError(f"{path}: no load event after {timeout} s")
            self.ws.settimeout(0.2)
            try:
                self.events.append(json.loads(self.ws.recv()))
            except self._timeout_exc:
                pass
            finally:
                self.ws.settimeout(60)

    def eval(self, expr: str):
        "Evaluate JavaScript (promises awaited); return the value as JSON."
        r = self.call("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"JavaScript failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def screenshot(self) -> np.ndarray:
        r = self.call("Page.captureScreenshot", format="png")
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(r["data"]))).convert("RGB"))

    def settled(self, timeout: float = 20, interval: float = 0.25, min_time: float = 0.75) -> np.ndarray:
        "Screenshot once the picture has stopped changing (three equal screenshots in a row)."
        t0, prev, same = time.time(), None, 0
        while True:
            time.sleep(interval)
            im = self.screenshot()
            same = same + 1 if prev is not None and np.array_equal(im, prev) else 0
            if same >= 2 and time.time() - t0 >= min_time:
                return im
            if time.time() - t0 > timeout:
                raise AssertionError(f"the page kept changing for {timeout} s")
            prev = im

    def errors(self) -> list[str]:
        "Console errors (also errors passed to console.log), uncaught exceptions and error log entries since `open`."
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append(f"exception: {d.get('exception', {}).get('description') or d.get('text')}")
            elif m == "Runtime.consoleAPICalled" and (
                p["type"] in ("error", "assert") or any(a.get("subtype") == "error" for a in p.get("args", []))
            ):
                out.append(
                    f"console.{p['type']}: " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"])
                )
            elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(f"log: {p['entry']['text']} ({p['entry'].get('url', '')})")
        return out

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.ws.close()
        except Exception:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------- checks (each raises AssertionError saying what is
# wrong)
def drawn_mask(img: np.ndarray, bg) -> np.ndarray:
    "Pixels that differ from the background colour by more than 24/255 in some channel."
    return np.abs(img.astype(np.int16) - np.asarray(bg, np.int16)).max(-1) > 24


def assert_draws(img: np.ndarray, bg, min_fraction: float, what: str):
    "At least `min_fraction` of the pixels differ from the background."
    f = float(drawn_mask(img, bg).mean())
    assert f >= min_fraction, (
        f"{what}: draws nothing — {100 * f:.2f} % of its pixels differ from the background (need ≥ "
        f"{100 * min_fraction:g} %)"
    )
    return f


def assert_no_errors(browser: Browser, what: str):
    errs = browser.errors()
    assert not errs, f"{what}: errors in the browser:\n" + "\n".join(errs)


def assert_traces_drawn(path_lengths: list[int], n: int, what: str):
    "A plotly figure drew `n` line traces, each with a real SVG path."
    assert len(path_lengths) == n and n and min(path_lengths) > 100, (
        f"{what}: draws nothing — {len(path_lengths)} line traces on the page (expected {n}), SVG path lengths "
        f"{path_lengths}"
    )


def assert_frames(xy: np.ndarray, size: tuple[int, int], what: str, min_fill: float = 0.5):
    """Projected points `xy` (pixels) of the whole head all lie inside a view of `size` (w, h) and fill ≥ `min_fill` of
    it."""
    (w, h), lo, hi = size, xy.min(0), xy.max(0)
    assert (lo >= 0).all() and hi[0] <= w and hi[1] <= h, (
        f"{what}: the head is cut off — it spans {lo.round()}…{hi.round()} px of a {w}×{h} view"
    )
    fill = max((hi[0] - lo[0]) / w, (hi[1] - lo[1]) / h)
    assert fill >= min_fill, f"{what}: the head fills only {100 * fill:.0f} % of the view (need ≥ {100 * min_fill:g} %)"


def assert_shows_face(
    xy: np.ndarray,
    depth: np.ndarray,
    marks: np.ndarray,
    size: tuple[int, int],
    img: np.ndarray,
    bg,
    what: str,
    max_angle: float = 50.0,
    max_off: float = 0.2,
):
    """`xy`, `depth`: pixel position and depth of `marks` = [nose, right ear, left ear] (world) in an image of `size`
    (w, h).
    The nose is in front of the ears — the view axis within `max_angle`° of the face's forward direction (ears → nose)
    —,
    lies within `max_off` of the image size from the centre, and is drawn."""
    (w, h), (nx, ny) = size, xy[0]
    # depth is linear along the view axis: mean ear depth − nose depth = |ears_mid → nose| · cos(view axis, face
    # direction)
    cos = (depth[1:].mean() - depth[0]) / np.linalg.norm(marks[0] - marks[1:].mean(0))
    angle = float(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    assert angle <= max_angle, (
        f"{what}: faces away — the camera looks {angle:.0f}° off the face's forward direction (need ≤ {max_angle:g}°); "
        f"nose {depth[0]:.3f} m from the camera, ears {depth[1]:.3f} m and {depth[2]:.3f} m"
    )
    off = max(abs(nx - w / 2) / w, abs(ny - h / 2) / h)
    assert off <= max_off, (
        f"{what}: the nose projects to ({nx:.0f}, {ny:.0f}) px, {100 * off:.0f} % of the view from its centre"
    )
    x, y = int(round(nx)), int(round(ny))
    patch = drawn_mask(img[max(0, y - 4) : y + 5, max(0, x - 4) : x + 5], bg)
    assert patch.size and patch.mean() > 0.3, f"{what}: nothing drawn at the nose ({x}, {y}) px"


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def browser():
    exe = find_browser()
    if exe is None:
        pytest.skip(
            "no Chromium/Chrome binary found (apt-get install chromium, as .ci/run does; or set GGTALKER_CHROMIUM)"
        )
    b = Browser(exe, *K3D_SIZE)
    yield b
    b.close()


@pytest.fixture(scope="module")
def inspector():
    "The Gaussian inspector on the shipped sample identity (its Gaussians and FLAME shape on the sample head)."
    from ggtalker_nb.core import data_samples_path
    from ggtalker_nb.flame import FLAME
    from ggtalker_nb.gaussians.binding import BoundGaussians
    from ggtalker_nb.gaussians.uvmap import GaussianInspector
    from ggtalker_nb.sample_head import load_sample_head

    d = data_samples_path("identity_sample", must_exist=True)
    flame = FLAME(load_sample_head())
    shape = torch.tensor(json.loads((d / "identity.json").read_text())["shape"], dtype=torch.float32)
    with torch.no_grad():
        ins = GaussianInspector(
            flame,
            BoundGaussians.load(d / "gaussians.safetensors"),
            shape=shape[: flame.n_shape],
            image_size=256,
            ellipsoids=100,
        )
        v = flame(*ins.flame_params({})).vertices[0]
    # the nose tip is FLAME's most forward vertex (the face looks along +z); the ears are its outermost ones in x
    ins.marks = torch.stack([v[v[:, 2].argmax()], v[v[:, 0].argmin()], v[v[:, 0].argmax()]]).double().numpy()
    return ins


def k3d_page(browser: Browser, plot, path: Path) -> tuple[np.ndarray, dict]:
    "Open a k3d snapshot; wait for k3d and for the picture to settle; return the screenshot and the camera k3d used."
    path.write_text(plot.get_snapshot())
    browser.resize(*K3D_SIZE)
    browser.open(path)
    browser.eval("""(async () => {
        for (let i = 0; typeof K3DInstance === 'undefined' && i < 400; i++) await new Promise(r => setTimeout(r, 50));
        await K3DInstance; })()""")
    img = browser.settled()  # k3d applies the plot's camera a moment after it has loaded: read it afterwards
    state = browser.eval("""(async () => {
        const k = await K3DInstance, w = k.getWorld(), c = w.camera, r = w.renderer.domElement.getBoundingClientRect();
        return {view: c.matrixWorldInverse.elements, proj: c.projectionMatrix.elements, up: c.up.toArray(),
                canvas: [r.left, r.top, r.width, r.height], objects: Object.keys(w.ObjectsListJson).length};
    })()""")
    return img, state


def k3d_project(state: dict, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Page pixels and depth (m) of world points, with the camera matrices the browser rendered with (three.js,
    column-major)."""
    V, P = (np.asarray(state[k], np.float64).reshape(4, 4).T for k in ("view", "proj"))
    ph = np.concatenate([points, np.ones((len(points), 1))], 1)
    cam = ph @ V.T
    clip = cam @ P.T
    ndc = clip[:, :2] / clip[:, 3:]
    x0, y0, w, h = state["canvas"]
    return np.stack([x0 + (ndc[:, 0] + 1) / 2 * w, y0 + (1 - ndc[:, 1]) / 2 * h], -1), -cam[:, 2]


def k3d_bg(plot) -> np.ndarray:
    c = int(plot.background_color)
    return np.array([c >> 16 & 255, c >> 8 & 255, c & 255])


def centre(img: np.ndarray, frac: float = 0.6) -> np.ndarray:
    "The central `frac` of an image (k3d draws its menu and axes gizmo in the corners)."
    h, w = img.shape[:2]
    dy, dx = int(h * (1 - frac) / 2), int(w * (1 - frac) / 2)
    return img[dy : h - dy, dx : w - dx]


def image_page(browser: Browser, png: bytes, path: Path, width: int, height: int) -> np.ndarray:
    "Show PNG bytes as an <img> at its native size on a white page; return that image as the browser drew it."
    b64 = base64.b64encode(png).decode()
    path.write_text(
        f'<!doctype html><html><body style="margin:0;background:#fff">'
        f'<img id="im" src="data:image/png;base64,{b64}" width="{width}" height="{height}"></body></html>'
    )
    browser.resize(max(width, 320), max(height, 240))
    browser.open(path)
    assert browser.eval("document.getElementById('im').complete && document.getElementById('im').naturalWidth") == width
    return browser.settled()[:height, :width]


# ---------------------------------------------------------------- tests
def test_inspector_3d_view_opens_on_the_face(browser, inspector, tmp_path):
    "The inspector's k3d view draws the head, without errors, seen from the front; the screenshot goes to the README."
    img, st = k3d_page(browser, inspector.plot, tmp_path / "inspector_k3d.html")
    assert_no_errors(browser, "k3d inspector view")
    assert st["objects"] == 2, st["objects"]  # centres + ellipsoids
    assert_draws(centre(img), k3d_bg(inspector.plot), 0.15, "k3d inspector view")
    xy, depth = k3d_project(st, inspector.marks)
    assert_shows_face(
        xy, depth, inspector.marks, (browser.width, browser.height), img, k3d_bg(inspector.plot), "k3d inspector view"
    )
    assert xy[1, 0] < xy[0, 0] < xy[2, 0]  # the head's right ear (−x) left of the nose
    from ggtalker_nb.viz import find_object

    assert_frames(
        k3d_project(st, find_object(inspector.plot, "gaussians/centres").positions.astype(np.float64))[0],
        (browser.width, browser.height),
        "k3d inspector view",
    )
    np.testing.assert_allclose(st["up"], [0, 1, 0])  # y up, as new_plot asks
    # the browser used the camera the plot carries (k3d did not re-fit it)
    cam = np.asarray(inspector.plot.camera)
    V = np.asarray(st["view"]).reshape(4, 4).T
    np.testing.assert_allclose(-V[:3, :3].T @ V[:3, 3], cam[:3], atol=1e-5)
    nv = image_page(
        browser, bytes(inspector.view.image.value), tmp_path / "inspector_image.html", inspector.size, inspector.size
    )
    out = os.environ.get("GGTALKER_SCREENSHOT_DIR")
    if out:  # the README's picture: the 3D view beside the novel-view render, as the inspector shows them
        pad = (img.shape[0] - nv.shape[0]) // 2
        right = np.full((img.shape[0], nv.shape[1] + 24, 3), 255, np.uint8)
        right[pad : pad + nv.shape[0], 12 : 12 + nv.shape[1]] = nv
        Image.fromarray(np.concatenate([img, right], 1)).save(Path(out) / "inspector.jpg", quality=82, optimize=True)


def test_inspector_3d_view_checks_fail_when_wrong(browser, inspector, tmp_path):
    "The same checks fail on a camera that faces away from the face and on one that looks at nothing."
    from ggtalker_nb import viz

    plot, bg, kept = inspector.plot, k3d_bg(inspector.plot), list(inspector.plot.camera)
    try:
        viz.set_view(plot, "back")
        img, st = k3d_page(browser, plot, tmp_path / "back.html")
        assert_no_errors(browser, "back view")
        assert_draws(centre(img), bg, 0.15, "back view")  # it draws …
        xy, depth = k3d_project(st, inspector.marks)
        with pytest.raises(AssertionError, match="faces away"):  # … the back of the head
            assert_shows_face(xy, depth, inspector.marks, (browser.width, browser.height), img, bg, "back view")
        plot.camera, plot.camera_auto_fit = [], True  # k3d's own default camera: what viewers used to open on
        img, st = k3d_page(browser, plot, tmp_path / "k3d_default.html")
        assert_draws(centre(img), bg, 0.02, "k3d default camera")  # it draws (a small head) …
        xy, depth = k3d_project(st, inspector.marks)
        with pytest.raises(AssertionError, match="faces away"):  # … from below and the side
            assert_shows_face(
                xy, depth, inspector.marks, (browser.width, browser.height), img, bg, "k3d default camera"
            )
        eye = np.asarray(kept[:3])
        plot.camera = [*eye, *(2 * eye - np.asarray(kept[3:6])), 0, 1, 0]  # looking away from it
        img, st = k3d_page(browser, plot, tmp_path / "away.html")
        with pytest.raises(AssertionError, match="draws nothing"):
            assert_draws(centre(img), bg, 0.15, "camera looking away")
    finally:
        viz.set_view(plot, "front")
        assert plot.camera == kept


def test_k3d_view_takes_the_image_camera(browser, inspector, tmp_path):
    """`set_view(inspector, 'camera')`: k3d shows the head from the novel-view image's camera (same projection, k3d's
    canvas)."""
    from ggtalker_nb import viz

    nv, kept = inspector.view, list(inspector.plot.camera)
    try:
        nv.set(yaw=30.0, pitch=10.0)
        viz.set_view(inspector, "camera")
        img, st = k3d_page(browser, inspector.plot, tmp_path / "camera.html")
        assert_no_errors(browser, "k3d view at the image camera")
        xy, depth = k3d_project(st, inspector.marks)
        cam = inspector.camera(*nv.view)
        uv, z = cam.project(torch.as_tensor(inspector.marks, dtype=cam.viewmat.dtype))
        n, (x0, y0, w, h) = inspector.size, st["canvas"]
        ndc_k3d = np.stack([(xy[:, 0] - x0) / (w / 2) - 1, 1 - (xy[:, 1] - y0) / (h / 2)], -1) * [w / h, 1]
        ndc_img = np.stack([uv[:, 0].numpy() / (n / 2) - 1, 1 - uv[:, 1].numpy() / (n / 2)], -1)
        np.testing.assert_allclose(ndc_k3d, ndc_img, atol=1e-3)  # same rays (vertical field of view kept)
        np.testing.assert_allclose(depth, z.numpy(), atol=1e-4)
        assert_draws(centre(img), k3d_bg(inspector.plot), 0.1, "k3d view at the image camera")
    finally:
        nv.set(yaw=0.0, pitch=0.0)
        viz.set_view(inspector.plot, "front")
        inspector.plot.camera_fov = 30.0
        viz.set_view(inspector.plot, "front")
        assert inspector.plot.camera == kept


def test_novel_view_image_shows_the_face(browser, inspector, tmp_path):
    "The novel-view widget's image as the browser shows it: the exact render, the face from the front; wrong ones fail."
    from ggtalker_nb import viz

    nv, n = inspector.view, inspector.size

    def check(what):
        img = image_page(browser, bytes(nv.image.value), tmp_path / "nv.html", n, n)
        assert_no_errors(browser, what)
        np.testing.assert_allclose(img, viz.to_uint8_image(nv.last_image), atol=2)  # the browser shows the render
        assert_draws(img, (255, 255, 255), 0.1, what)
        cam = inspector.camera(*nv.view)
        uv, z = cam.project(torch.as_tensor(inspector.marks, dtype=cam.viewmat.dtype))
        assert_shows_face(uv.numpy(), z.numpy(), inspector.marks, (n, n), img, (255, 255, 255), what)
        assert_frames(cam.project(inspector.gaussians.means.to(cam.viewmat.dtype))[0].numpy(), (n, n), what)

    assert nv.view[:2] == (0.0, 0.0)
    check("novel-view widget")
    try:
        nv.set_view("back")
        with pytest.raises(AssertionError, match="faces away"):
            check("novel-view widget, back")
    finally:
        nv.set_view("front")
    blank = viz.NovelViewWidget(lambda y, p, d: np.ones((n, n, 3), np.float32))
    img = image_page(browser, bytes(blank.image.value), tmp_path / "blank.html", n, n)
    with pytest.raises(AssertionError, match="draws nothing"):
        assert_draws(img, (255, 255, 255), 0.1, "blank widget")


def test_plotly_figure_draws(browser, tmp_path):
    "A plotly figure of parameter tracks with a phoneme timeline: every trace drawn, no errors; an empty one fails."
    import plotly.graph_objects as go
    from ggtalker_nb import viz

    t = np.arange(75) / 25
    fig = viz.plot_curves(
        {
            "jaw": 0.2 * np.clip(np.sin(2 * np.pi * 1.5 * t), 0, None),
            "expr": np.stack([np.sin(t * k) for k in (1, 2, 3)], -1),
        },
        title="parameter tracks",
    )
    viz.plot_timeline([("h", 0.0, 0.3), ("ə", 0.3, 0.55), ("l", 0.55, 0.8), ("oʊ", 0.8, 1.4)], fig)

    def page(f, name):
        (tmp_path / name).write_text(f.to_html(include_plotlyjs=True, full_html=True))
        browser.resize(800, 450)
        browser.open(tmp_path / name)
        img = browser.settled()
        lines = browser.eval(
            "[...document.querySelectorAll('.scatterlayer .trace path.js-line')].map(p => (p.getAttribute('d') || "
            "'').length)"
        )
        return img, lines

    img, lines = page(fig, "plotly.html")
    assert_no_errors(browser, "plotly figure")
    assert_traces_drawn(lines, len(fig.data), "plotly figure")
    assert_draws(img, (255, 255, 255), 0.03, "plotly figure")
    c0 = np.array([0x63, 0x6E, 0xFA])  # plotly's first trace colour
    assert (np.abs(img.astype(int) - c0).max(-1) < 40).sum() > 100, "the first trace's colour is not on the page"
    img, lines = page(go.Figure(), "empty.html")  # an empty figure: the check fails
    assert_no_errors(browser, "empty plotly figure")
    with pytest.raises(AssertionError, match="draws nothing"):
        assert_traces_drawn(lines, len(fig.data), "empty figure")

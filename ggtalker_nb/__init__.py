__version__ = "0.1.0"

# The public face: the names a notebook user reaches for first, importable from the package itself
# (`from ggtalker_nb import Talker, Video, FLAME, Gaussians, render, load_sample_head`). They load lazily (PEP 562):
# `import ggtalker_nb` stays light and a name's module is imported only when the name is used.
# This file is kept by hand (nbdev only rewrites the `__version__` line); index.ipynb explains it.
import types as _types

_PUBLIC = dict(
    # speaking: priors + one identity, audio in, video out
    Talker="talker", Video="talker", StreamChunk="talker",
    # the runtime: identity folders, motion from audio, heads from motion
    Identity="avatar.identity", load_identity="avatar.identity", save_identity="avatar.identity",
    speak_motion="avatar.runtime", render_frames="avatar.runtime",
    # head model, geometry, Gaussians
    FLAME="flame", load_flame="flame",
    load_sample_head="sample_head", sample_head_flame="sample_head", DEFAULT_CAMERA="sample_head",
    Gaussians="geometry", Camera="geometry", look_at="geometry", orbit_camera="geometry",
    BoundGaussians="gaussians.binding",
    # audio, video and data in
    AUDIO_SR="media", write_video="media", read_video="media",
    read_audio="data.speech", tts="data.speech",
    ClipReader="data.video",
    FaceLandmarker="data.faces", segment_person="data.faces",
    track_video="data.track", fit_photo="data.track",
    # looking at things
    show_images="viz", show_video="viz",
    data_samples_path="core",
)


class _CallableRenderPackage(_types.ModuleType):
    """The `ggtalker_nb.render` subpackage, callable as the renderer: `render(gaussians, camera, ...)` is
    `ggtalker_nb.render.gaussians.render(gaussians, camera, ...)`; its submodules import as usual."""

    def __call__(self, *args, **kwargs):
        from .render.gaussians import render as render_gaussians
        return render_gaussians(*args, **kwargs)


# `render` is both the renderer a user calls and the subpackage that holds it: the package module itself is made
# callable (its __init__ is empty, so importing it here costs nothing; the renderer loads on the first call).
from . import render  # noqa: E402
render.__class__ = _CallableRenderPackage

__all__ = ["__version__", "render", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        import importlib
        value = getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__(): return sorted(set(globals()) | set(_PUBLIC))

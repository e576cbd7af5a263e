"""Small file helpers shared by every stage: atomic writes and the arrays-only unpickler."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    The temporary name keeps the final suffix (``.x.mp4`` stays ``.mp4``) so tools that pick
    a format from the extension (ffmpeg, numpy) behave. On any exception the temporary file
    is removed and ``path`` is left as it was: nothing is ever half written. The final file
    gets the usual permissions (0666 minus the umask), not mkstemp's private 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.exists():
            tmp.chmod(0o666 & ~_current_umask())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _current_umask() -> int:
    """The process umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class UnsafePickleError(ValueError):
    """A pickle asked for something other than numpy arrays and plain containers."""


# (module, name) pairs a numpy-array pickle needs, across numpy 1.x (numpy.core) and 2.x
# (numpy._core) and pickle protocols 2-5. Dicts, lists, tuples, str, bytes, numbers need none.
_ALLOWED_GLOBALS = frozenset(
    [
        (core, name)
        for core in ("numpy.core.multiarray", "numpy._core.multiarray")
        for name in ("_reconstruct", "scalar")
    ]
    + [(core, "_frombuffer") for core in ("numpy.core.numeric", "numpy._core.numeric")]
    + [("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")]
    + [("numpy.dtypes", name) for name in ("Float32DType", "Float64DType", "Int64DType", "Int32DType")]
)


class _ArraysOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: D102 - pickle protocol hook
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"refusing to load {module}.{name}: only numpy arrays and plain containers are allowed"
        )


def load_arrays_pickle(path: str | os.PathLike) -> object:
    """Unpickle a file that may hold only numpy arrays, numbers, strings and plain containers.

    Anything else (a class, a function, ``os.system``) raises :class:`UnsafePickleError` before
    it is constructed, so a malicious file runs no code.
    """
    data = Path(path).read_bytes()
    try:
        return _ArraysOnlyUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError as err:
        raise UnsafePickleError(f"{Path(path).name}: {err}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as err:
        raise ValueError(f"{Path(path).name}: not a readable pickle ({err})") from None

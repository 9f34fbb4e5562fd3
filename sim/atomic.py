"""Atomic writes: a file or a whole folder appears complete, or not at all.

Everything the CLI, the analysis and the benchmarks write goes through here (temp file/folder
beside the target, then a rename), so an interrupted command never leaves a half-written output:

* :func:`write_text`, :func:`write_bytes`: a whole file from a string or bytes;
* :func:`writing`: a temporary path for a library that writes the file itself (pandas'
  ``to_parquet``/``to_csv``, matplotlib's ``savefig``, an animation's ``save``), renamed into
  place when the ``with`` block ends without an exception;
* :func:`folder`: a temporary folder that replaces a whole output folder.

Temporary names start with ``.`` and carry the writing process's id
(``.NAME.<pid>.XXXX.tmp``); one left behind by a process that was killed (``kill -9``) is
removed by the next write of the same target, never one of a process still running. What is
written gets the permissions the user's umask gives (not the 0600/0700 of ``mkstemp``).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def umask() -> int:
    """The process's current umask.

    Read from ``/proc/self/status`` where there is one (Linux), since the portable way (set it,
    then set it back) leaves it at 0 for a moment, when another thread's new file would get
    mode 0666.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def clean_stale(target: Path) -> list[Path]:
    """Remove temporaries of ``target`` left by processes that no longer run; returns them."""
    pat = re.compile(rf"^\.{re.escape(target.name)}\.(?:old-)?(\d+)(?:\..*\.tmp(?:\.\w+)?)?$")
    removed: list[Path] = []
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return removed
    for p in siblings:
        m = pat.match(p.name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p)
    return removed


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def file_mode() -> int:
    """The mode a new file gets under the current umask (``0o666 & ~umask``)."""
    return 0o666 & ~umask()


def folder_mode() -> int:
    """The mode a new folder gets under the current umask (``0o777 & ~umask``)."""
    return 0o777 & ~umask()


@contextmanager
def writing(path: str | Path, *, ext: str = "", clean: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends, it becomes ``path``.

    The temporary file exists (empty) when the block starts; whatever writes it may replace it.
    On success it gets the mode a new file would have under the umask and is renamed over
    ``path``; on an exception it is removed and ``path`` is left as it was. ``ext`` is appended
    to the temporary name for writers that choose the format from the extension (e.g. ``".gif"``
    for Pillow). ``clean=False`` skips removing stale temporaries of ``path`` (a listing of the
    folder) for callers writing many files into one folder that clean up themselves.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if clean:
        clean_stale(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=f".tmp{ext}",
                                    dir=path.parent)
    except OSError as exc:  # say where the user asked to write, not the temporary name
        raise OSError(exc.errno, f"cannot write in {path.parent} ({exc.strerror})", str(path)) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode())  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes, *, clean: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically."""
    path = Path(path)
    with writing(path, clean=clean) as tmp:
        tmp.write_bytes(data)
    return path


def write_text(path: str | Path, text: str, *, clean: bool = True) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    return write_bytes(path, text.encode("utf-8"), clean=clean)


@contextmanager
def folder(out: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success it replaces ``out`` whole.

    An existing ``out`` (a folder, or a file) is replaced only once the new folder is complete;
    on an exception the temporary folder is removed and ``out`` is left as it was.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".tmp",
                                    dir=out.parent))
    except OSError as exc:  # say where the user asked to write, not the temporary name
        raise OSError(exc.errno, f"cannot write in {out.parent} ({exc.strerror})", str(out)) from None
    try:
        os.chmod(tmp, folder_mode())  # mkdtemp makes 0700
        yield tmp
        if out.exists() or out.is_symlink():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            _remove(old)
            out.rename(old)
            try:
                tmp.rename(out)
            except BaseException:
                old.rename(out)  # put the previous output back
                raise
            _remove(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

"""sim/atomic.py: files and folders appear whole or not at all, with the umask's mode, and the
temporaries of killed processes are removed by the next write of the same target."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sim import atomic


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _hidden(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_write_text_and_write_bytes_replace_the_target_whole(tmp_path):
    f = tmp_path / "sub" / "a.txt"
    assert atomic.write_text(f, "première\n") == f
    assert f.read_bytes() == "première\n".encode()
    atomic.write_bytes(f, b"\x00\x01")
    assert f.read_bytes() == b"\x00\x01"
    assert _hidden(f.parent) == []


def test_writing_renames_what_the_library_wrote_into_place(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("old", encoding="utf-8")
    with atomic.writing(f) as tmp:
        assert tmp.parent == f.parent and tmp.name.startswith(f".t.csv.{os.getpid()}.")
        assert tmp.name.endswith(".tmp") and tmp.exists()
        tmp.write_text("new", encoding="utf-8")
        assert f.read_text(encoding="utf-8") == "old"  # not before the block ends
    assert f.read_text(encoding="utf-8") == "new"
    assert _hidden(tmp_path) == []


def test_an_error_while_writing_leaves_the_old_file_and_no_temporary(tmp_path):
    f = tmp_path / "keep.json"
    f.write_text("{}", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic.writing(f) as tmp:
        tmp.write_text('{"half', encoding="utf-8")
        raise RuntimeError("disk full")
    assert f.read_text(encoding="utf-8") == "{}"
    assert _hidden(tmp_path) == []


def test_writing_can_keep_an_extension_for_writers_that_read_it(tmp_path):
    with atomic.writing(tmp_path / "m.gif", ext=".gif") as tmp:
        assert tmp.suffix == ".gif"
        tmp.write_bytes(b"GIF89a")
    assert (tmp_path / "m.gif").read_bytes() == b"GIF89a"


def test_writing_over_a_folder_is_an_error_that_keeps_the_folder(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "x").write_text("x", encoding="utf-8")
    with pytest.raises(IsADirectoryError):
        atomic.write_text(d, "text")
    assert (d / "x").read_text(encoding="utf-8") == "x"


def test_the_next_write_removes_temporaries_of_dead_processes_only(tmp_path):
    dead, live = _dead_pid(), os.getppid()
    stale = [tmp_path / f".a.txt.{dead}.x1.tmp", tmp_path / f".a.txt.{dead}.x2.tmp.gif",
             tmp_path / f".a.txt.old-{dead}"]
    kept = [tmp_path / f".a.txt.{live}.x3.tmp",   # a live process's
            tmp_path / f".b.txt.{dead}.x4.tmp",   # another target's
            tmp_path / ".a.txt.notes"]            # not a temporary name
    for p in stale + kept:
        p.write_text("x", encoding="utf-8")
    atomic.write_text(tmp_path / "a.txt", "a")
    assert [p.exists() for p in stale] == [False] * 3
    assert [p.exists() for p in kept] == [True] * 3


def test_clean_false_leaves_other_temporaries_alone(tmp_path):
    stale = tmp_path / f".a.txt.{_dead_pid()}.x1.tmp"
    stale.write_text("x", encoding="utf-8")
    atomic.write_text(tmp_path / "a.txt", "a", clean=False)
    assert stale.exists()


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077, 0o002])
def test_files_and_folders_get_the_umasks_mode(tmp_path, mask):
    old = os.umask(mask)
    try:
        assert atomic.umask() == mask
        atomic.write_text(tmp_path / "f.txt", "x")
        with atomic.writing(tmp_path / "g.bin") as tmp:
            tmp.write_bytes(b"x")
        with atomic.folder(tmp_path / "d") as tmp:
            (tmp / "inner.txt").write_text("x", encoding="utf-8")
    finally:
        os.umask(old)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (tmp_path / "g.bin").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o777 & ~mask
    assert (tmp_path / "d" / "inner.txt").stat().st_mode & 0o777 == 0o666 & ~mask


def test_reading_the_umask_does_not_set_it_where_proc_tells_it(monkeypatch):
    """Setting the umask to read it leaves it at 0 for a moment, when another thread's new file
    would get mode 0666: on Linux it is read from /proc instead."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc: the portable (set and reset) reading is used")
    old = os.umask(0o027)
    try:
        def forbidden(_mask: int) -> int:
            raise AssertionError("os.umask called")

        monkeypatch.setattr(atomic.os, "umask", forbidden)
        assert atomic.umask() == 0o027
    finally:
        monkeypatch.undo()
        os.umask(old)


def test_a_folder_replaces_the_old_one_only_when_complete(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "old.txt").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic.folder(out) as tmp:
        (tmp / "new.txt").write_text("half", encoding="utf-8")
        raise RuntimeError("killed")
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    with atomic.folder(out) as tmp:
        (tmp / "new.txt").write_text("new", encoding="utf-8")
    assert [p.name for p in out.iterdir()] == ["new.txt"]
    assert _hidden(tmp_path) == []

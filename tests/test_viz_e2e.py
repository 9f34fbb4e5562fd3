"""`negsim viz` in a real browser: headless Chromium drives the served page.

The server is started exactly as ``negsim viz`` starts it (same command and environment) on a
free port, polled until it answers (bounded), and always stopped. The browser changes levers,
resets, steps and plays the model, and checks what the page shows; a bad scenario file must show
the schema's error, not a traceback. Set ``NEGSIM_VIZ_SCREENSHOT=path.png`` to keep the
screenshot (docs/figures/viz.png was made that way); otherwise it goes to pytest's tmp folder.

Skipped, with the reason, only when no Chromium is installed (``.ci/run`` installs Debian's).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis.viz.cli import server_command, server_env
from tests.conftest import BASELINE

CHROMIUM = os.environ.get("NEGSIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_S = 120.0   # readiness bound on a busy 2-core machine (not a speed assertion)
UI_TIMEOUT_MS = 120_000

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no chromium at {CHROMIUM}: install Debian's `chromium` package (.ci/run does)",
                allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("viz") / "server.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(server_command(port), env=server_env(BASELINE), stdout=fh,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server not ready within {SERVER_START_S:.0f} s:\n{log.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture()
def page(server: str):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pg = browser.new_page(viewport={"width": 1600, "height": 1250})
            pg.set_default_timeout(UI_TIMEOUT_MS)
            pg.goto(server)
            pg.wait_for_selector(".negsim-state")
            yield pg
        finally:
            browser.close()


def _points(pg) -> int:
    m = re.match(r"(\d+) points plotted", pg.inner_text(".negsim-points"))
    assert m, pg.inner_text(".negsim-points")
    return int(m.group(1))


def _wait_text(pg, selector: str, pattern: str) -> str:
    """Wait until the element's text matches ``pattern`` (regex); return the text."""
    pg.wait_for_function(
        "([sel, pat]) => { const e = document.querySelector(sel);"
        " return e !== null && new RegExp(pat).test(e.innerText); }",
        arg=[selector, pattern])
    return pg.inner_text(selector)


def test_levers_step_and_play_change_what_the_page_shows(page, tmp_path):
    pg = page
    state0 = _wait_text(pg, ".negsim-state", r"^Day 0\.00 .*no talks")
    assert _points(pg) == 1
    assert "bombardment capacity 30 strikes/day" in pg.inner_text("body")

    # levers: offer safe passage; bombardment slider to its maximum; then Reset
    pg.get_by_text("Safe passage offered").click()
    slider = pg.get_by_role("slider").last
    slider.focus()
    slider.press("End")
    pg.get_by_role("button", name="Reset").click()
    _wait_text(pg, "body", r"safe passage yes.*bombardment capacity 200 strikes/day")
    assert "safe passage offered" in pg.inner_text("body")

    # Step: one tick (6 h) -> one more point on the displaced chart
    pg.get_by_role("button", name="Step").click()
    _wait_text(pg, ".negsim-state", r"^Day 0\.25 ")
    assert _points(pg) == 2

    # Play until the talks open, then pause
    pg.get_by_role("button", name="▶").click()
    state = _wait_text(pg, ".negsim-state", r"negotiation state (?!no talks)")
    pg.get_by_role("button", name="❚❚").click()
    sync_api.expect(pg.get_by_role("button", name="Step")).to_be_enabled()  # paused
    assert state != state0
    assert _points(pg) > 2
    shot = Path(os.environ.get("NEGSIM_VIZ_SCREENSHOT") or tmp_path / "viz.png")
    pg.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_bad_scenario_file_shows_the_schema_error_not_a_traceback(page, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{BASELINE.as_posix()}"\n[mediator]\nphasez = 2\n', encoding="utf-8")
    box = page.get_by_label("Scenario file (press Enter, then Reset)")
    box.fill(str(bad))
    box.press("Enter")
    page.get_by_role("button", name="Reset").click()
    text = _wait_text(page, ".negsim-error", r"unknown field")
    assert "mediator.phasez" in text and "did you mean 'phases'" in text
    assert "Traceback" not in page.inner_text("body")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_the_server_child_dies_with_negsim_viz(tmp_path, sig):
    """`negsim viz` killed by its PID (even kill -9) takes its solara child with it: nothing is
    left serving on the port."""
    psutil = pytest.importorskip("psutil")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    log = (tmp_path / "viz.log").open("w")
    parent = subprocess.Popen([sys.executable, "-m", "sim", "--quiet", "viz", str(BASELINE), "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    children = []
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            assert parent.poll() is None, (tmp_path / "viz.log").read_text()
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "server not ready"
            time.sleep(0.5)
        children = psutil.Process(parent.pid).children(recursive=True)
        assert children, "negsim viz serves from a child process"
        parent.send_signal(sig)
        parent.wait(timeout=30)
        gone, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, f"left running: {[p.pid for p in alive]}"
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
            s.bind(("127.0.0.1", port))  # nothing listens on the port any more
    finally:
        for p in [*children]:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        if parent.poll() is None:
            parent.kill()
        parent.wait(timeout=30)
        log.close()

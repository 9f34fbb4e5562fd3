"""``negsim viz [SCENARIO] [--port 8765]``: serve the browser app on 127.0.0.1.

Runs ``solara run analysis/viz/app.py`` (assets served locally, no telemetry) in a child process
and waits for it; Ctrl-C stops it. The scenario file is checked first, so a bad file is a clear
error (exit code 2) before any server starts; in the page, a bad file chosen later is shown there.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sim.errors import ScenarioError
from sim.scenario.loader import default_scenarios_dir, load_scenario

HOST = "127.0.0.1"
APP = Path(__file__).resolve().with_name("app.py")


def server_command(port: int, host: str = HOST) -> list[str]:
    """The command line that serves the app (what ``negsim viz`` runs)."""
    return [sys.executable, "-m", "solara", "run", str(APP), "--host", host, "--port", str(port),
            "--no-open", "--production", "--no-check-version"]


def server_env(scenario: Path) -> dict[str, str]:
    """Environment for the server: the scenario for the page, no telemetry, our code importable."""
    from analysis.viz.model import SCENARIO_ENV

    env = dict(os.environ)
    env[SCENARIO_ENV] = str(scenario.resolve())
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def port_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as the server binds: a port whose last server just stopped (TIME_WAIT) is free
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("viz", help="explore a scenario in the browser (Mesa SolaraViz)",
                       description="Serve an interactive page on http://127.0.0.1:PORT/: a map of "
                                   "the case area, live charts, the negotiation state and events, "
                                   "and controls for the scenario levers. Ctrl-C stops it.")
    p.add_argument("scenario", type=Path, nargs="?", default=None,
                   help="scenario TOML file (default scenarios/baseline.toml)")
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    p.set_defaults(func=cmd_viz)


def cmd_viz(args: argparse.Namespace) -> int:
    scenario = args.scenario or default_scenarios_dir() / "baseline.toml"
    load_scenario(scenario)  # a bad file: ScenarioError, exit 2, before any server starts
    if not 1 <= args.port <= 65535:
        raise ScenarioError(f"--port must be 1..65535, got {args.port}", field="--port")
    if not port_free(args.port):
        raise ScenarioError(f"port {args.port} on {HOST} is in use", field="--port",
                            fix="pick another, e.g. --port 8766")
    if not args.quiet:
        print(f"negsim viz: serving {scenario} at http://{HOST}:{args.port}/ (Ctrl-C stops)",
              flush=True)
    proc = subprocess.Popen(server_command(args.port), env=server_env(Path(scenario)),
                            preexec_fn=die_with_parent(os.getpid()))
    try:
        return proc.wait()
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (sim.cli turns it into KeyboardInterrupt)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 130
    finally:
        if proc.poll() is None:  # any other way out of here: never leave the server behind
            proc.kill()


def die_with_parent(parent: int) -> Callable[[], None] | None:
    """For ``Popen(preexec_fn=...)``: the server child is killed when ``negsim viz`` dies, even
    by ``kill -9`` (Linux ``PR_SET_PDEATHSIG``); elsewhere None (Ctrl-C and SIGTERM still stop
    it through the parent)."""
    if not sys.platform.startswith("linux"):
        return None

    def arm() -> None:  # runs in the child between fork and exec
        import ctypes
        import signal

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return arm

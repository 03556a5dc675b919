"""Screenshot a Papertide page, served from the built-in demo data, with headless Chromium.

python scripts/screenshot.py                       # docs/screenshot-daily.png
python scripts/screenshot.py --path /papers/2608.16590 --out /tmp/paper.png --width 390
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from papertide.config import Settings
from papertide.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def serve_demo(data_dir: Path) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Start the app on the demo data in a background thread; return it and its URL."""
    app = create_app(Settings(data_dir=data_dir, load_demo=True))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/", help="page to open (default: the daily feed)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot-daily.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--full-page", action="store_true", help="capture the whole page")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as data_dir:
        server, thread, base_url = serve_demo(Path(data_dir))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=args.chromium, args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": args.width, "height": args.height})
                page.goto(base_url + args.path, wait_until="networkidle")
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out), full_page=args.full_page)
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

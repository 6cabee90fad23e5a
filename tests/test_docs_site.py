"""The documentation site, checked in a real browser.

Reuses build/site (``make docs``) or builds the site when Sphinx is importable; skipped when
neither, or when Chromium (Debian's ``chromium`` package) is absent. Every internal link and
image of every built page must exist, no page may load anything from the network (the site is
offline), and headless Chromium, pointed at a server this test starts on 127.0.0.1, must render
the home page and an API page with every resource they request found.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILT = ROOT / "build" / "site"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []  # (tag, url)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key) is not None:
                self.refs.append((tag, attrs[key]))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if _chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    if (BUILT / "index.html").exists():
        return BUILT
    pytest.importorskip("sphinx", reason="no build/site and no Sphinx to build it (make docs)")
    out = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", "-d",
                    str(out / ".doctrees"), str(ROOT / "docs"), str(out)], check=True)
    return out


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_every_internal_link_and_image_exists_and_nothing_is_fetched(site):
    pages = sorted(p.resolve() for p in site.rglob("*.html"))
    assert len(pages) > 20
    parsed = {page: _parse(page) for page in pages}
    ids = {page: parsed[page].ids for page in pages}
    broken, external = [], []
    for page in pages:
        for tag, url in parsed[page].refs:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "mailto") or url.startswith("//"):
                if tag in ("img", "script") or (tag == "link" and "stylesheet" in url):
                    external.append(f"{page.name}: <{tag}> {url}")
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.name}: <{tag}> {url}")
            elif parts.fragment and target.suffix == ".html" and \
                    parts.fragment not in ids.get(target, ()):
                broken.append(f"{page.name}: <{tag}> {url} (no such anchor)")
    assert not broken, "\n".join(broken)
    assert not external, "\n".join(external)


class _Handler(http.server.SimpleHTTPRequestHandler):
    missing: list[str]

    def log_message(self, *args) -> None:  # (quiet)
        pass

    def send_error(self, code, *args, **kwargs):
        if self.path != "/favicon.ico":  # (asked for by every browser, linked by no page)
            self.missing.append(f"{code} {self.path}")
        super().send_error(code, *args, **kwargs)


@pytest.fixture(scope="module")
def server(site):
    missing: list[str] = []
    handler = type("Handler", (_Handler,), {"missing": missing})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", missing
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


def _browse(url: str, profile: Path, *extra: str) -> str:
    result = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", "--virtual-time-budget=5000", *extra, url],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_browser_renders_the_home_page_and_an_api_page(server, tmp_path):
    base, missing = server
    home = _browse(f"{base}/index.html", tmp_path / "profile", "--dump-dom")
    assert "Automatic differentiation on NumPy" in home
    assert "<img" in home and "sin_and_derivative.png" in home  # (fetched: see `missing`)
    for page in ("getting-started.html", "tutorials/chapter.html", "api/index.html"):
        assert page in home  # the contents reach every part
    api = _browse(f"{base}/api/chainrule.html", tmp_path / "profile", "--dump-dom")
    text = " ".join(api.split())
    assert 'id="chainrule.sin"' in api
    assert "Trigonometric sine, element-wise." in text
    assert "*args, **params" not in text and "*args, **kwargs" not in text
    shot = tmp_path / "home.png"
    _browse(f"{base}/index.html", tmp_path / "profile", f"--screenshot={shot}",
            "--window-size=1280,900")
    assert shot.stat().st_size > 10_000  # a page was drawn, not a blank one
    assert not missing, f"the browser asked for resources the site lacks: {missing}"

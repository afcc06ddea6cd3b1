"""``gans demo RUN_DIR``: the seed's app as a local page. Pick a resolution and a seed, see faces.

A page as small as serves, on Python's own ``http.server`` (no extra package):

- ``GET /``: the form (resolution, seed, number of faces) and the faces it last asked for;
- ``GET /faces.png?resolution=R&seed=S&n=N``: a PNG of ``n`` generated faces (at most 64) from the
  run's generator of resolution ``R`` (:func:`gans.training.steps.run_generator`), z drawn
  from ``seed``. With ``n=1`` the PNG is exactly ``R x R`` pixels, as the app showed it; with more,
  a grid of them with 1-pixel gaps.

Generators are loaded (safe mode) once per resolution and kept.
"""

from __future__ import annotations

import html
import io
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np

from gans.errors import ConfigError, GansError

log = logging.getLogger(__name__)
MAX_FACES = 64


class FaceMaker:
    """The run's generators by resolution, loaded on first use; thread-safe."""

    def __init__(self, run_dir: str | Path):
        from gans.training.steps import run_generator, run_resolutions

        self.run_dir = Path(run_dir)
        self.resolutions = run_resolutions(self.run_dir)
        if not self.resolutions:
            run_generator(self.run_dir)  # raises the clear error
        self._models: dict = {}
        self._lock = threading.Lock()

    def png(self, resolution: int, seed: int, n: int = 1) -> bytes:
        """``n`` faces at ``resolution`` from ``seed``, as PNG bytes."""
        from gans.export import check_generator
        from gans.models import load_generator
        from gans.training.steps import run_generator
        from gans.visualize import tile_images

        if resolution not in self.resolutions:
            raise ConfigError(f"resolution {resolution} is not in this run; it has {self.resolutions}.")
        if not 1 <= n <= MAX_FACES or seed < 0:
            raise ConfigError(f"n must be 1-{MAX_FACES} and seed >= 0, got n={n}, seed={seed}.")
        with self._lock:
            model = self._models.get(resolution)
            if model is None:
                model = self._models[resolution] = load_generator(run_generator(self.run_dir, resolution))
            latent, _ = check_generator(model)
            z = np.random.default_rng(seed).standard_normal((n, latent), dtype=np.float32)
            images = np.asarray(model(z, training=False))
        grid = tile_images(images, pad=0 if n == 1 else 1)
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(buffer, format="PNG")
        return buffer.getvalue()


def _page(maker: FaceMaker, resolution: int, seed: int, n: int) -> str:
    options = "".join(f'<option value="{r}"{" selected" if r == resolution else ""}>{r} x {r}</option>'
                      for r in maker.resolutions)
    shown = max(256, resolution)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>gans demo: {html.escape(maker.run_dir.name)}</title>
<style>body{{font-family:sans-serif;margin:2em}} img{{image-rendering:pixelated;width:{shown}px}}</style></head>
<body><h1>Faces of people who do not exist</h1>
<p>Generator of <code>{html.escape(str(maker.run_dir))}</code>.</p>
<form method="get" action="/">
<label>Resolution <select name="resolution">{options}</select></label>
<label>Seed <input type="number" name="seed" min="0" value="{seed}"></label>
<label>Faces <input type="number" name="n" min="1" max="{MAX_FACES}" value="{n}"></label>
<button type="submit">Generate</button></form>
<p><img id="faces" alt="generated faces" src="/faces.png?resolution={resolution}&amp;seed={seed}&amp;n={n}"></p>
</body></html>"""


def make_server(run_dir: str | Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """The demo's HTTP server (not started); ``port=0`` picks a free port (``server.server_port``)."""
    maker = FaceMaker(run_dir)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            log.debug("%s " + format, self.address_string(), *args)

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 (http.server's name)
            url = urlparse(self.path)
            query = parse_qs(url.query)
            try:
                resolution = int(query.get("resolution", [maker.resolutions[-1]])[0])
                seed = int(query.get("seed", ["0"])[0])
                n = int(query.get("n", ["1"])[0])
                if url.path == "/":
                    self._send(200, _page(maker, resolution, seed, n).encode(), "text/html; charset=utf-8")
                elif url.path == "/faces.png":
                    self._send(200, maker.png(resolution, seed, n), "image/png")
                else:
                    self._send(404, b"not found", "text/plain")
            except (ValueError, GansError) as exc:
                self._send(400, str(exc).encode(), "text/plain; charset=utf-8")

    return ThreadingHTTPServer((host, port), Handler)


def cmd_demo(args) -> int:
    """``gans demo RUN_DIR [--host H] [--port P]``: serve until interrupted."""
    server = make_server(args.run_dir, args.host, args.port)
    print(f"serving the faces of {args.run_dir} at http://{args.host}:{server.server_port}/ (Ctrl-C stops)",
          flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0

"""``gans demo RUN_DIR``: the seed's app as a local page. Pick a resolution and a seed, see faces.

A page as small as serves, on Python's own ``http.server`` (no extra package):

- ``GET /?resolution=R&seed=S&n=N``: the form (resolution, seed, number of faces) and the faces it
  asks for. Once the image has loaded, the page writes its natural size and a digest of its pixels
  into ``#status`` (``data-width``, ``data-height``, ``data-digest``), which a browser test reads;
- ``GET /faces.png?resolution=R&seed=S&n=N``: a PNG of ``n`` generated faces from the run's generator
  of resolution ``R`` (:func:`gans.training.steps.run_generator`). With ``n=1`` the PNG is
  exactly ``R x R`` pixels, as the app showed it; with more, a grid of them with 1-pixel gaps;
- ``GET /contract.json?resolution=R``: the app contract of that generator
  (:func:`gans.export.memory_contract`), the one ``gans export`` writes beside a file.

Every face is made as an app makes it from an export: the generator followed by ``ToPixels``
(:func:`gans.export.app_model`), called once per face with a ``z`` of the contract's input shape (one
row of standard normal values drawn from ``seed``), its output read in the contract's pixel range.

A request is bounded: ``n`` from 1 to :data:`MAX_FACES` and at most :data:`MAX_PIXELS` pixels of faces
(4 faces at 256x256), a resolution the run has, a seed from 0 to :data:`MAX_SEED`. A bad request gets
status 400 and one short line of plain text naming the parameter and what it accepts. The server
listens on 127.0.0.1 unless ``--host`` says otherwise (with a warning: the page has no
authentication). Generators are loaded (safe mode) once per resolution and kept.
"""

from __future__ import annotations

import errno
import html
import io
import json
import logging
import math
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from gans.errors import ConfigError, GansError

log = logging.getLogger(__name__)
MAX_FACES = 64
MAX_PIXELS = 64 * 64 * 64  # per request: 64 faces at 64x64, 16 at 128x128, 4 at 256x256
MAX_SEED = 2 ** 32 - 1
MAX_PORT = 65535
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_port(port) -> int:
    """A TCP port to listen on, 0 to 65535 (0: the system picks a free one).

    Raises:
        ConfigError: anything else.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= MAX_PORT:
        raise ConfigError(f"--port must be a whole number from 0 to {MAX_PORT} (0 picks a free port), got {port!r}.")
    return port


class BadRequest(GansError):
    """A request the page refuses (HTTP 400): one short line naming the parameter."""


def _whole(query: dict, name: str, default: int, allowed, rule: str) -> int:
    """The parameter ``name`` of a query as an int in ``allowed`` (a range or a list), ``default`` when
    absent, or a :class:`BadRequest` saying ``name must be RULE, got VALUE``."""
    values = query.get(name)
    if not values:
        return default
    text = values[0].strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12 or int(text) not in allowed:
        shown = text if len(text) <= 20 else text[:17] + "..."
        raise BadRequest(f"{name} must be {rule}, got {shown!r}.")
    return int(text)


def parse_request(query: dict, resolutions: list[int]) -> tuple[int, int, int]:
    """(resolution, seed, n) of a query (``parse_qs``'s dict), each checked, or a :class:`BadRequest`."""
    resolution = _whole(query, "resolution", resolutions[-1], resolutions,
                        f"one of this run's {', '.join(map(str, resolutions))}")
    seed = _whole(query, "seed", 0, range(MAX_SEED + 1), f"a whole number from 0 to {MAX_SEED}")
    most = max_faces(resolution)
    n = _whole(query, "n", 1, range(1, MAX_FACES + 1), f"a whole number from 1 to {MAX_FACES}")
    if n > most:
        raise BadRequest(f"n must be at most {most} at {resolution}x{resolution} (a request makes at most "
                         f"{MAX_PIXELS:,} pixels of faces), got {n}.")
    return resolution, seed, n


def max_faces(resolution: int) -> int:
    """The most faces one request makes at ``resolution``."""
    return max(1, min(MAX_FACES, MAX_PIXELS // (resolution * resolution)))


class FaceMaker:
    """The run's generators by resolution as app models, loaded on first use; thread-safe."""

    def __init__(self, run_dir: str | Path):
        from gans.training.steps import run_generator, run_resolutions

        self.run_dir = Path(run_dir)
        self.resolutions = run_resolutions(self.run_dir)
        if not self.resolutions:
            run_generator(self.run_dir)  # raises the clear error
        self._models: dict = {}
        self._lock = threading.Lock()

    def app(self, resolution: int) -> tuple:
        """(app model, contract) of the run's generator at ``resolution``."""
        from gans.export import app_model, memory_contract
        from gans.models import load_generator
        from gans.training.steps import checkpoint_origin, run_generator

        with self._lock:
            if resolution not in self._models:
                path = run_generator(self.run_dir, resolution)
                model = app_model(load_generator(path))
                self._models[resolution] = (model, memory_contract(model, checkpoint_origin(path)))
            return self._models[resolution]

    def faces(self, resolution: int, seed: int, n: int = 1):
        """``n`` faces (uint8, (n, R, R, C)) at ``resolution`` from ``seed``, each made by one call of
        the app model as its contract says."""
        import numpy as np

        model, contract = self.app(resolution)
        rng = np.random.default_rng(seed)
        low, high = contract["output"]["range"]
        shape, dtype = tuple(contract["input"]["shape"]), contract["input"]["dtype"]
        faces = []
        for _ in range(n):
            z = rng.standard_normal(shape).astype(dtype)
            pixels = np.asarray(model(z, training=False))
            faces.append(np.clip(np.rint((pixels[0] - low) * 255.0 / (high - low)), 0, 255).astype(np.uint8))
        return np.stack(faces)

    def png(self, resolution: int, seed: int, n: int = 1) -> bytes:
        """``n`` faces at ``resolution`` from ``seed``, as PNG bytes (checked as a request is)."""
        from PIL import Image

        from gans.visualize import tile_images

        parse_request({"resolution": [str(resolution)], "seed": [str(seed)], "n": [str(n)]}, self.resolutions)
        grid = tile_images(self.faces(resolution, seed, n), pad=0 if n == 1 else 1)
        buffer = io.BytesIO()
        Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(buffer, format="PNG")
        return buffer.getvalue()


# The page's script: once the image has loaded, its natural size and an FNV-1a digest of its pixels
# (read through a canvas) go into #status, where a person reads them and a headless browser's DOM
# dump carries them to a test. The image's size on screen follows the contract's output shape.
_SCRIPT = """
(() => {
  const img = document.getElementById("faces"), note = document.getElementById("status");
  function digest(image) {
    const canvas = document.createElement("canvas");
    canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    const bytes = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let h = 0x811c9dc5;
    for (let i = 0; i < bytes.length; i++) { h ^= bytes[i]; h = Math.imul(h, 0x01000193) >>> 0; }
    return h.toString(16).padStart(8, "0");
  }
  function loaded() {
    note.dataset.width = img.naturalWidth; note.dataset.height = img.naturalHeight;
    note.dataset.digest = digest(img);
    note.textContent = `${img.naturalWidth} x ${img.naturalHeight} pixels, digest ${note.dataset.digest}`;
  }
  img.addEventListener("error", () => { note.dataset.error = "1"; note.textContent = "the image did not load"; });
  if (img.complete && img.naturalWidth) loaded(); else img.addEventListener("load", loaded);
})();
"""


def _page(maker: FaceMaker, contract: dict, resolution: int, seed: int, n: int) -> str:
    options = "".join(f'<option value="{r}"{" selected" if r == resolution else ""}>{r} x {r}</option>'
                      for r in maker.resolutions)
    side = contract["output"]["shape"][1]
    cols = math.ceil(math.sqrt(n))  # gans.visualize.tile_images' grid, 1-pixel gaps
    width = side if n == 1 else cols * (side + 1) + 1
    shown = width * max(1, (256 if n == 1 else 512) // width)  # whole-pixel enlargement
    source = contract.get("source") or {}
    origin = f"step {source['step']}, " if source.get("step") else ""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>gans demo: {html.escape(maker.run_dir.name)}</title>
<style>body{{font-family:sans-serif;margin:2em}} #faces{{image-rendering:pixelated;width:{shown}px}}</style></head>
<body><h1>Faces of people who do not exist</h1>
<p>Generator of <code>{html.escape(str(maker.run_dir))}</code> at {side} x {side} ({html.escape(origin)}z of
{contract["latent_dim"]} standard normal values, pixels in {contract["output"]["range"]}).</p>
<form method="get" action="/">
<label>Resolution <select name="resolution">{options}</select></label>
<label>Seed <input type="number" name="seed" min="0" max="{MAX_SEED}" value="{seed}"></label>
<label>Faces <input type="number" name="n" min="1" max="{max_faces(resolution)}" value="{n}"></label>
<button type="submit">Generate</button></form>
<p><img id="faces" alt="generated faces" src="/faces.png?resolution={resolution}&amp;seed={seed}&amp;n={n}"></p>
<p id="status">loading...</p>
<script>{_SCRIPT}</script>
</body></html>"""


def make_server(run_dir: str | Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """The demo's HTTP server (not started); ``port=0`` picks a free port (``server.server_port``).

    Raises:
        ConfigError: the port is out of range or taken, or the host is not an address of this machine.
        DataNotFoundError: ``run_dir`` is not a progressive run with per-phase generators.
    """
    check_port(port)
    server = _listen(host, port)  # before any model work: a taken port is answered at once
    try:
        maker = FaceMaker(run_dir)
    except BaseException:
        server.server_close()
        raise

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            log.debug("%s " + format, self.address_string(), *args)

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _text(self, status: int, line: str) -> None:
            self._send(status, (line + "\n").encode(), "text/plain; charset=utf-8")

        def do_GET(self):  # noqa: N802 (http.server's name)
            url = urlparse(self.path)
            if len(url.query) > 200:
                return self._text(400, "the query is too long; it takes resolution, seed and n.")
            query = parse_qs(url.query)
            try:
                if url.path == "/":
                    resolution, seed, n = parse_request(query, maker.resolutions)
                    body = _page(maker, maker.app(resolution)[1], resolution, seed, n)
                    self._send(200, body.encode(), "text/html; charset=utf-8")
                elif url.path == "/faces.png":
                    self._send(200, maker.png(*parse_request(query, maker.resolutions)), "image/png")
                elif url.path == "/contract.json":
                    resolution, _, _ = parse_request(query, maker.resolutions)
                    self._send(200, json.dumps(maker.app(resolution)[1], indent=1).encode(), "application/json")
                else:
                    self._text(404, f"no page {url.path[:60]!r}; the demo serves /, /faces.png and /contract.json.")
            except BadRequest as exc:
                self._text(400, str(exc))
            except Exception:  # a damaged checkpoint, a bug: logged here, never a dropped connection
                log.exception("request %s failed", self.path[:200])
                self._text(500, "the faces could not be made; the demo's log says why.")

    server.RequestHandlerClass = Handler
    return server


def _listen(host: str, port: int) -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (its handler set by the caller), or one clear ConfigError."""
    try:
        return ThreadingHTTPServer((host, port), BaseHTTPRequestHandler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is already in use by another program; pass another --port, "
                              "or --port 0 to pick a free one.") from None
        if exc.errno == errno.EACCES:
            raise ConfigError(f"port {port} needs administrator rights; pass --port 1024 or above (or 0 for any free "
                              "one).") from None
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); --host must be an address of "
                          "this machine (default 127.0.0.1).") from None


def cmd_demo(args) -> int:
    """``gans demo RUN_DIR [--host H] [--port P]``: serve until interrupted."""
    server = make_server(args.run_dir, args.host, args.port)
    if args.host not in LOCAL_HOSTS:
        warnings.warn(f"--host {args.host} makes the demo reachable from other machines, and it has no "
                      "authentication; leave --host out to keep it on this machine (127.0.0.1).", stacklevel=1)
    print(f"serving the faces of {args.run_dir} at http://{args.host}:{server.server_port}/ (Ctrl-C stops)",
          flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0

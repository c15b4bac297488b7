"""Uploads cannot exhaust the server's memory (issue 13, finding 4).

Before: a 105 KB PNG of 6000x6000 zeros (under the old 40 Mpx limit) grew the server from 339 MB to 1,005 MB; four
at once peaked at 3.2 GB. Now the pixel cap suits reference images (16.8 Mpx, checked from the header before any
pixel is decoded), decoding runs one at a time with one copy of the pixels, and big JPEGs are decoded downscaled.
Measured on a real ``dreamina serve`` process: its peak resident size (``VmHWM``) while four such uploads arrive at
once, and while four of the largest accepted images do.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

from PIL import Image

from tests.loopback import http

from .test_serve_process import _sign_up, _start_serve

BUDGET_BYTES = 300 * 1024 * 1024


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height)).save(out, "PNG", optimize=True)
    return out.getvalue()


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _at_once(base: str, headers: dict[str, str], files: list[bytes]) -> list[int]:
    statuses: list[int] = [0] * len(files)

    def send(n: int) -> None:
        response = http.post(
            f"{base}/v1/uploads", files={"file": ("i.png", files[n], "image/png")}, headers=headers, timeout=120
        )
        statuses[n] = response.status_code

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(files))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_four_decompression_bombs_and_four_big_images_at_once_stay_within_budget(tmp_path: Path) -> None:
    bomb = _png(6000, 6000)  # about 100 KB of zeros: 36 Mpx
    largest = _png(4096, 4096)  # the largest image accepted as it is
    phone = _jpeg(8000, 6000)  # a 48 Mpx phone photo: decoded downscaled, not refused
    process, base, _, log_file = _start_serve(tmp_path)
    try:
        headers = _sign_up(base, "uploader@example.com")
        assert _at_once(base, headers, [_png(64, 64)]) == [201]  # warm: every module imported, pools made
        baseline = _peak_rss(process.pid)

        assert _at_once(base, headers, [bomb] * 4) == [413] * 4
        assert _at_once(base, headers, [largest] * 4) == [201] * 4
        assert _at_once(base, headers, [phone] * 2) == [201] * 2
        grown = _peak_rss(process.pid) - baseline
        print(f"peak resident size grew by {grown / 2**20:.0f} MiB")  # the figure for the README and notes
        assert grown < BUDGET_BYTES, f"the server grew by {grown / 2**20:.0f} MiB"
    finally:
        process.terminate()
        process.wait(timeout=20)
        log_file.close()

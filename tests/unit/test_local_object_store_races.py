"""The local object store's folders under ``tmp`` are shared by neighbouring keys, and a writer that finishes prunes
the folders it leaves empty. A writer that is creating the same folder at that moment must try again, whichever way
the race falls (CI saw ``FileExistsError`` from ``Path.mkdir(exist_ok=True)``: the folder existed when ``mkdir`` ran
and was pruned before ``is_dir`` looked)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from dreamina.adapters.object_store import LocalObjectStore


def pruned_between(monkeypatch: pytest.MonkeyPatch, folder: Path, error: type[OSError]) -> list[Path]:
    """Make the first ``mkdir`` of ``folder`` lose the race to a neighbour's prune: it sees ``error`` and the folder
    is gone when it looks again."""
    real_mkdir = os.mkdir
    raced: list[Path] = []

    def mkdir(path: os.PathLike[str] | str, mode: int = 0o777) -> None:
        if Path(path) == folder and not raced:
            real_mkdir(path, mode)  # its parent missing: pathlib makes that first and comes back
            raced.append(folder)
            os.rmdir(path)  # the neighbour's prune, between our mkdir and our look
            raise error(17 if error is FileExistsError else 2, os.strerror(17 if error is FileExistsError else 2))
        real_mkdir(path, mode)

    monkeypatch.setattr(os, "mkdir", mkdir)
    return raced


@pytest.mark.parametrize("error", [FileExistsError, FileNotFoundError])
@pytest.mark.parametrize("area", ["tmp", "objects", "meta"])
async def test_a_write_survives_a_neighbour_pruning_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: type[OSError], area: str
) -> None:
    store = LocalObjectStore(tmp_path / "store", b"k" * 32, "http://127.0.0.1:8000/files")
    await store.put("uploads/u/first.png", b"1", "image/png")
    await store.delete("uploads/u/first.png")  # every folder on the path existed once and is pruned now
    raced = pruned_between(monkeypatch, tmp_path / "store" / area / "uploads" / "u", error)

    await store.put("uploads/u/00917.png", b"917", "image/png")

    assert raced, "the race was not staged"
    assert await store.get("uploads/u/00917.png") == b"917"
    assert await store.content_type("uploads/u/00917.png") == "image/png"


async def test_a_file_where_a_folder_must_go_still_fails(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store", b"k" * 32, "http://127.0.0.1:8000/files")
    await store.put("a", b"1", "text/plain")
    with pytest.raises(ValueError, match="collides"):
        await store.put("a/b", b"2", "text/plain")


async def test_many_neighbours_written_at_once_all_land(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store", b"k" * 32, "http://127.0.0.1:8000/files")
    keys = [f"uploads/u/{i:05d}.png" for i in range(400)]
    await asyncio.gather(*(store.put(key, key.encode(), "text/plain") for key in keys))
    assert await store.list("uploads/u") == keys


async def test_a_stream_cancelled_while_its_partial_file_is_being_made_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI saw ``exports/s/cancelled.zip`` listed as unfinished after its writer was cancelled: the cancel landed while
    the thread making the partial file was still running, so the file appeared after the writer had gone."""
    store = LocalObjectStore(tmp_path / "store", b"k" * 32, "http://127.0.0.1:8000/files")
    made, may_return = asyncio.Event(), __import__("threading").Event()
    loop = asyncio.get_running_loop()
    real_open = store._open_temporary

    def slow_open(key: str) -> object:
        opened = real_open(key)  # the partial file exists now: a listing shows the upload as unfinished
        loop.call_soon_threadsafe(made.set)
        may_return.wait(5)
        return opened

    monkeypatch.setattr(store, "_open_temporary", slow_open)

    async def chunks() -> object:
        yield b"never written"

    writer = asyncio.create_task(store.put_stream("exports/s/cancelled.zip", chunks(), "application/zip"))
    await made.wait()
    assert await store.list_incomplete("") == ["exports/s/cancelled.zip"]
    writer.cancel()  # a worker stopping, while the thread is still inside the open
    await asyncio.sleep(0.05)
    may_return.set()
    with pytest.raises(asyncio.CancelledError):
        await writer
    assert await store.list_incomplete("") == []

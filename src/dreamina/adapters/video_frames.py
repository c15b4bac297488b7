""":class:`~dreamina.ports.moderation.VideoFrames` with PyAV (FFmpeg's decoders): the first, middle and last frame
of a video's first video stream, each scaled to at most ``max_side`` pixels and encoded as PNG, so that a video
output is checked by a moderator that takes images. Decoding runs in a thread; the video is read from memory (the
output screening holds it whole already) and frames are decoded in order, converting only the chosen ones."""

from __future__ import annotations

import asyncio
import io

from PIL import Image

from dreamina.ports.moderation import FramesUnavailable

MAX_FRAMES_DECODED = 20_000  # about 11 minutes at 30 frames per second: far beyond what a provider returns


class PyAvVideoFrames:
    def __init__(self, *, max_side: int = 512) -> None:
        self._max_side = max_side

    async def sample(self, data: bytes, content_type: str) -> list[bytes]:
        return await asyncio.to_thread(self._sample, data)

    def _sample(self, data: bytes, *, trust_header: bool = True) -> list[bytes]:
        import av  # slow to import; only video outputs need it

        try:
            count = self._count(data, trust_header)
            wanted = sorted({0, count // 2, count - 1})
            frames: list[bytes] = []
            with av.open(io.BytesIO(data), mode="r") as container:
                for index, frame in enumerate(container.decode(video=0)):
                    if index == wanted[len(frames)]:
                        frames.append(self._png(frame.to_image()))  # type: ignore[no-untyped-call]
                        if len(frames) == len(wanted):
                            break
        except (av.FFmpegError, ValueError, IndexError, OSError) as error:
            raise FramesUnavailable(f"the video could not be decoded ({type(error).__name__})") from None
        if len(frames) == len(wanted):
            return frames
        if trust_header:  # the header promised more frames than the stream holds: count them instead
            return self._sample(data, trust_header=False)
        raise FramesUnavailable("the video ended before its frames could be taken")

    def _count(self, data: bytes, trust_header: bool) -> int:
        """How many frames the first video stream has: from its header where it says, else by decoding them."""
        import av

        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise ValueError("no video stream")
            declared = container.streams.video[0].frames
            if declared > 0 and trust_header:
                return min(declared, MAX_FRAMES_DECODED)
            counted = 0
            for _ in container.decode(video=0):
                counted += 1
                if counted >= MAX_FRAMES_DECODED:
                    break
        if counted == 0:
            raise ValueError("no frames")
        return counted

    def _png(self, image: Image.Image) -> bytes:
        image = image.convert("RGB")
        image.thumbnail((self._max_side, self._max_side))
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()

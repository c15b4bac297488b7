"""What a module shows over HTTP: its routes, the statuses of its own domain errors, and the use cases its handlers
receive as dependencies (each read from the container by a path, so no handler ever sees the container)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from dreamina.bootstrap import Container
from dreamina.domain.privacy.errors import DomainError


@dataclass(frozen=True, slots=True)
class HttpFace:
    routes: Sequence[ControllerRouterHandler]
    problems: Mapping[type[DomainError], int] = field(default_factory=dict)
    dependencies: Mapping[str, Callable[[Container], object]] = field(default_factory=dict)


def _provider(path: Callable[[Container], object]) -> Provide:
    def provide(request: Request[Any, Any, Any]) -> Any:
        return path(request.app.state.container)

    return Provide(provide, sync_to_thread=False)


def joined_dependencies(faces: Iterable[HttpFace]) -> dict[str, Provide]:
    """Every face's dependencies as app-level providers; a name two modules both provide is refused."""
    joined: dict[str, Provide] = {}
    for face in faces:
        for name, path in face.dependencies.items():
            if name in joined:
                raise ValueError(f"dependency {name} is provided twice")
            joined[name] = _provider(path)
    return joined


def joined_problems(faces: Iterable[HttpFace]) -> dict[type[DomainError], int]:
    joined: dict[type[DomainError], int] = {}
    for face in faces:
        joined.update(face.problems)
    return joined

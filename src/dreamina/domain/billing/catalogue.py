"""What credits cost and what a generation costs, from configuration."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dreamina.domain.billing.errors import UnknownPack
from dreamina.domain.privacy.errors import InvalidInput

_PACK_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_CURRENCY = re.compile(r"^[a-z]{3}$")


@dataclass(frozen=True, slots=True)
class Pack:
    id: str
    name: str
    credits: int
    amount: int  # minor units (cents)
    currency: str  # ISO 4217, lower case


@dataclass(frozen=True, slots=True)
class GenerationPrices:
    """Credits per image output and per second of video."""

    image_per_output: int = 4
    video_per_second: int = 2

    def cost(self, kind: str, *, outputs: int = 1, seconds: int = 0) -> int:
        if kind == "image":
            return self.image_per_output * max(1, outputs)
        if kind == "video":
            return self.video_per_second * max(1, seconds)
        raise InvalidInput(f"unknown generation kind {kind!r}", field="kind")


def parse_packs(spec: str) -> tuple[Pack, ...]:
    """Parse ``id:credits:amount:currency[,...]`` (amount in minor units), e.g. ``starter:100:500:eur``."""
    packs: list[Pack] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        fields = item.split(":")
        if len(fields) != 4:
            raise ValueError(f"pack {item!r} must be id:credits:amount:currency")
        pack_id, credits, amount, currency = fields
        currency = currency.lower()
        if not _PACK_ID.match(pack_id) or not _CURRENCY.match(currency):
            raise ValueError(f"pack {item!r} has a malformed id or currency")
        if not (credits.isdigit() and amount.isdigit()) or int(credits) <= 0 or int(amount) <= 0:
            raise ValueError(f"pack {item!r} needs positive whole credits and amount")
        packs.append(
            Pack(pack_id, pack_id.replace("_", " ").replace("-", " ").title(), int(credits), int(amount), currency)
        )
    if len({p.id for p in packs}) != len(packs):
        raise ValueError("pack ids must be unique")
    return tuple(packs)


class Catalogue:
    def __init__(self, packs: tuple[Pack, ...]) -> None:
        self._packs = {p.id: p for p in packs}

    def packs(self) -> list[Pack]:
        return list(self._packs.values())

    def get(self, pack_id: str) -> Pack:
        pack = self._packs.get(pack_id) if isinstance(pack_id, str) else None
        if pack is None:
            raise UnknownPack("no credit pack has this id", field="pack_id")
        return pack

"""What the OpenAPI schema says about free text, in the terms the domain enforces it (``clean_text``).

The domain refuses control characters (a multi-line text keeps newlines and tabs), trims outer whitespace and then
counts: at least ``min_length``, at most ``max_length`` characters. :func:`stated_text` states exactly that as
``minLength``/``maxLength`` and a ``pattern``, so a schema-valid text is accepted and a text the schema refuses is
refused. The limits stay the domain's to enforce (a 422 ``invalid_input`` naming the field); the schema only says
them, from the same constants.
"""

from __future__ import annotations

from typing import Any

from msgspec import Meta

_CONTROL = r"\x00-\x1f\x7f-\x9f"
_CONTROL_BUT_LINES = r"\x00-\x08\x0b-\x1f\x7f-\x9f"  # multi-line text keeps \t and \n


def text_pattern(*, min_length: int, multiline: bool = False, refused: str | None = None) -> str:
    """A regular expression matching exactly the texts ``clean_text`` accepts (the upper bound aside); ``refused``
    replaces the refused control characters (a rule that refuses only NUL: ``"\\x00"``)."""
    control = refused if refused is not None else _CONTROL_BUT_LINES if multiline else _CONTROL
    allowed = f"[^{control}]"
    space = rf"[^\S{control}]"  # whitespace that is not a refused control character
    solid = rf"[^\s{control}]"  # a character that survives the trim
    if min_length <= 0:
        return f"^{allowed}*$"
    if min_length == 1:
        return rf"^{space}*{solid}(?:{allowed}*{solid})?{space}*$"
    return rf"^{space}*{solid}{allowed}{{{min_length - 2},}}{solid}{space}*$"


def stated_text(max_length: int, *, min_length: int = 0, multiline: bool = False, description: str = "") -> Meta:
    """The schema of a text the domain cleans with ``clean_text(min_length=..., max_length=..., multiline=...)``."""
    pattern = text_pattern(min_length=min_length, multiline=multiline)
    schema: dict[str, Any] = {"maxLength": max_length, "pattern": pattern}
    if min_length:
        schema["minLength"] = min_length
    note = f"{min_length} to {max_length} characters once trimmed; no control characters"
    said = f"{description} ({note})" if description else note
    # Litestar reads a field's description from ``extra_json_schema`` and copies its ``extra`` into the schema.
    return Meta(description=said, extra_json_schema={"description": said, "extra": schema})


def query_text(
    max_length: int, *, min_length: int = 0, multiline: bool = False, refused: str | None = None
) -> dict[str, Any]:
    """``schema_extra`` of a query parameter holding text the domain cleans (``QueryParameter(schema_extra=...)``)."""
    pattern = text_pattern(min_length=min_length, multiline=multiline, refused=refused)
    return {"minLength": min_length, "maxLength": max_length, "pattern": pattern}


def stated_email(description: str) -> Meta:
    """An address the domain checks with ``email-validator`` (422 otherwise): the schema says ``format: email``."""
    return Meta(description=description, extra_json_schema={"description": description, "extra": {"format": "email"}})


def stated(**schema: Any) -> Meta:
    """A domain limit the schema states (``minimum``, ``enum``, ...) and the domain enforces (422 naming the field)."""
    return Meta(extra_json_schema={"extra": schema})

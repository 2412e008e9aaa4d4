"""Option groups for typer commands: options several commands share, declared once as a dataclass.

A command parameter annotated with such a dataclass stands, in the command's signature as typer reads it,
for the dataclass's fields (each an ``Annotated`` typer option with its default), at the parameter's place;
the command is called with an instance built from those options.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

__all__ = ["option_groups"]


def option_groups(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` with each dataclass-typed parameter spread into the dataclass's fields, for typer."""
    hints = get_type_hints(command, include_extras=True)
    params: list[inspect.Parameter] = []
    groups: dict[str, tuple[type[Any], tuple[str, ...]]] = {}
    for param in inspect.signature(command).parameters.values():
        hint = hints[param.name]
        if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
            params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hint))
            continue
        fields = dataclasses.fields(hint)
        field_hints = get_type_hints(hint, include_extras=True)
        groups[param.name] = (hint, tuple(f.name for f in fields))
        params += [
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default,
                annotation=field_hints[f.name],
            )
            for f in fields
        ]

    @functools.wraps(command)
    def run(**kwargs: Any) -> None:
        for name, (group, names) in groups.items():
            kwargs[name] = group(**{n: kwargs.pop(n) for n in names})
        command(**kwargs)

    run.__annotations__ = {p.name: p.annotation for p in params}
    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return run

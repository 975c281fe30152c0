"""Problems a config or document check finds, each at its place: one mechanism for every loader.

Checks that need more than one field are `verify_*` functions returning `Finding`s; a model calls
its own from one validator and hands them to pydantic with `raise_findings`; the file loader (the
registry importer, the edge config reader) splits the error of type `CHECK_ERROR` back into one
problem per finding, with its YAML line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic_core import PydanticCustomError

logger = logging.getLogger(__name__)

CHECK_ERROR = "config_check"
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    """One problem found by a check, at `loc` (relative to the model that found it)."""

    loc: Loc
    message: str


def raise_findings(findings: list[Finding]) -> None:
    """Hand findings to pydantic as one error; the loader splits them back into problems."""
    if findings:
        raise PydanticCustomError(
            CHECK_ERROR,
            "{summary}",
            {
                "summary": "; ".join(f.message for f in findings),
                "findings": tuple((f.loc, f.message) for f in findings),
            },
        )

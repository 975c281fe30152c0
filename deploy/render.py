"""Fill in a template under deploy/ (nginx, coturn, systemd): `@NAME@` becomes the value given for NAME,
and a line holding `@*NAME@` is written once per comma-separated item of NAME (e.g. one `server` line
per central instance). Every placeholder needs a value and every value a placeholder, so a typo is
an error, not a silently wrong file. Standard library only: it runs before anything is installed.

    python3 deploy/render.py deploy/nginx/hallwatch.conf --set SERVER_NAME=hallwatch.example.gov.cn \\
        --set CENTRAL_UPSTREAMS=127.0.0.1:8001,127.0.0.1:8002 … -o /etc/nginx/sites-available/hallwatch

Each template lists its placeholders in its first comment lines.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"@(\*?)([A-Z][A-Z0-9_]*)@")


class RenderError(ValueError):
    """A template and its values do not fit: the message names what is missing, unknown or bad."""


def placeholders(template: str) -> set[str]:
    return {name for _, name in PLACEHOLDER.findall(template)}


def render(template: str, values: Mapping[str, str]) -> str:
    """The template with every placeholder filled in (RenderError when the values do not fit)."""
    verify_values(template, values)
    lines: list[str] = []
    for line in template.splitlines(keepends=True):
        repeated = {name for star, name in PLACEHOLDER.findall(line) if star}
        if len(repeated) > 1:
            raise RenderError(
                f"one line may repeat over one list only: {sorted(repeated)} in {line.strip()!r}"
            )
        if repeated:
            (name,) = repeated
            lines.extend(_fill(line, values, {name: item}) for item in _items(values[name], name))
        else:
            lines.append(_fill(line, values, {}))
    return "".join(lines)


def verify_values(template: str, values: Mapping[str, str]) -> None:
    wanted = placeholders(template)
    missing = sorted(wanted - values.keys())
    unknown = sorted(values.keys() - wanted)
    problems = []
    if missing:
        problems.append(f"no value for {', '.join(missing)}")
    if unknown:
        problems.append(f"no placeholder for {', '.join(unknown)} (a typo?)")
    problems += [f"the value of {name} spans lines" for name, value in values.items() if "\n" in value]
    if problems:
        raise RenderError("; ".join(problems))


def _items(value: str, name: str) -> list[str]:
    items = [item.strip() for item in value.split(",")]
    if not all(items):
        raise RenderError(f"{name} is a comma-separated list without empty items, not {value!r}")
    return items


def _fill(line: str, values: Mapping[str, str], items: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: items[m[2]] if m[1] else values[m[2]], line)


def render_file(template: Path, values: Mapping[str, str]) -> str:
    try:
        return render(template.read_text(encoding="utf-8"), values)
    except RenderError as exc:
        raise RenderError(f"{template}: {exc}") from exc


def _parse_sets(pairs: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise RenderError(f"--set takes NAME=VALUE, not {pair!r}")
        values[name] = value
    return values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("template", type=Path, help="a file under deploy/")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("-o", "--output", type=Path, help="write here (default: standard output)")
    args = parser.parse_args(argv)
    try:
        text = render_file(args.template, _parse_sets(args.sets))
    except (RenderError, OSError) as exc:
        print(f"render: {exc}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        logger.info("wrote %s", args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

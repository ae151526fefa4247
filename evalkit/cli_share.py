"""Command line for sharing personal data: ``evalkit share`` and ``evalkit keygen``.

``evalkit/cli.py`` registers both with::

    from .cli_share import register_share
    register_share(app)

Errors a user can cause print one clear message on stderr and exit with code 2; nothing
is written then.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from .errors import EvalkitError, ParameterError, format_list

__all__ = ["register_share", "share", "keygen"]

EXIT_BAD_INPUT = 2


def _fail(exc: EvalkitError) -> None:
    problems = getattr(exc, "problems", None)
    if problems and len(problems) > 1:
        typer.echo(f"{len(problems)} problems (nothing was written):", err=True)
        for line in problems:
            typer.echo(f"  - {line}", err=True)
    else:
        typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _parse_sources(entries: list[str]) -> dict[str, Path]:
    """NAME=FILE entries (or FILE, named by its stem), also comma-separated."""
    out: dict[str, Path] = {}
    for entry in entries:
        for part in (p.strip() for p in entry.split(",")):
            if not part:
                continue
            name, sep, path = part.partition("=")
            if not sep:
                name, path = Path(part).stem, part
            name, path = name.strip(), path.strip()
            if not name or not path:
                raise ParameterError(
                    f"--sources {part!r} is not NAME=FILE",
                    key="--sources",
                    expected="maternity=maternity.csv",
                )
            if name in out:
                raise ParameterError(
                    f"source {name!r} is given twice", key="--sources", expected="each source once"
                )
            out[name] = Path(path)
    if not out:
        raise ParameterError(
            "no sources given", key="--sources", expected="--sources NAME=FILE for each source"
        )
    return out


class _Steps:
    """A spinner with the current step on a terminal; one line per step otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.t0 = time.perf_counter()
        self.live = None
        if sys.stderr.isatty() and not quiet:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.live = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.live.start()
            self.task = self.live.add_task("starting", total=None)

    def __call__(self, message: str) -> None:
        if self.live is not None:
            self.live.update(self.task, description=message)
        elif not self.quiet:
            typer.echo(f"[{time.perf_counter() - self.t0:6.1f}s] {message}", err=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


def share(
    dictionary: Annotated[
        Path, typer.Argument(help="The data dictionary (YAML): each column's role")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The pack folder to create")],
    more_sources: Annotated[
        list[str] | None, typer.Argument(help="More sources, as for --sources", show_default=False)
    ] = None,
    sources: Annotated[
        list[str] | None,
        typer.Option(
            "--sources", "-s", help="NAME=FILE (CSV, XLSX or SPSS); repeat for each source"
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file", help="The key made by 'evalkit keygen' (else $EVALKIT_SHARE_KEY)"
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold", help="Match probability to link (default: the dictionary's, 0.9)"
        ),
    ] = None,
    review: Annotated[
        Path | None,
        typer.Option(
            "--review", help="Write the pairs near the threshold here for clerical review"
        ),
    ] = None,
    decisions: Annotated[
        Path | None,
        typer.Option("--decisions", help="A filled-in review file: its decisions are applied"),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing pack")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display")] = False,
) -> None:
    """Pseudonymise, link and minimise personal-data sources into a pack to share.

    Reads each source, pseudonymises the direct identifiers with your key, links each child's records across sources, keeps only generalised quasi-identifiers and attributes, checks k-anonymity and scans for leaks.

    Writes OUT/ with extract.csv, extract.parquet, manifest.json and README.md. A failed check writes nothing. See docs/sharing.md.
    """
    from .sharing import load_key
    from .sharing import share as run_share

    steps = None
    try:
        paths = _parse_sources([*(sources or []), *(more_sources or [])])
        key = load_key(key_file)
        steps = _Steps(quiet)
        pack = run_share(
            dictionary,
            paths,
            key,
            out,
            threshold=threshold,
            decisions=decisions,
            review=review,
            overwrite=overwrite,
            progress=steps,
        )
    except EvalkitError as exc:
        if steps is not None:
            steps.close()
        _fail(exc)
        return
    steps.close()
    m = pack.manifest
    q = pack.linkage.quality
    for name, bad in pack.invalid.items():
        for col, rows in bad.items():
            what = (
                "NHS numbers failed the Modulus 11 check"
                if "nhs" in col.lower()
                else "values were not usable"
            )
            typer.echo(
                f"note: {name}, column {col!r}: {len(rows)} {what} (data rows {format_list(rows)}); "
                "those records were linked on their other identifiers",
                err=True,
            )
    typer.echo(
        f"Wrote {out}: {m['rows']} rows, {m['people']} children; k = {m['k_achieved']} "
        f"(required {m['k_required']}); linkage precision ~{q.precision:.3f}, recall ~{q.recall:.3f} (estimated)."
    )
    if review is not None:
        typer.echo(f"{len(pack.linkage.review)} pairs for clerical review in {review}.")


def keygen(
    path: Annotated[Path, typer.Argument(help="Where to write the new key")] = Path(
        "evalkit-share.key"
    ),
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing key file (its pseudonyms are lost)")
    ] = False,
) -> None:
    """Make a new random pseudonymisation key (readable only by you).

    Keep it outside the project folder and any shared drive, back it up where your organisation keeps secrets, and never send it with a pack: see docs/sharing.md.
    """
    from .sharing import Key, generate_key

    if path.exists() and not force:
        typer.echo(
            f"error: {path} already exists; a new key would give new pseudonyms (use --force to replace it)",
            err=True,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    secret = generate_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secret + "\n")
    os.chmod(path, 0o600)
    typer.echo(
        f"Wrote a new key to {path} (key id {Key(secret).key_id}; only you can read the file)."
    )


def register_share(app: typer.Typer) -> None:
    """Add ``share`` and ``keygen`` to the ``evalkit`` command."""
    app.command("share")(share)
    app.command("keygen")(keygen)

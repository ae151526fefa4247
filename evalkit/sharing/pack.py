"""The whole chain behind ``evalkit share``: read, pseudonymise, link, minimise, check, write.

Nothing is written unless every check passes: the pack is built in a temporary folder
next to the target and renamed into place at the end, so a failed run leaves either no
pack or the previous one, never half of one.

What the pack holds:

- ``extract.csv`` and ``extract.parquet``: one row per source record, with ``person_id``
  (a keyed pseudonym of the linked child), ``source``, the generalised quasi-identifiers
  and the attributes; no direct identifier;
- ``manifest.json``: the files with their SHA-256 and row counts, the k (and l) achieved,
  the dictionary as applied, the linkage summary, the date, the evalkit version and the
  key's public fingerprint (never the key);
- ``README.md``: for the recipient, what each column is.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..errors import DataError, ParameterError, format_list
from .dictionary import ROLES, DataDictionary, load_dictionary
from .keys import Key
from .link import LinkResult, link
from .minimise import (
    AnonymityCheck,
    age_in_months,
    birth_month,
    check_k_anonymity,
    ethnic_group,
    read_postcode_lookup,
)
from .normalise import normalise_date, normalise_postcode, normalise_sex
from .pseudonymise import normalise_identifier

__all__ = ["SharePack", "share", "read_sources", "minimise", "scan_for_identifiers", "PACK_FILES"]

PACK_FILES = ("extract.csv", "extract.parquet", "manifest.json", "README.md")


@dataclass(frozen=True)
class SharePack:
    """What :func:`share` made: the pack folder, its manifest, the checks and the linkage."""

    path: Path | None
    manifest: dict
    anonymity: AnonymityCheck
    linkage: LinkResult
    invalid: dict[str, dict[str, list[int]]]  # source -> column -> data rows (from 1) unusable

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"file": f["name"], "rows": f.get("rows"), "sha256": f["sha256"]}
                for f in self.manifest["files"]
            ]
        )


def read_sources(
    paths: Mapping[str, str | Path], dictionary: DataDictionary
) -> dict[str, pd.DataFrame]:
    """Read each source (CSV, XLSX, SPSS) and check its columns against the dictionary.

    Every column needs a role, and every column the dictionary names must be there.
    """
    from ..tools.io import read_data

    unknown = [n for n in paths if n not in dictionary.sources]
    if unknown:
        raise ParameterError(
            f"source {format_list(map(repr, unknown))} is not in the data dictionary",
            file=dictionary.file,
            key="sources",
            expected=format_list(map(repr, dictionary.sources)),
        )
    absent = [n for n in dictionary.sources if n not in paths]
    if absent:
        raise ParameterError(
            f"no file given for source {format_list(map(repr, absent))}",
            key="--sources",
            expected="NAME=FILE for every source of " + dictionary.file,
        )
    out = {}
    for name, path in paths.items():
        df = read_data(path)
        fname = Path(path).name
        spec = dictionary.sources[name]
        no_role = [str(c) for c in df.columns if str(c) not in spec.columns]
        if no_role:
            raise DataError(
                f"no role in {dictionary.file} (source {name!r})",
                columns=no_role,
                file=fname,
                allowed="give each column a role: " + ", ".join(ROLES),
            )
        missing = [c for c in spec.columns if c not in {str(x) for x in df.columns}]
        if missing:
            raise DataError(
                f"named in {dictionary.file} (source {name!r}) but not in the file",
                columns=missing,
                file=fname,
                allowed="columns of the file: " + format_list(map(repr, df.columns)),
            )
        df.columns = [str(c) for c in df.columns]
        out[name] = df
    return out


def _person_ids(linkage: LinkResult, nhs: pd.Series, key: Key) -> pd.Series:
    """A keyed pseudonym per cluster: from its NHS number when it has one (so the same child
    gets the same ID in every pack made with the key), otherwise from its first record."""
    links = linkage.links
    frame = pd.DataFrame(
        {
            "cluster": links["cluster_id"].to_numpy(),
            "nhs": nhs.to_numpy(),
            "rec": (links["source"] + ":" + links["record_id"]).to_numpy(),
        }
    )
    first_nhs = frame.dropna(subset=["nhs"]).groupby("cluster")["nhs"].min()
    first_rec = frame.groupby("cluster")["rec"].min()
    basis = first_rec.map(lambda r: ("record", r)).to_dict()
    for c, v in first_nhs.items():
        basis[c] = ("nhs_number", v)
    ids = {c: key.pseudonym("person:" + kind, v) for c, (kind, v) in basis.items()}
    return frame["cluster"].map(ids)


def minimise(
    sources: Mapping[str, pd.DataFrame],
    dictionary: DataDictionary,
    person_id: pd.Series,
    lookup: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The extract: ``person_id, source``, generalised quasi-identifiers, attributes.

    ``person_id`` is aligned with the sources concatenated in order.
    """
    parts = []
    offset = 0
    for name, df in sources.items():
        spec = dictionary.sources[name]
        part = pd.DataFrame(index=range(len(df)))
        part["person_id"] = person_id.iloc[offset : offset + len(df)].to_numpy()
        offset += len(df)
        part["source"] = name
        for col in spec.columns.values():
            if col.role in ("direct identifier", "drop"):
                continue
            v = df[col.name].reset_index(drop=True)
            if col.role == "attribute" and col.generalise == "none":
                part[col.output] = v
                continue
            g, t = col.generalise, col.type
            if t == "date_of_birth":
                if g == "year_month":
                    val = birth_month(v)
                elif g == "year":
                    val = birth_month(v).str[:4]
                elif g == "age_months":
                    val = age_in_months(v, dictionary.reference_date)
                else:
                    val = normalise_date(v)[0]
            elif t == "postcode":
                pc = normalise_postcode(v)
                val = pc.map(lookup["lsoa" if g == "lsoa" else "imd_decile"])
                val = val.astype("Int64") if g == "imd_decile" else val.astype("string")
            elif t == "ethnicity" and g == "ethnic_group":
                val = ethnic_group(v, column=col.name)
            elif t == "sex":
                val = normalise_sex(v)
            else:
                val = v
            part[col.output] = val
        parts.append(part)
    return pd.concat(parts, ignore_index=True).convert_dtypes()


def _identifier_values(sources: Mapping[str, pd.DataFrame], dictionary: DataDictionary) -> set[str]:
    """Every direct-identifier value of the sources, raw and normalised, lower case.

    Values shorter than 3 characters, and numbers under 8 digits (a local record number
    could equal a birth weight), are left out of the scan.
    """
    values: set[str] = set()
    for name, df in sources.items():
        for col in dictionary.sources[name].of_role("direct identifier"):
            raw = (
                df[col.name]
                .dropna()
                .astype(str)
                .str.strip()
                .str.replace(r"\.0$", "", regex=True)
                .str.lower()
            )
            kind = {"date_of_birth": "date", "sex": "text", "ethnicity": "text"}.get(
                col.type, col.type
            )
            norm, _ = normalise_identifier(df[col.name], kind)
            for s in (raw, norm.dropna().astype(str).str.lower()):
                values.update(s.unique().tolist())
    return {v for v in values if len(v) >= 3 and not (v.isdigit() and len(v) < 8)}


_TEMPLATE_WORDS: set[str] = set()


def scan_for_identifiers(
    pack_dir: Path, extract: pd.DataFrame, dictionary: DataDictionary, identifiers: set[str]
) -> list[str]:
    """Where a direct-identifier value of the sources appears in a pack (never which value).

    Looks at file names, the extract's column names, its attribute cells, and the words of
    the manifest and README (apart from evalkit's own wording and the dictionary's).
    """
    found: list[str] = []
    squash = lambda s: re.sub(r"[^a-z0-9]", "", s.lower())  # noqa: E731
    ids_squashed = {squash(v) for v in identifiers} - {""}
    for p in pack_dir.iterdir():
        # evalkit's own fixed file names cannot carry a value from the sources
        if p.name not in PACK_FILES and (
            p.name.lower() in identifiers or squash(p.stem) in ids_squashed
        ):
            found.append("a file name")
    for c in extract.columns:
        if str(c).lower() in identifiers:
            found.append(f"the name of extract column {c!r}")
    # generalised columns and sex hold values from evalkit's closed lists (ethnic groups,
    # deciles, F/M), which may equal a surname ("White") without leaking it
    attrs = {
        c.output
        for s in dictionary.sources.values()
        for c in s.of_role("attribute")
        if c.generalise == "none" and c.type != "sex"
    }
    for c in extract.columns:
        if c not in attrs:
            continue
        cells = (
            extract[c]
            .dropna()
            .astype(str)
            .str.strip()
            .str.replace(r"\.0$", "", regex=True)
            .str.lower()
        )
        hit = cells.isin(identifiers)
        if hit.any():
            found.append(
                f"extract column {c!r} ({int(hit.sum())} cells, e.g. data row {int(np.flatnonzero(hit)[0]) + 1})"
            )
    allowed_words = set(_TEMPLATE_WORDS)
    for s in dictionary.sources.values():
        allowed_words.add(s.name.lower())
        for c in s.columns.values():
            allowed_words.update(
                w.lower()
                for w in re.findall(
                    r"[A-Za-z0-9]+", f"{c.name} {c.output or ''} {c.description} {c.type}"
                )
            )
    for fname in ("manifest.json", "README.md"):
        text = (pack_dir / fname).read_text(encoding="utf-8")
        tokens = {t.lower() for t in re.findall(r"[A-Za-z0-9][A-Za-z0-9'\-]*", text)}
        words = {t.lower() for t in re.findall(r"[A-Za-z0-9]+", text)}
        leaked = {t for t in (tokens | words) if t in identifiers and t not in allowed_words}
        if leaked:
            found.append(f"{fname} ({len(leaked)} words)")
    return found


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _describe(col, dictionary: DataDictionary) -> str:
    g = col.generalise
    if col.type == "date_of_birth":
        return {
            "year_month": "Year and month of birth (YYYY-MM); the day is removed.",
            "year": "Year of birth.",
            "age_months": f"Age in completed months on {dictionary.reference_date}.",
        }.get(g, "Date of birth.")
    if col.type == "postcode":
        return {
            "lsoa": "Lower layer super output area (LSOA) of the postcode; the postcode is removed.",
            "imd_decile": "Index of Multiple Deprivation decile of the postcode's LSOA (1 = most deprived 10%); the postcode is removed.",
        }[g]
    if col.type == "ethnicity" and g == "ethnic_group":
        return "Ethnic group, one of the 5 top-level 2021 Census groups (blank = not stated)."
    if col.type == "sex":
        return "Sex (F or M; blank = not recorded)."
    return col.description or "As recorded in the source."


def _readme(
    extract: pd.DataFrame, dictionary: DataDictionary, check: AnonymityCheck, manifest: dict
) -> str:
    rows = [
        (
            "person_id",
            "Pseudonymous ID of the child: the same child has the same ID in every source of this pack (and in other packs made with the same key). It cannot be turned back into an NHS number without the council's key.",
        ),
        ("source", "The source system of the row: " + ", ".join(dictionary.sources) + "."),
    ]
    seen = {"person_id", "source"}
    for s in dictionary.sources.values():
        for c in s.columns.values():
            if c.output and c.output not in seen:
                seen.add(c.output)
                role = "quasi-identifier" if c.role == "quasi-identifier" else "attribute"
                rows.append(
                    (
                        c.output,
                        f"({role}) "
                        + (
                            c.description
                            if c.role == "attribute" and c.description
                            else _describe(c, dictionary)
                        ),
                    )
                )
    lines = [
        "# Pseudonymised extract",
        "",
        f"Made by evalkit {manifest['evalkit_version']} on {manifest['created']}. One row per source record; "
        f"{manifest['people']} children, {manifest['rows']} rows.",
        "",
        "Names, NHS numbers, full dates of birth, postcodes and the sources' record numbers have been removed. "
        "Records of one child were linked across the sources before removal (see manifest.json, 'linkage').",
        "",
        f"Every combination of the quasi-identifiers ({', '.join(check.quasi_identifiers) or 'none'}) is shared by at least "
        f"{check.k} children (k-anonymity, k = {check.k}; required {check.k_required})."
        + (
            f" Each such group has at least {check.l} distinct values of '{check.sensitive}' (l-diversity)."
            if check.sensitive
            else ""
        ),
        "",
        "Do not try to re-identify anyone, do not link this extract to other data without the data controller's agreement, "
        "and do not publish counts under 10.",
        "",
        "## Columns",
        "",
        "| column | what it is |",
        "|---|---|",
    ]
    lines += [f"| `{c}` | {d} |" for c, d in rows]
    lines += [
        "",
        "## Files",
        "",
        "`extract.csv` and `extract.parquet` hold the same table. `manifest.json` lists every file with its SHA-256 checksum.",
        "",
    ]
    return "\n".join(lines)


_TEMPLATE_WORDS.update(
    w.lower()
    for w in re.findall(
        r"[A-Za-z0-9]+",
        _readme.__code__.co_consts.__repr__()
        + " ".join(str(c) for c in _describe.__code__.co_consts)
        + " evalkit_version created files name sha256 rows bytes people k_required k_achieved l_required l_achieved "
        "quasi_identifiers sensitive dictionary linkage threshold precision recall estimated records clusters "
        "key_id sources role type generalise description output direct identifier quasi attribute drop none "
        "year_month age_months imd_decile lsoa ethnic_group birth_month birth_year nhs_number first_name surname "
        "date_of_birth postcode sex ethnicity text name extract csv parquet manifest json readme md reference_date "
        "scored pairs deterministic links probabilistic refused review true false null",
    )
)


def share(
    dictionary: str | Path | Mapping[str, Any] | DataDictionary,
    sources: Mapping[str, str | Path] | Mapping[str, pd.DataFrame],
    key: Key,
    out: str | Path,
    *,
    threshold: float | None = None,
    decisions: str | Path | pd.DataFrame | None = None,
    review: str | Path | None = None,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SharePack:
    """Build a pseudonymised, minimised, k-anonymous pack from personal-data sources.

    Parameters
    ----------
    dictionary
        The data dictionary (YAML file, dict or :class:`DataDictionary`).
    sources
        Source name -> file (CSV, XLSX, SPSS) or DataFrame.
    key
        From :func:`~evalkit.sharing.load_key` (key file or environment variable).
    out
        The pack folder to create.
    threshold, decisions
        Passed to :func:`~evalkit.sharing.link`.
    review
        Where to write the clerical-review pairs (a CSV inside the council; it holds record
        numbers, so it never goes in the pack).
    overwrite
        Replace an existing pack at ``out``.
    progress
        Called with a short description as each step starts.

    Raises
    ------
    ParameterError, DataError
        Bad dictionary, key, sources or lookup; k-anonymity or l-diversity not reached;
        a direct identifier found in the pack. Nothing is written then.
    """
    say = progress or (lambda _m: None)
    if not isinstance(key, Key):
        key = Key(key)
    say("reading the data dictionary")
    dic = load_dictionary(dictionary)
    out = Path(out)
    if out.exists() and not overwrite:
        raise ParameterError(
            "the pack folder already exists", file=str(out), expected="a new folder, or --overwrite"
        )
    lookup = None
    if dic.postcode_lookup is not None:
        say("reading the postcode lookup")
        lookup = read_postcode_lookup(dic.postcode_lookup, dic.imd_lookup)
    say("reading the sources")
    if all(isinstance(v, pd.DataFrame) for v in sources.values()):
        frames = {n: df.rename(columns=str) for n, df in sources.items()}
        frames = read_sources_frames(frames, dic)
    else:
        frames = read_sources(sources, dic)
    say("pseudonymising")
    invalid: dict[str, dict[str, list[int]]] = {}
    nhs_all = []
    for name, df in frames.items():
        spec = dic.sources[name]
        bad = {}
        for col in spec.of_role("direct identifier"):
            kind = {"date_of_birth": "date", "sex": "text", "ethnicity": "text"}.get(
                col.type, col.type
            )
            _, unusable = normalise_identifier(df[col.name], kind)
            if unusable.any():
                bad[col.name] = [int(i) + 1 for i in np.flatnonzero(unusable.to_numpy())]
        invalid[name] = bad
        nhs_col = spec.of_type("nhs_number")
        if nhs_col is not None:
            nhs_all.append(
                normalise_identifier(df[nhs_col.name], "nhs_number")[0].reset_index(drop=True)
            )
        else:
            nhs_all.append(pd.Series(pd.NA, index=range(len(df)), dtype="string"))
    linkage = link(frames, dic, threshold=threshold, decisions=decisions, progress=say)
    person_id = _person_ids(linkage, pd.concat(nhs_all, ignore_index=True), key)
    say("minimising")
    extract = minimise(frames, dic, person_id, lookup)
    say("checking k-anonymity")
    check = check_k_anonymity(
        extract,
        dic.quasi_identifiers(),
        k=dic.k,
        sensitive=dic.sensitive,
        l=dic.l if dic.sensitive else None,
    )
    if not check.passed:
        sizes = ", ".join(str(x) for x in check.smallest["people"].head(5))
        raise DataError(
            "the extract is not anonymous enough, so no pack was written: "
            + check.message()
            + f" (smallest classes: {sizes} people)",
            allowed=f"classes of at least {dic.k} people: generalise more (e.g. dates of birth to the year, "
            "postcodes to IMD decile), drop a quasi-identifier, or make it an attribute",
        )
    identifiers = _identifier_values(frames, dic)
    say("writing the pack")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        manifest = _write(tmp, extract, dic, check, linkage, key)
        say("scanning the pack for direct identifiers")
        found = scan_for_identifiers(tmp, extract, dic, identifiers)
        if found:
            raise DataError(
                "values of direct identifiers of the sources were found in the pack, so no pack was written: "
                + "; ".join(found),
                allowed="direct identifiers only in columns with role 'direct identifier'",
            )
        if review is not None:
            linkage.write_review(review)
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return SharePack(path=out, manifest=manifest, anonymity=check, linkage=linkage, invalid=invalid)


def read_sources_frames(
    frames: Mapping[str, pd.DataFrame], dic: DataDictionary
) -> dict[str, pd.DataFrame]:
    """The checks of :func:`read_sources` for DataFrames already in memory."""
    unknown = [n for n in frames if n not in dic.sources]
    absent = [n for n in dic.sources if n not in frames]
    if unknown or absent:
        raise ParameterError(
            "the sources do not match the data dictionary",
            file=dic.file,
            key="sources",
            expected=format_list(map(repr, dic.sources)),
        )
    for name, df in frames.items():
        spec = dic.sources[name]
        no_role = [c for c in df.columns if c not in spec.columns]
        if no_role:
            raise DataError(
                f"no role in {dic.file} (source {name!r})",
                columns=no_role,
                allowed="give each column a role: " + ", ".join(ROLES),
            )
        missing = [c for c in spec.columns if c not in df.columns]
        if missing:
            raise DataError(
                f"named in {dic.file} but not in source {name!r}",
                columns=missing,
                allowed=format_list(map(repr, df.columns)),
            )
    return dict(frames)


def _write(
    tmp: Path,
    extract: pd.DataFrame,
    dic: DataDictionary,
    check: AnonymityCheck,
    linkage: LinkResult,
    key: Key,
) -> dict:
    csv_path, pq_path = tmp / "extract.csv", tmp / "extract.parquet"
    extract.to_csv(csv_path, index=False)
    extract.to_parquet(pq_path, index=False)
    q = linkage.quality
    manifest: dict[str, Any] = {
        "evalkit_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rows": int(len(extract)),
        "people": int(extract["person_id"].nunique()),
        "k_required": check.k_required,
        "k_achieved": check.k,
        "l_required": check.l_required,
        "l_achieved": check.l,
        "sensitive": check.sensitive,
        "quasi_identifiers": list(check.quasi_identifiers),
        "key_id": key.key_id,
        "linkage": {
            "threshold": q.threshold,
            "precision_estimated": round(float(q.precision), 6)
            if np.isfinite(q.precision)
            else None,
            "recall_estimated": round(float(q.recall), 6) if np.isfinite(q.recall) else None,
            **{k.replace(" ", "_"): int(v) for k, v in q.counts.items()},
        },
        "sources": {n: {"rows": int((extract["source"] == n).sum())} for n in dic.sources},
        "dictionary": {
            "k": dic.k,
            "l": dic.l if dic.sensitive else None,
            "sensitive": dic.sensitive,
            "reference_date": str(dic.reference_date) if dic.reference_date else None,
            "sources": {
                s.name: {
                    c.name: {
                        "role": c.role,
                        "type": c.type,
                        "generalise": c.generalise,
                        "output": c.output,
                        "description": c.description,
                    }
                    for c in s.columns.values()
                }
                for s in dic.sources.values()
            },
        },
    }
    readme = _readme(extract, dic, check, manifest)
    (tmp / "README.md").write_text(readme, encoding="utf-8")
    files = []
    for name, rows in (
        ("extract.csv", len(extract)),
        ("extract.parquet", len(extract)),
        ("README.md", None),
    ):
        p = tmp / name
        files.append({"name": name, "sha256": _sha256(p), "bytes": p.stat().st_size, "rows": rows})
    manifest["files"] = files
    (tmp / "manifest.json").write_text(
        json.dumps(manifest, indent=2, default=str), encoding="utf-8"
    )
    return manifest

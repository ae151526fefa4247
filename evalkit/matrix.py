"""The maturity matrix: local partners' self-assessment of their early intervention system.

The framework (dimensions, elements and levels) is data: by default
``evalkit/matrix_framework.yaml``, modelled on the Early Intervention Foundation's early
intervention system maturity matrix, with four dimensions (Plan, Lead, Deliver, Evaluate),
nine elements and five levels, 1 (basic) to 5 (mature). A local version is a copy of that
file passed to :func:`load_framework`.

Ratings are a long table, one row per partner, element and assessment date::

    area        partner          element        level  date
    Northshire  Health visiting  strategy           3  2024-03-01
    Northshire  Early years      strategy           2  2024-03-01

- :func:`load_framework` reads and checks a framework file;
- :func:`read_ratings` checks a ratings table against the framework;
- :func:`profile` summarises the levels per element, dimension and overall;
- :func:`agreement` measures agreement between partners (ICC(A,1) or weighted kappa);
- :func:`change` compares the two most recent assessments.

Pictures are in :mod:`evalkit.plots.matrix` (``plot_profile``, ``plot_heatmap``).

References
----------
Early Intervention Foundation (2014, revised 2021). *EIF maturity matrix: early years.*
McGraw, K. O. & Wong, S. P. (1996). Forming inferences about some intraclass correlation
coefficients. *Psychological Methods*, 1(1), 30-46.
Cohen, J. (1968). Weighted kappa. *Psychological Bulletin*, 70(4), 213-220.
Koo, T. K. & Li, M. Y. (2016). A guideline of selecting and reporting intraclass correlation
coefficients for reliability research. *J Chiropractic Medicine*, 15(2), 155-163.
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._validate import check_choice, check_level
from .errors import DataError, EvalkitWarning, ParameterError, SpecError
from .results import Result

__all__ = [
    "DEFAULT_FRAMEWORK",
    "Framework",
    "Dimension",
    "Element",
    "Agreement",
    "load_framework",
    "read_ratings",
    "profile",
    "agreement",
    "change",
]

#: path of the default framework file shipped with evalkit
DEFAULT_FRAMEWORK = Path(__file__).with_name("matrix_framework.yaml")

RATING_COLUMNS = ("area", "partner", "element", "level", "date")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


# ----------------------------------------------------------------------------------------------
# The framework
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Element:
    """One element of the matrix (e.g. ``strategy``), inside a dimension (e.g. ``plan``)."""

    id: str
    label: str
    dimension: str
    description: str = ""


@dataclass(frozen=True)
class Dimension:
    """One dimension of the matrix (e.g. ``plan``) and the ids of its elements, in order."""

    id: str
    label: str
    elements: tuple[str, ...]


@dataclass(frozen=True)
class Framework:
    """A validated maturity-matrix framework (see :func:`load_framework`).

    Attributes
    ----------
    name : str
    levels : dict[int, str]
        Consecutive whole-number levels and their labels, e.g. ``{1: "basic", ..., 5: "mature"}``.
    dimensions : tuple[Dimension, ...]
    elements : tuple[Element, ...]
        All elements, in framework order (dimension by dimension).
    source : str
        The file it was read from (or ``"<mapping>"``).
    """

    name: str
    levels: dict[int, str]
    dimensions: tuple[Dimension, ...]
    elements: tuple[Element, ...]
    source: str = "<mapping>"

    @property
    def min_level(self) -> int:
        return min(self.levels)

    @property
    def max_level(self) -> int:
        return max(self.levels)

    @property
    def element_ids(self) -> list[str]:
        return [e.id for e in self.elements]

    @property
    def dimension_ids(self) -> list[str]:
        return [d.id for d in self.dimensions]

    def element(self, element_id: str) -> Element:
        """The :class:`Element` with this id."""
        for e in self.elements:
            if e.id == element_id:
                return e
        raise ParameterError(
            f"unknown element {element_id!r}", key="element", expected=", ".join(self.element_ids)
        )

    def dimension(self, dimension_id: str) -> Dimension:
        """The :class:`Dimension` with this id."""
        for d in self.dimensions:
            if d.id == dimension_id:
                return d
        raise ParameterError(
            f"unknown dimension {dimension_id!r}",
            key="dimension",
            expected=", ".join(self.dimension_ids),
        )

    def level_label(self, level: int) -> str:
        """``"3 developing"``: the level with its label."""
        return f"{level} {self.levels.get(int(level), '')}".strip()

    def to_frame(self) -> pd.DataFrame:
        """One row per element: dimension, dimension_label, element, label, description."""
        dims = {d.id: d.label for d in self.dimensions}
        return pd.DataFrame(
            [
                {
                    "dimension": e.dimension,
                    "dimension_label": dims[e.dimension],
                    "element": e.id,
                    "label": e.label,
                    "description": e.description,
                }
                for e in self.elements
            ]
        )


def _check_keys(node: Mapping, allowed: set[str], *, file: str, key: str) -> None:
    unknown = [str(k) for k in node if k not in allowed]
    if unknown:
        raise SpecError(
            f"unknown key(s) {', '.join(repr(u) for u in unknown)}; allowed: "
            + ", ".join(sorted(allowed)),
            file=file,
            key=key or None,
        )


def _text(node: Mapping, name: str, *, file: str, key: str, default: str | None = None) -> str:
    value = node.get(name, default)
    if value is None:
        raise SpecError(f"missing {name!r}", file=file, key=key)
    if (
        not isinstance(value, (str, int, float))
        or isinstance(value, bool)
        or not str(value).strip()
    ):
        raise SpecError(
            f"{name!r} must be non-empty text, got {value!r}", file=file, key=f"{key}.{name}"
        )
    return str(value).strip()


def _parse_levels(raw: Any, *, file: str) -> dict[int, str]:
    if isinstance(raw, list):
        raw = {i + 1: v for i, v in enumerate(raw)}
    if not isinstance(raw, Mapping) or len(raw) < 2:
        raise SpecError(
            "levels must map at least two whole numbers to labels, e.g. {1: basic, 5: mature}",
            file=file,
            key="levels",
        )
    levels: dict[int, str] = {}
    for k, v in raw.items():
        try:
            ok = not isinstance(k, bool) and float(k) == int(float(k))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise SpecError(f"level {k!r} is not a whole number", file=file, key=f"levels.{k}")
        if not isinstance(v, str) or not v.strip():
            raise SpecError(
                f"level {k} needs a text label, got {v!r}", file=file, key=f"levels.{k}"
            )
        levels[int(float(k))] = v.strip()
    ordered = sorted(levels)
    if ordered != list(range(ordered[0], ordered[-1] + 1)):
        raise SpecError(
            f"levels must be consecutive whole numbers, got {ordered}", file=file, key="levels"
        )
    return {k: levels[k] for k in ordered}


def _entry_id(
    node: Any, allowed: set[str], what: str, seen: dict[str, str], *, file: str, key: str
) -> str:
    """Check one dimension or element entry and return its id (unique across the framework)."""
    if not isinstance(node, Mapping):
        raise SpecError(f"each {what} must be a mapping with id and label", file=file, key=key)
    _check_keys(node, allowed, file=file, key=key)
    ident = _text(node, "id", file=file, key=key)
    if not _ID.match(ident):
        raise SpecError(
            f"id {ident!r} must be lower case letters, digits and underscores",
            file=file,
            key=f"{key}.id",
        )
    if ident in seen:
        raise SpecError(
            f"id {ident!r} is already used at {seen[ident]}", file=file, key=f"{key}.id"
        )
    seen[ident] = key
    return ident


def _parse_framework(raw: Any, *, file: str) -> Framework:
    if not isinstance(raw, Mapping):
        raise SpecError(
            "a framework file must be a mapping with 'levels' and 'dimensions'", file=file
        )
    _check_keys(
        raw, {"name", "version", "description", "source", "levels", "dimensions"}, file=file, key=""
    )
    name = _text(raw, "name", file=file, key="name", default="maturity matrix")
    if "levels" not in raw:
        raise SpecError("missing 'levels'", file=file, key="levels")
    levels = _parse_levels(raw["levels"], file=file)

    dims_raw = raw.get("dimensions")
    if not isinstance(dims_raw, list) or not dims_raw:
        raise SpecError("'dimensions' must be a non-empty list", file=file, key="dimensions")
    dimensions: list[Dimension] = []
    elements: list[Element] = []
    seen: dict[str, str] = {}
    for i, d in enumerate(dims_raw):
        dkey = f"dimensions[{i}]"
        did = _entry_id(
            d, {"id", "label", "description", "elements"}, "dimension", seen, file=file, key=dkey
        )
        dlabel = _text(d, "label", file=file, key=dkey, default=did.replace("_", " ").title())
        els_raw = d.get("elements")
        if not isinstance(els_raw, list) or not els_raw:
            raise SpecError(
                "'elements' must be a non-empty list", file=file, key=f"{dkey}.elements"
            )
        ids = []
        for j, e in enumerate(els_raw):
            ekey = f"{dkey}.elements[{j}]"
            eid = _entry_id(e, {"id", "label", "description"}, "element", seen, file=file, key=ekey)
            default = eid.replace("_", " ").capitalize()
            label = _text(e, "label", file=file, key=ekey, default=default)
            desc = str(e.get("description") or "").strip()
            elements.append(Element(eid, label, did, desc))
            ids.append(eid)
        dimensions.append(Dimension(did, dlabel, tuple(ids)))
    return Framework(name, levels, tuple(dimensions), tuple(elements), source=file)


def load_framework(path: str | Path | Mapping | Framework | None = None) -> Framework:
    """Read and check a maturity-matrix framework.

    Parameters
    ----------
    path : str, Path, mapping or Framework, optional
        A YAML file (or an already-parsed mapping). ``None`` loads the default framework
        shipped with evalkit (:data:`DEFAULT_FRAMEWORK`). A :class:`Framework` is returned as is.

    Returns
    -------
    Framework

    Raises
    ------
    SpecError
        Naming the file and the key: a missing or unknown key, a duplicated or badly formed id,
        levels that are not consecutive whole numbers, an empty dimension.

    Notes
    -----
    The file holds ``name``, ``levels`` (a mapping ``1: basic ... 5: mature``, or a list of
    labels numbered from 1) and ``dimensions``: a list of ``{id, label, elements}`` where
    ``elements`` is a list of ``{id, label, description}``. Element ids are unique across the
    framework.

    Examples
    --------
    >>> fw = load_framework()
    >>> fw.dimension_ids
    ['plan', 'lead', 'deliver', 'evaluate']
    >>> fw.levels[1], fw.levels[5]
    ('basic', 'mature')
    """
    if isinstance(path, Framework):
        return path
    if isinstance(path, Mapping):
        return _parse_framework(path, file="<mapping>")
    import yaml

    file = Path(path) if path is not None else DEFAULT_FRAMEWORK
    name = str(file) if path is not None else file.name
    if not file.is_file():
        raise SpecError("framework file not found", file=name)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise SpecError(
            f"not valid YAML{line}: {getattr(exc, 'problem', exc)}", file=name
        ) from None
    return _parse_framework(raw, file=name)


# ----------------------------------------------------------------------------------------------
# Ratings
# ----------------------------------------------------------------------------------------------
def _norm_token(value: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(value).strip().casefold())


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError("ratings file not found", file=str(path))
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df = pd.read_csv(path)
    elif suffix in (".xlsx", ".xlsm", ".xls"):
        df = pd.read_excel(path)
    else:
        raise DataError(
            f"cannot read {suffix or 'a file without extension'}",
            file=str(path),
            allowed=".csv or .xlsx",
        )
    # row labels = spreadsheet line numbers (line 1 holds the column names)
    df.index = pd.RangeIndex(2, len(df) + 2)
    return df


def _parse_dates(col: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(col):
        out = pd.to_datetime(col)
    else:
        text = col.astype("string").str.strip()
        # ISO first (2024-03-01), then UK day-first (01/03/2024): never read ISO day-first
        out = pd.to_datetime(text, errors="coerce", format="ISO8601")
        rest = out.isna() & text.notna()
        if rest.any():
            out[rest] = pd.to_datetime(text[rest], errors="coerce", format="mixed", dayfirst=True)
    return out.dt.tz_localize(None).dt.normalize() if out.dt.tz is not None else out.dt.normalize()


def read_ratings(data: pd.DataFrame | str | Path, framework: Any = None) -> pd.DataFrame:
    """Check a long table of maturity-matrix ratings against the framework.

    Parameters
    ----------
    data : DataFrame, or path of a .csv / .xlsx file
        Columns ``area``, ``partner``, ``element``, ``level``, ``date`` (names are matched
        ignoring case and surrounding spaces; other columns are dropped). For a file, rows are
        named by their spreadsheet line (the header is line 1).
    framework : Framework, path or mapping, optional
        Passed to :func:`load_framework`; the default framework when omitted.

    Returns
    -------
    DataFrame
        Columns ``area, partner, dimension, element, level, date``: ``element`` holds the
        framework id, ``level`` whole numbers, ``date`` day-precision timestamps. The row labels
        of the input are kept, so later messages can name rows.

    Raises
    ------
    DataError
        Missing columns or values; unknown elements; levels that are not whole numbers in the
        framework's range; dates that cannot be read; the same partner rating the same element
        twice on one date. Each names the column, the rows, the values found and what is allowed.

    Notes
    -----
    Elements may be given by id (``workforce_planning``) or label (``Workforce planning``), and
    levels by number or label (``developing``), ignoring case. Dates are read as ISO
    (``2024-03-01``) first, then day-first (``01/03/2024``, the UK convention).

    Examples
    --------
    >>> df = pd.DataFrame({"area": ["A", "A"], "partner": ["NHS", "LA"],
    ...                    "element": ["strategy", "Strategy"], "level": [3, "developing"],
    ...                    "date": ["2024-03-01", "01/03/2024"]})
    >>> read_ratings(df)[["element", "level"]].to_dict("list")
    {'element': ['strategy', 'strategy'], 'level': [3, 3]}
    """
    fw = load_framework(framework)
    file = None
    if isinstance(data, (str, Path)):
        file = str(data)
        df = _read_table(Path(data))
    elif isinstance(data, pd.DataFrame):
        df = data.copy()
    else:
        raise DataError(f"ratings must be a DataFrame or a file path, got {type(data).__name__}")

    names = {}
    for c in df.columns:
        key = str(c).strip().casefold()
        if key in RATING_COLUMNS and key not in names.values():
            names[c] = key
    df = df.rename(columns=names)
    missing = [c for c in RATING_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            "ratings have no column(s) named " + ", ".join(repr(c) for c in missing),
            columns=missing,
            file=file,
            allowed="columns " + ", ".join(RATING_COLUMNS),
        )
    df = df[list(RATING_COLUMNS)]

    for c in RATING_COLUMNS:
        blank = df[c].isna() | (df[c].astype("string").str.strip() == "")
        if blank.any():
            raise DataError(
                "missing values",
                column=c,
                rows=list(df.index[blank.fillna(True)]),
                file=file,
                allowed="every rating needs area, partner, element, level and date",
            )

    out = pd.DataFrame(index=df.index)
    out["area"] = df["area"].astype(str).str.strip()
    out["partner"] = df["partner"].astype(str).str.strip()

    lookup = {}
    for e in fw.elements:
        lookup[_norm_token(e.id)] = e.id
        lookup[_norm_token(e.label)] = e.id
    element = df["element"].map(lambda v: lookup.get(_norm_token(v)))
    bad = element.isna()
    if bad.any():
        raise DataError(
            "unknown element",
            column="element",
            rows=list(df.index[bad]),
            values=list(df.loc[bad, "element"]),
            file=file,
            allowed=", ".join(fw.element_ids),
        )
    out["dimension"] = element.map({e.id: e.dimension for e in fw.elements}).astype(str)
    out["element"] = element.astype(str)

    by_label = {_norm_token(v): k for k, v in fw.levels.items()}

    def _level(v: Any) -> float:
        if isinstance(v, str) and _norm_token(v) in by_label:
            return float(by_label[_norm_token(v)])
        try:
            return float(v)
        except (TypeError, ValueError):
            return np.nan

    level = df["level"].map(_level).astype(float)
    bad = (
        level.isna() | (level != np.round(level)) | (level < fw.min_level) | (level > fw.max_level)
    )
    if bad.any():
        raise DataError(
            "level out of range",
            column="level",
            rows=list(df.index[bad]),
            values=list(df.loc[bad, "level"]),
            file=file,
            allowed=f"whole numbers {fw.min_level} to {fw.max_level} ("
            + ", ".join(f"{k} {v}" for k, v in fw.levels.items())
            + ")",
        )
    out["level"] = level.astype("int64")

    date = _parse_dates(df["date"])
    bad = date.isna()
    if bad.any():
        raise DataError(
            "date not understood",
            column="date",
            rows=list(df.index[bad]),
            values=list(df.loc[bad, "date"]),
            file=file,
            allowed="dates such as 2024-03-01 or 01/03/2024",
        )
    out["date"] = date.astype("datetime64[ns]")

    dup = out.duplicated(["area", "partner", "element", "date"], keep=False)
    if dup.any():
        raise DataError(
            "the same partner rated the same element more than once on one date",
            columns=["area", "partner", "element", "date"],
            rows=list(out.index[dup]),
            file=file,
            allowed="one rating per area, partner, element and date",
        )
    return out


def _ratings(ratings: Any, framework: Any) -> tuple[pd.DataFrame, Framework]:
    fw = load_framework(framework)
    return read_ratings(ratings, fw), fw


def _pick_area(r: pd.DataFrame, area: str | None, *, required: bool) -> list[str]:
    areas = sorted(r["area"].unique())
    if area is None:
        if required and len(areas) > 1:
            raise ParameterError(
                "the ratings hold several areas: say which one with area=",
                key="area",
                expected=", ".join(repr(a) for a in areas[:10]),
            )
        return areas
    if str(area) not in areas:
        raise DataError(
            f"no ratings for area {area!r}",
            column="area",
            values=[area],
            allowed=", ".join(areas[:20]),
        )
    return [str(area)]


def _pick_date(r: pd.DataFrame, date: Any) -> pd.Timestamp:
    """The requested date (must exist in ``r``) or the latest one."""
    if date is None:
        return r["date"].max()
    stamp = _parse_dates(pd.Series([date])).iloc[0]
    if pd.isna(stamp) or stamp not in set(r["date"]):
        have = ", ".join(sorted({d.date().isoformat() for d in r["date"]}))
        raise DataError(f"no ratings on date {date!r}", column="date", values=[date], allowed=have)
    return stamp


# ----------------------------------------------------------------------------------------------
# Profile
# ----------------------------------------------------------------------------------------------
def _stats(values: pd.Series) -> dict[str, float]:
    v = values.dropna().to_numpy(dtype=float)
    if v.size == 0:
        return dict(mean=np.nan, median=np.nan, min=np.nan, max=np.nan, sd=np.nan, n_partners=0)
    return dict(
        mean=float(v.mean()),
        median=float(np.median(v)),
        min=float(v.min()),
        max=float(v.max()),
        sd=float(v.std(ddof=1)) if v.size > 1 else np.nan,
        n_partners=int(v.size),
    )


def _profile_one(r: pd.DataFrame, fw: Framework, area: str, date: pd.Timestamp) -> list[dict]:
    wide = r.pivot(index="partner", columns="element", values="level")
    rows = []
    base = {"area": area, "date": date}
    dim_scores = {}
    for d in fw.dimensions:
        cols = [e for e in d.elements if e in wide.columns]
        score = wide[cols].mean(axis=1) if cols else pd.Series(dtype=float)
        dim_scores[d.id] = score
        rows.append(
            {
                **base,
                "scope": "dimension",
                "dimension": d.id,
                "element": "",
                "label": d.label,
                **_stats(score),
            }
        )
        for eid in d.elements:
            col = wide[eid] if eid in wide.columns else pd.Series(dtype=float)
            rows.append(
                {
                    **base,
                    "scope": "element",
                    "dimension": d.id,
                    "element": eid,
                    "label": fw.element(eid).label,
                    **_stats(col),
                }
            )
    overall = wide.mean(axis=1)
    rows.append(
        {
            **base,
            "scope": "overall",
            "dimension": "",
            "element": "",
            "label": "Overall",
            **_stats(overall),
        }
    )
    return rows


def profile(
    ratings: pd.DataFrame | str | Path,
    *,
    area: str | None = None,
    date: Any = None,
    framework: Any = None,
) -> pd.DataFrame:
    """Summarise partners' ratings per element, per dimension and overall.

    Parameters
    ----------
    ratings : DataFrame or path
        A ratings table (see :func:`read_ratings`; it is checked again here).
    area : str, optional
        One area; all areas when omitted.
    date : date-like or ``"all"``, optional
        The assessment date (it must exist for every area selected); by default each area's
        most recent date. ``"all"`` gives every date.
    framework : optional
        See :func:`load_framework`.

    Returns
    -------
    DataFrame
        One row per area, date and framework entry, in framework order (each dimension followed
        by its elements, then ``overall``). Columns: ``area, date, scope`` (``"dimension"``,
        ``"element"`` or ``"overall"``), ``dimension, element, label, mean, median, min, max,
        sd, n_partners``. Elements nobody rated have ``n_partners`` 0 and missing statistics.

    Notes
    -----
    For an element, the statistics are over the partners' levels :math:`x_p`. For a dimension
    (and overall), each partner first gets a score, the mean of their levels on the
    dimension's elements, :math:`s_p = \\frac{1}{|E_p|}\\sum_{e \\in E_p} x_{pe}`; the
    statistics (and ``n_partners``) are then over those partner scores, so ``min`` and ``max``
    show the spread between partners. With every partner rating every element, the dimension
    mean equals the mean of its element means. ``sd`` uses n - 1.

    Examples
    --------
    >>> df = pd.DataFrame({"area": "A", "partner": ["NHS", "LA"], "element": "strategy",
    ...                    "level": [2, 4], "date": "2024-03-01"})
    >>> p = profile(df)
    >>> p.loc[p.element == "strategy", ["mean", "min", "max"]].iloc[0].tolist()
    [3.0, 2.0, 4.0]
    """
    r, fw = _ratings(ratings, framework)
    rows: list[dict] = []
    for a in _pick_area(r, area, required=False):
        ra = r[r["area"] == a]
        if isinstance(date, str) and date == "all":
            dates = sorted(ra["date"].unique())
        else:
            dates = [_pick_date(ra, date)]
        for d in dates:
            rows.extend(_profile_one(ra[ra["date"] == d], fw, a, pd.Timestamp(d)))
    out = pd.DataFrame(rows)
    out["date"] = out["date"].astype("datetime64[ns]")
    return out


# ----------------------------------------------------------------------------------------------
# Agreement between partners
# ----------------------------------------------------------------------------------------------
def _icc_a1(y: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """ICC(A,1) (Shrout & Fleiss ICC(2,1)) of an n targets x k raters matrix, no missing values.

    Two-way ANOVA mean squares: rows (targets) MSR, columns (raters) MSC, residual MSE;
    ICC = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n); F = MSR / MSE on
    (n-1, (n-1)(k-1)) df; the interval is McGraw & Wong's (1996) for case 2A, using
    Satterthwaite's df v for the denominator.
    """
    from scipy import stats

    n, k = y.shape
    grand = y.mean()
    row_m = y.mean(axis=1)
    col_m = y.mean(axis=0)
    msr = k * np.sum((row_m - grand) ** 2) / (n - 1)
    msc = n * np.sum((col_m - grand) ** 2) / (k - 1)
    resid = y - row_m[:, None] - col_m[None, :] + grand
    df2 = (n - 1) * (k - 1)
    mse = np.sum(resid**2) / df2
    denom = msr + (k - 1) * mse + k * (msc - mse) / n
    out = dict(msr=msr, msc=msc, mse=mse, df1=float(n - 1), df2=float(df2))
    with np.errstate(divide="ignore", invalid="ignore"):
        icc = (msr - mse) / denom if denom > 0 else np.nan
        f = msr / mse if mse > 0 else np.inf if msr > 0 else np.nan
    p = float(stats.f.sf(f, n - 1, df2)) if np.isfinite(f) else (0.0 if f == np.inf else np.nan)
    lo = hi = np.nan
    if np.isfinite(icc) and icc < 1 and mse > 0:
        alpha = 1 - level
        a = k * icc / (n * (1 - icc))
        b = 1 + k * icc * (n - 1) / (n * (1 - icc))
        v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / df2)
        f_up = stats.f.ppf(1 - alpha / 2, n - 1, v)
        f_lo = stats.f.ppf(1 - alpha / 2, v, n - 1)
        c = k * msc + (k * n - k - n) * mse
        lo = n * (msr - f_up * mse) / (f_up * c + n * msr)
        hi = n * (f_lo * msr - mse) / (c + n * f_lo * msr)
    out.update(icc=float(icc), f=float(f), p=p, ci_low=float(lo), ci_high=float(hi))
    return out


def _weighted_kappa(x: np.ndarray, y: np.ndarray, categories: list[int]) -> float:
    """Cohen's (1968) kappa with quadratic disagreement weights (i - j)^2 over fixed categories.

    kappa_w = 1 - sum(w * O) / sum(w * E), O the observed and E the chance-expected
    (outer product of the margins) proportions.
    """
    idx = {c: i for i, c in enumerate(categories)}
    m = len(categories)
    table = np.zeros((m, m))
    for a, b in zip(x, y):
        table[idx[int(a)], idx[int(b)]] += 1
    obs = table / table.sum()
    exp = np.outer(obs.sum(axis=1), obs.sum(axis=0))
    grid = np.arange(m)
    w = (grid[:, None] - grid[None, :]) ** 2
    de = float((w * exp).sum())
    return 1.0 - float((w * obs).sum()) / de if de > 0 else np.nan


def _koo_li(value: float) -> str:
    if not np.isfinite(value):
        return "not defined"
    if value < 0.5:
        return "poor"
    if value < 0.75:
        return "moderate"
    if value < 0.9:
        return "good"
    return "excellent"


@dataclass(frozen=True)
class Agreement(Result):
    """Agreement between partners on one area's maturity-matrix ratings.

    ``estimate`` is ICC(A,1) or the mean pairwise quadratic-weighted kappa; ``n`` the number of
    elements rated by every partner, ``n_raters`` the number of partners. ``interpretation``
    uses Koo & Li's (2016) bands (below .5 poor, .5-.75 moderate, .75-.9 good, above .9
    excellent). ``dropped`` lists elements left out because a partner did not rate them.
    """

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    n_raters: int
    level: float
    method: str
    area: str
    date: str
    interpretation: str
    f: float = np.nan
    df1: float = np.nan
    df2: float = np.nan
    p: float = np.nan
    dropped: tuple[str, ...] = ()
    _title = "Agreement between partners"


def agreement(
    ratings: pd.DataFrame | str | Path,
    *,
    area: str | None = None,
    date: Any = None,
    method: str = "icc",
    level: float = 0.95,
    framework: Any = None,
) -> Agreement:
    """Agreement between partners' ratings of the same elements (one area, one date).

    Parameters
    ----------
    ratings : DataFrame or path
        A ratings table (see :func:`read_ratings`).
    area : str, optional
        Required when the ratings hold several areas.
    date : date-like, optional
        The assessment date; the most recent by default.
    method : {"icc", "kappa"}
        ``"icc"``: ICC(A,1), two-way random effects, absolute agreement, single rater (Shrout &
        Fleiss's ICC(2,1)), with the McGraw & Wong (1996) confidence interval.
        ``"kappa"``: Cohen's weighted kappa with quadratic weights, averaged over every pair of
        partners (no interval).
    level : float
        Confidence level of the ICC interval.
    framework : optional
        See :func:`load_framework`.

    Returns
    -------
    Agreement

    Notes
    -----
    Targets are the elements and raters the partners. Elements not rated by every partner are
    left out (named in ``dropped``, with a warning). With mean squares from the two-way table
    (rows MSR, partners MSC, residual MSE; n elements, k partners)

    .. math:: \\mathrm{ICC}(A,1) = \\frac{MSR - MSE}{MSR + (k-1)MSE + \\frac{k}{n}(MSC - MSE)}

    This is computed here so that the matrix does not depend on :mod:`evalkit.reliability`;
    the tests check it against ``pingouin.intraclass_corr`` (``ICC2``) and Shrout & Fleiss
    (1979). Quadratic-weighted kappa uses disagreement weights :math:`(i-j)^2` over the
    framework's levels, :math:`\\kappa_w = 1 - \\sum w O / \\sum w E` (Cohen 1968); the tests
    check it against ``statsmodels.stats.inter_rater.cohens_kappa(wt="quadratic")``.
    With nine elements the interval is wide: read the estimate as a rough guide.

    Examples
    --------
    >>> df = pd.DataFrame({"area": "A", "partner": np.repeat(["NHS", "LA", "VCS"], 3),
    ...                    "element": ["strategy", "governance", "using_evidence"] * 3,
    ...                    "level": [1, 3, 5, 2, 3, 5, 1, 4, 4], "date": "2024-03-01"})
    >>> round(agreement(df).estimate, 3)
    0.889
    """
    check_choice("method", method, ["icc", "kappa"])
    level = check_level(level)
    r, fw = _ratings(ratings, framework)
    (a,) = _pick_area(r, area, required=True)
    ra = r[r["area"] == a]
    d = _pick_date(ra, date)
    ra = ra[ra["date"] == d]
    wide = ra.pivot(index="element", columns="partner", values="level")
    wide = wide.reindex([e for e in fw.element_ids if e in wide.index])
    if wide.shape[1] < 2:
        raise DataError(
            f"agreement needs at least two partners; area {a!r} on {d.date()} has {wide.shape[1]}",
            column="partner",
            allowed="ratings from two or more partners",
        )
    incomplete = wide.isna().any(axis=1)
    dropped = tuple(wide.index[incomplete])
    if dropped:
        warnings.warn(
            f"area {a!r}: element(s) {', '.join(dropped)} were not rated by every partner and "
            "are left out of the agreement statistic",
            EvalkitWarning,
            stacklevel=2,
        )
    y = wide[~incomplete].to_numpy(dtype=float)
    if y.shape[0] < 2:
        raise DataError(
            f"agreement needs at least two elements rated by every partner; area {a!r} has "
            f"{y.shape[0]}",
            column="element",
            allowed="ratings of the same elements by each partner",
        )
    common = dict(
        n=int(y.shape[0]),
        n_raters=int(y.shape[1]),
        level=level,
        area=a,
        date=d.date().isoformat(),
        dropped=dropped,
    )
    if method == "icc":
        s = _icc_a1(y, level)
        if not np.isfinite(s["icc"]):
            warnings.warn(
                f"area {a!r}: every element got the same level from every partner, so the ICC "
                "is not defined (there is no variation to agree on)",
                EvalkitWarning,
                stacklevel=2,
            )
        return Agreement(
            estimate=s["icc"],
            ci_low=s["ci_low"],
            ci_high=s["ci_high"],
            method="ICC(A,1) two-way random, absolute agreement",
            interpretation=_koo_li(s["icc"]),
            f=s["f"],
            df1=s["df1"],
            df2=s["df2"],
            p=s["p"],
            **common,
        )
    cats = list(fw.levels)
    kappas = [
        _weighted_kappa(y[:, i], y[:, j], cats)
        for i, j in itertools.combinations(range(y.shape[1]), 2)
    ]
    value = float(np.nanmean(kappas)) if np.isfinite(kappas).any() else np.nan
    return Agreement(
        estimate=value,
        ci_low=np.nan,
        ci_high=np.nan,
        method="quadratic-weighted kappa, mean over pairs of partners",
        interpretation=_koo_li(value),
        **common,
    )


# ----------------------------------------------------------------------------------------------
# Change between assessments
# ----------------------------------------------------------------------------------------------
def change(
    ratings: pd.DataFrame | str | Path,
    *,
    area: str | None = None,
    framework: Any = None,
) -> pd.DataFrame:
    """Change in the profile between each area's two most recent assessment dates.

    Parameters
    ----------
    ratings : DataFrame or path
        A ratings table (see :func:`read_ratings`).
    area : str, optional
        One area (it must have two or more dates); all areas with two or more dates when
        omitted (areas with one date are left out, with a warning).
    framework : optional
        See :func:`load_framework`.

    Returns
    -------
    DataFrame
        One row per area and framework entry (same order as :func:`profile`): ``area, scope,
        dimension, element, label, date_before, date_after, mean_before, mean_after, change``
        (after minus before) and ``n_partners_before``, ``n_partners_after``.

    Notes
    -----
    Means are those of :func:`profile` at each date. The partners need not be the same at both
    dates; when they differ, part of the change may reflect who answered.

    Examples
    --------
    >>> df = pd.DataFrame({"area": "A", "partner": "NHS", "element": "strategy",
    ...                    "level": [2, 4], "date": ["2023-03-01", "2024-03-01"]})
    >>> change(df).query("element == 'strategy'")["change"].item()
    2.0
    """
    r, fw = _ratings(ratings, framework)
    areas = _pick_area(r, area, required=False)
    frames = []
    skipped = []
    for a in areas:
        ra = r[r["area"] == a]
        dates = sorted(ra["date"].unique())
        if len(dates) < 2:
            if area is not None:
                raise DataError(
                    f"area {a!r} has one assessment ({pd.Timestamp(dates[0]).date()}): change "
                    "needs two dates",
                    column="date",
                    allowed="ratings on two or more dates",
                )
            skipped.append(a)
            continue
        before = pd.DataFrame(
            _profile_one(ra[ra["date"] == dates[-2]], fw, a, pd.Timestamp(dates[-2]))
        )
        after = pd.DataFrame(
            _profile_one(ra[ra["date"] == dates[-1]], fw, a, pd.Timestamp(dates[-1]))
        )
        frames.append(
            pd.DataFrame(
                {
                    "area": a,
                    "scope": after["scope"],
                    "dimension": after["dimension"],
                    "element": after["element"],
                    "label": after["label"],
                    "date_before": before["date"],
                    "date_after": after["date"],
                    "mean_before": before["mean"],
                    "mean_after": after["mean"],
                    "change": after["mean"] - before["mean"],
                    "n_partners_before": before["n_partners"],
                    "n_partners_after": after["n_partners"],
                }
            )
        )
    if skipped:
        warnings.warn(
            "area(s) with a single assessment left out of the change table: " + ", ".join(skipped),
            EvalkitWarning,
            stacklevel=2,
        )
    if not frames:
        raise DataError(
            "no area has two assessment dates, so there is no change to show",
            column="date",
            allowed="ratings on two or more dates",
        )
    out = pd.concat(frames, ignore_index=True)
    for c in ("date_before", "date_after"):
        out[c] = out[c].astype("datetime64[ns]")
    return out

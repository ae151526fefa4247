"""Scoring a tool: from a DataFrame of answers to scores, bands, flags and counts.

Pure functions and the :class:`Tool` class: DataFrames in, DataFrames out; no files.
Every answer is checked before anything is scored; nothing is silently coerced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice, spreadsheet_rows
from ..errors import DataError, ParameterError, format_list
from .spec import Band, Missing, Reliability, ToolSpec, label_key, scale_range

__all__ = ["Tool", "round_half_up"]

#: Spec statistic names -> the keys evalkit.reliability.reliability_summary(published=...) takes.
_SUMMARY_KEYS = {
    "alpha": "alpha",
    "standardised_alpha": "standardized_alpha",
    "split_half": "split_half",
    "omega": "omega_total",
}
#: ``DataFrame.attrs`` key marking a frame made by :meth:`Tool.items_frame`.
KEYED_ATTR = "evalkit_keyed"


def round_half_up(x: np.ndarray | pd.Series) -> np.ndarray | pd.Series:
    """Round to whole numbers with halves going up: 2.5 → 3, 7.5 → 8, 2.4999 → 2.

    SDQ prorated subscales are rounded this way, as in the official SPSS
    (``RND``) and Stata (``round``) scoring syntax; Python's ``round`` and R's
    ``round`` round halves to the even number (2.5 → 2) and would disagree.

    >>> round_half_up(np.array([2.5, 7.5, 1.6667, 3.3333]))
    array([3., 8., 2., 3.])
    """
    return np.floor(x + 0.5)


def _norm_key(value: Any) -> Any:
    """Key for recoding: text compared ignoring case and spacing, numbers as floats."""
    if isinstance(value, str):
        return label_key(value)
    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return value


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _describe_labels(labels: Mapping[Any, Any] | None) -> str:
    if not labels:
        return ""
    shown = ", ".join(f"{_fmt(k)}={v!r}" for k, v in list(labels.items())[:8])
    return f"The file labels these codes {shown}. "


def _plain(value: Any) -> Any:
    """3.0 -> 3 in messages (a float column holding whole numbers)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    return value


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Tool:
    """A measurement tool: its spec, and how to score it.

    Get one with :func:`evalkit.tools.get` (shipped tools) or
    :func:`evalkit.tools.load` (your own spec file).

    Attributes
    ----------
    name, title : str
    spec : ToolSpec
        The validated specification (pydantic model).
    items : tuple of str
        Item ids, e.g. ``("1", ..., "10")``.
    reverse : tuple of str
        Reverse-keyed item ids (reversed only when the data hold response positions).
    subscales : dict
        Subscale name → tuple of item ids.
    scales : tuple of str
        The score columns :meth:`score` returns, in order (subscales, then ``total``).
    published_reliability : tuple of Reliability
        Published coefficients, each with ``statistic``, ``value``, ``scale``, ``citation``.

    Examples
    --------
    >>> import evalkit as ek
    >>> tool = ek.tools.get("epds")
    >>> tool.scales
    ('total',)
    """

    def __init__(self, spec: ToolSpec, *, source: str | None = None) -> None:
        self.spec = spec
        self.source = source
        self.name = spec.name
        self.title = spec.title
        self.items: tuple[str, ...] = tuple(spec.items)
        self.reverse: tuple[str, ...] = tuple(spec.reverse)
        self.subscales: dict[str, tuple[str, ...]] = {
            k: tuple(v.items) for k, v in spec.subscales.items()
        }
        scales = list(spec.subscales)
        if spec.total is not None:
            scales.append("total")
        self.scales: tuple[str, ...] = tuple(scales)
        self.published_reliability: tuple[Reliability, ...] = tuple(spec.published_reliability)
        # item id -> {label key: number in the spec's input coding}
        self._labels: dict[str, dict[str, float]] = {
            i: {
                label_key(k): float(v)
                for k, v in {**spec.response_labels, **spec.item_labels.get(i, {})}.items()
            }
            for i in self.items
        }

    def __repr__(self) -> str:
        return f"<Tool {self.name!r}: {self.title}, {len(self.items)} items>"

    # -- facts about the tool -------------------------------------------------------------------
    @property
    def input(self) -> str:
        """What the item columns hold by default: ``"responses"`` or ``"scores"``."""
        return self.spec.input

    @property
    def licence(self) -> str:
        return self.spec.licence.strip()

    def scale_items(self, scale: str) -> tuple[str, ...]:
        """Item ids of ``scale`` (a subscale name or ``"total"``)."""
        self._check_scale(scale)
        if scale in self.subscales:
            return self.subscales[scale]
        total = self.spec.total
        if total.subscales is not None:
            return tuple(i for s in total.subscales for i in self.subscales[s])
        return tuple(total.items) if total.items is not None else self.items

    def range(self, scale: str = "total") -> tuple[int, int]:
        """Lowest and highest possible score of ``scale``."""
        self._check_scale(scale)
        return scale_range(self.spec, scale)

    def direction(self, scale: str = "total") -> str:
        """``"higher_worse"`` or ``"higher_better"`` for ``scale``."""
        self._check_scale(scale)
        part = self.spec.subscales.get(scale) or self.spec.total
        return part.direction or self.spec.direction

    def bands(self, scale: str = "total") -> tuple[Band, ...]:
        """The spec's bands for ``scale`` (empty when it has none)."""
        self._check_scale(scale)
        part = self.spec.subscales.get(scale) or self.spec.total
        return tuple(part.bands)

    def reliability_reference(
        self, scale: str = "total", statistic: str | None = "alpha"
    ) -> Reliability | None:
        """The published coefficient for ``scale`` (or one given for ``"all"`` scales).

        With ``statistic=None`` the first coefficient for the scale is returned.
        ``None`` when the spec has none.
        """
        for rel in self.published_reliability:
            if rel.scale in (scale, "all") and (statistic is None or rel.statistic == statistic):
                return rel
        return None

    @property
    def response_range(self) -> tuple[int, int]:
        """Lowest and highest item score (for floor and ceiling checks)."""
        return self.spec.response.min, self.spec.response.max

    def published(self, scale: str = "total") -> dict[str, float]:
        """Published internal-consistency values for ``scale``, keyed as
        :func:`evalkit.reliability.reliability_summary` expects them
        (``alpha``, ``standardized_alpha``, ``split_half``, ``omega_total``).

        Test–retest and inter-rater values are left out (they are not internal
        consistency); read them from :attr:`published_reliability`.

        >>> import evalkit as ek
        >>> ek.tools.get("epds").published()
        {'split_half': 0.88, 'standardized_alpha': 0.87}
        """
        self._check_scale(scale)
        out: dict[str, float] = {}
        for rel in self.published_reliability:
            key = _SUMMARY_KEYS.get(rel.statistic)
            if key is not None and rel.scale in (scale, "all") and key not in out:
                out[key] = rel.value
        return out

    def answer_labels(self, item: str | None = None) -> dict[str, int]:
        """Answer labels the spec knows, and the number each stands for.

        The number is what an item column holds for that answer in the spec's ``input``
        coding (item scores for the EPDS, response codes for the SDQ). :meth:`score`
        reads these labels in item columns; ``values=`` overrides them. Without
        ``item``, every label of every item (where items differ, as on the EPDS, the
        number is that of the first item with the label: ask per item for scoring).

        >>> import evalkit as ek
        >>> ek.tools.get("wemwbs").answer_labels()["None of the time"]
        1
        >>> ek.tools.get("epds").answer_labels("1")["Not at all"]
        3
        """
        spec = self.spec
        if item is not None:
            item = str(item).strip()
            if item not in self.items:
                raise ParameterError(
                    f"{self.name} has no item {item!r}",
                    key="item",
                    expected="item ids " + format_list(self.items, limit=12),
                )
            return {**spec.response_labels, **spec.item_labels.get(item, {})}
        out = dict(spec.response_labels)
        for labels in spec.item_labels.values():
            for k, v in labels.items():
                out.setdefault(k, v)
        return out

    def decode_labels(
        self,
        df: pd.DataFrame,
        *,
        columns: Mapping[Any, str] | Sequence[str] | None = None,
        prefix: str | None = None,
    ) -> pd.DataFrame:
        """A copy of ``df`` with answer labels in the item columns replaced by numbers.

        Labels are matched ignoring case and spacing (see :meth:`answer_labels`); numbers
        and text the spec does not know are left as they are, so that range checks
        (:func:`evalkit.describe.out_of_range`) still see them.

        >>> import pandas as pd, evalkit as ek
        >>> df = pd.DataFrame({f"gad7_{i}": ["not at all", 2] for i in range(1, 8)})
        >>> ek.tools.get("gad7").decode_labels(df)["gad7_1"].tolist()
        [0, 2]
        """
        mapping = self.column_map(df.columns, columns=columns, prefix=prefix)
        out = df.copy()
        for item, col in mapping.items():
            labels = self._labels[item]
            s = out[col]
            if not labels or pd.api.types.is_numeric_dtype(s):
                continue
            decoded = s.map(
                lambda v, m=labels: (
                    _plain(m[label_key(v)]) if isinstance(v, str) and label_key(v) in m else v
                )
            )
            try:
                out[col] = pd.to_numeric(decoded)
            except (ValueError, TypeError):
                out[col] = decoded
        return out

    def _check_scale(self, scale: str) -> None:
        if scale not in self.scales:
            raise ParameterError(
                f"{self.name} has no scale {scale!r}",
                key="scale",
                expected=" or ".join(repr(s) for s in self.scales),
            )

    # -- from data to item scores ---------------------------------------------------------------
    def column_map(
        self,
        data_columns: Iterable[Any],
        *,
        columns: Mapping[Any, str] | Sequence[str] | None = None,
        prefix: str | None = None,
        items: Sequence[str] | None = None,
    ) -> dict[str, str]:
        """Which data column holds each item.

        ``columns`` maps item ids to column names, or lists one column name per item in
        item order; items not in a mapping are found as ``prefix + id``; ``prefix``
        defaults to ``"<tool name>_"`` (``epds_1``...).
        Raises a DataError listing every item whose column is not in the data.
        """
        items = list(items) if items is not None else list(self.items)
        columns = self._columns_mapping(columns)
        mapping: dict[str, str] = {}
        unknown = []
        for key, col in columns.items():
            item = str(key).strip()
            if item not in self.items:
                unknown.append(key)
            mapping[item] = col
        if unknown:
            raise ParameterError(
                f"{self.name} has no item(s) " + format_list(repr(k) for k in unknown),
                key="columns",
                expected="item ids " + format_list(self.items, limit=12),
            )
        if prefix is None:
            prefix = f"{self.name}_"
        out = {i: mapping.get(i, f"{prefix}{i}") for i in items}
        used = list(out.values())
        dup = sorted({c for c in used if used.count(c) > 1})
        if dup:
            raise ParameterError(
                "the same column is given for several items: " + format_list(map(repr, dup)),
                key="columns",
                expected="one column per item",
            )
        present = set(data_columns)
        missing = [i for i in items if out[i] not in present]
        if missing:
            cols = [out[i] for i in missing]
            raise DataError(
                f"not found: the {self.name} item(s) {format_list(missing)} need these "
                "columns. Name the columns with "
                "columns={'1': 'your_column', ...} or prefix='your_prefix_' "
                "(command line: --map 1=your_column or --prefix your_prefix_)",
                columns=cols,
            )
        return out

    def _columns_mapping(self, columns: Any) -> dict[Any, str]:
        """``columns`` as item id → column name (a list is taken in item order)."""
        if columns is None:
            return {}
        if isinstance(columns, Mapping):
            return dict(columns)
        expected = (
            "a mapping of item id to column name ({'1': 'q1', ...}) or a list of "
            f"{len(self.items)} column names in item order"
        )
        if isinstance(columns, (str, bytes)) or not isinstance(columns, (list, tuple, pd.Index)):
            raise ParameterError(
                f"columns must be a mapping or a list, got {type(columns).__name__}",
                key="columns",
                expected=expected,
            )
        names = list(columns)
        if len(names) != len(self.items):
            raise ParameterError(
                f"{len(names)} column name(s) given for the {len(self.items)} {self.name} items",
                key="columns",
                expected=expected,
            )
        return dict(zip(self.items, names))

    def _answers(
        self,
        df: pd.DataFrame,
        mapping: Mapping[str, str],
        *,
        values: Mapping[Any, Any] | None,
        missing_codes: Iterable[Any] | None,
        input: str | None = None,
    ) -> pd.DataFrame:
        """Item columns checked and converted to floats (NaN = unanswered); columns = item ids."""
        allowed = self.spec.response.allowed()
        allowed_f = np.array(allowed, dtype=float)
        allowed_text = self.spec.response.describe()
        recode = {_norm_key(k): v for k, v in (values or {}).items()}
        for k, v in recode.items():
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise ParameterError(
                    f"values: the answer {k!r} is mapped to {v!r}, not a number",
                    key="values",
                    expected=f"a number ({allowed_text})",
                )
        codes = {_norm_key(c) for c in (missing_codes or [])}
        labels_all = df.attrs.get("value_labels") or {}

        text_bad: dict[str, tuple[list, list]] = {}
        range_bad: dict[str, tuple[list, list]] = {}
        out = {}
        lo_hi = self.spec.response.min + self.spec.response.max
        for item, col in mapping.items():
            labels = self._labels[item]
            if input is not None and input != self.input and item in self.reverse:
                # labels give the number in the spec's coding; the other coding is reversed
                labels = {k: lo_hi - v for k, v in labels.items()}
            s = df[col]
            if isinstance(s, pd.DataFrame):
                raise DataError("the data have several columns with this name", column=str(col))
            if pd.api.types.is_bool_dtype(s):
                raise DataError(
                    "holds True/False, not answers",
                    column=str(col),
                    allowed=allowed_text,
                )
            if codes or recode or not pd.api.types.is_numeric_dtype(s):
                nums = []
                rows_t, vals_t = [], []
                for idx, v in s.items():
                    if _is_missing(v):
                        nums.append(np.nan)
                        continue
                    key = _norm_key(v)
                    if key in codes:
                        nums.append(np.nan)
                        continue
                    if key in recode:
                        v = recode[key]
                    elif isinstance(key, str) and key in labels:
                        v = labels[key]
                    if isinstance(v, (bool, np.bool_)):
                        rows_t.append(idx)
                        vals_t.append(v)
                        nums.append(np.nan)
                        continue
                    if isinstance(v, (int, float, np.integer, np.floating)):
                        nums.append(float(v))
                        continue
                    try:
                        nums.append(float(str(v).strip()))
                    except ValueError:
                        rows_t.append(idx)
                        vals_t.append(v)
                        nums.append(np.nan)
                if rows_t:
                    text_bad[str(col)] = (rows_t, vals_t)
                arr = np.array(nums, dtype=float)
            else:
                arr = s.to_numpy(dtype=float, copy=True)
            ok = np.isnan(arr) | np.isin(arr, allowed_f)
            if not ok.all():
                range_bad[str(col)] = (list(s.index[~ok]), list(s[~ok]))
            out[item] = arr
        if text_bad:
            self._raise_bad(
                text_bad,
                "text where numbers are expected",
                f"numbers ({allowed_text}) or empty for a missing answer",
                hint=(
                    self._known_labels() + "If these are answer labels, give the number for "
                    "each label with values={'Not true': 0, ...} (command line: "
                    "--value 'Not true=0' or --values labels.yaml)."
                ),
            )
        if range_bad:
            labels = _describe_labels(labels_all.get(next(iter(range_bad))))
            self._raise_bad(
                range_bad,
                f"answers outside the {self.name} response range",
                f"{allowed_text}, or empty for a missing answer",
                hint=(
                    labels + "Recode them with values={3: 2, ...}, or declare codes "
                    "that mean 'missing' with missing_codes=[9, 99] (command line: "
                    "--value 3=2, --missing-code 99)."
                ),
            )
        frame = pd.DataFrame(out, index=df.index)
        frame.columns = pd.Index(list(mapping), dtype=object)
        return frame

    def _known_labels(self) -> str:
        labels = list(self.answer_labels())
        if not labels:
            return ""
        return f"The {self.name} spec reads the labels {format_list(map(repr, labels), limit=6)}. "

    def _raise_bad(
        self, bad: dict[str, tuple[list, list]], what: str, allowed: str, *, hint: str
    ) -> None:
        values = [_plain(v) for _, vals in bad.values() for v in vals]
        if len(bad) == 1:
            col, (rows, _) = next(iter(bad.items()))
            raise DataError(
                f"{what}. {hint}", column=col, rows=rows, values=values, allowed=allowed
            )
        parts = [
            f"{col!r} {'row' if len(rows) == 1 else 'rows'} {format_list(rows, limit=5)}"
            for col, (rows, _) in bad.items()
        ]
        shown = "; ".join(parts[:5]) + (
            f"; and {len(parts) - 5} more columns" if len(parts) > 5 else ""
        )
        err = DataError(
            f"{what} in {len(bad)} columns ({shown}). {hint}", values=values, allowed=allowed
        )
        err.columns = list(bad)  # for programs; the message already names them
        raise err

    def _prepare(
        self,
        df: pd.DataFrame,
        *,
        columns: Mapping[Any, str] | None,
        prefix: str | None,
        id: str | None,
        input: str | None,
        values: Mapping[Any, Any] | None,
        missing_codes: Iterable[Any] | None,
    ) -> tuple[pd.DataFrame, pd.Index]:
        """Keyed item scores (columns = item ids) and the output index."""
        if not isinstance(df, pd.DataFrame):
            raise DataError(f"data must be a pandas DataFrame, got {type(df).__name__}")
        dup_cols = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        if dup_cols:
            raise DataError("the data have repeated column names", columns=dup_cols)

        keyed_by = df.attrs.get(KEYED_ATTR)
        if keyed_by is not None:
            # A frame from items_frame(): already keyed. Reversing again would be wrong.
            if keyed_by != self.name:
                raise DataError(f"these are keyed item scores of {keyed_by!r}, not {self.name!r}")
            if input == "responses":
                raise DataError(
                    "these item scores come from items_frame() and are already reverse-keyed; "
                    "score them with input='scores'"
                )
            input = "scores"
            if columns is None and prefix is None:
                prefix = ""
        input = check_choice(
            "input", input if input is not None else self.input, ["responses", "scores"]
        )

        index = df.index
        if id is not None:
            if id not in df.columns:
                raise DataError(
                    f"no ID column {id!r}",
                    column=id,
                    allowed="one of " + format_list(repr(str(c)) for c in df.columns),
                )
            ids = df[id]
            # Never show an ID: count the rows and give their positions as in a spreadsheet.
            missing_ids = ids.isna().to_numpy()
            if missing_ids.any():
                raise DataError(
                    f"person ID missing on {int(missing_ids.sum())} row(s): "
                    + spreadsheet_rows(np.flatnonzero(missing_ids)),
                    column=id,
                    allowed="an ID on every row",
                )
            dup = ids.duplicated(keep=False).to_numpy()
            if dup.any():
                raise DataError(
                    f"{int(ids[dup].nunique())} person ID(s) appear on several rows "
                    f"({int(dup.sum())} rows): " + spreadsheet_rows(np.flatnonzero(dup)),
                    column=id,
                    allowed="one row per person (split pre and post into separate files "
                    "or columns)",
                )
            index = pd.Index(ids.to_numpy(), name=id)

        mapping = self.column_map(df.columns, columns=columns, prefix=prefix)
        answers = self._answers(
            df, mapping, values=values, missing_codes=missing_codes, input=input
        )
        if input == "responses" and self.reverse:
            lo, hi = self.spec.response.min, self.spec.response.max
            rev = list(self.reverse)
            answers[rev] = (lo + hi) - answers[rev]
        answers.index = index
        return answers, index

    # -- public API -----------------------------------------------------------------------------
    def items_frame(
        self,
        df: pd.DataFrame,
        *,
        columns: Mapping[Any, str] | None = None,
        prefix: str | None = None,
        scale: str | None = None,
        id: str | None = None,
        input: str | None = None,
        values: Mapping[Any, Any] | None = None,
        missing_codes: Iterable[Any] | None = None,
    ) -> pd.DataFrame:
        """Keyed item scores, ready for :mod:`evalkit.reliability`.

        Rows are respondents, columns are item ids, values are item scores with
        reverse-keyed items already reversed (when the data hold response positions),
        NaN where unanswered. Pass ``scale`` to keep only that scale's items
        (reliability is computed per subscale). The frame is marked as keyed
        (``frame.attrs["evalkit_keyed"]``) so that scoring it again never reverses
        items twice.

        Parameters
        ----------
        df
            One row per respondent.
        columns, prefix, id, input, values, missing_codes
            As in :meth:`score`.
        scale
            A subscale name or ``"total"``; all items when omitted.

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> import evalkit as ek
        >>> tool = ek.tools.get("sdq")
        >>> items = tool.items_frame(df, prefix="sdq_", scale="emotional")  # doctest: +SKIP
        >>> lo, hi = tool.response_range
        >>> ek.reliability.reliability_summary(
        ...     items, published=tool.published("emotional"), scale_min=lo, scale_max=hi
        ... )  # doctest: +SKIP
        """
        answers, _ = self._prepare(
            df,
            columns=columns,
            prefix=prefix,
            id=id,
            input=input,
            values=values,
            missing_codes=missing_codes,
        )
        if scale is not None:
            answers = answers[list(self.scale_items(scale))]
        answers.attrs = {KEYED_ATTR: self.name}
        return answers

    def score(
        self,
        df: pd.DataFrame,
        *,
        columns: Mapping[Any, str] | None = None,
        prefix: str | None = None,
        id: str | None = None,
        input: str | None = None,
        values: Mapping[Any, Any] | None = None,
        missing_codes: Iterable[Any] | None = None,
        cutoffs: Mapping[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Score every respondent as the tool's manual says.

        For each scale, the score is the sum of its keyed item scores. Missing answers
        follow the spec: ``complete`` scores only complete scales; ``prorate`` scores a
        scale with at least ``min_answered`` of its k items answered as
        ``sum(answered) × k / n_answered`` (the mean × k), rounded half up when the spec
        says so (SDQ: 2.5 → 3) or kept as is (ASQ-3 adjusted scores). A total made of
        subscales is missing when any of them is. Reverse-keyed items are reversed
        (``min + max − x``) only when the columns hold response positions
        (``input="responses"``), never twice.

        Parameters
        ----------
        df
            One row per respondent, one column per item.
        columns
            Item id → column name, e.g. ``{"1": "q1_epds"}``; items not listed are
            found with ``prefix``. Or a list with one column name per item, in item
            order (``["q1", "q2", ...]``).
        prefix
            Column name prefix: item ``i`` is column ``f"{prefix}{i}"``. Default
            ``"<tool name>_"`` (``epds_1``, ``sdq_25``, ``asq3_communication_1``).
        id
            Person ID column: checked for duplicates and used as the index.
        input
            ``"responses"`` (response positions, reverse items are reversed) or
            ``"scores"`` (item scores, nothing reversed). Default: the spec's ``input``.
        values
            Recode answers before checking, e.g. ``{"Not true": 0, "Somewhat true": 1}``
            or ``{1: 0, 2: 1, 3: 2}``; text keys match ignoring case and spaces. Answer
            labels the spec knows (:meth:`answer_labels`, e.g. "Not at all") are read
            without it; ``values`` takes precedence over them.
        missing_codes
            Codes that mean "no answer", e.g. ``[9, 99]``.
        cutoffs
            For scales whose cut-offs the user supplies (ASQ-3): scale →
            cut-off, or ``{"cutoff": c, "monitoring": m}``. Scores ≤ c are "below cutoff",
            c < score ≤ m "monitoring", higher "above cutoff".

        Returns
        -------
        pandas.DataFrame
            Indexed like ``df`` (or by ``id``): one float column per scale
            (``total`` for single-scale tools; subscales then ``total`` for the SDQ),
            conversions (SWEMWBS ``metric``), ``<scale>_band`` (ordered categorical,
            low scores first), ``flag_<name>`` (nullable boolean: NA when the item is
            unanswered), ``<subscale>_answered`` and ``n_answered``.

        Raises
        ------
        DataError
            Missing item columns, text or out-of-range answers, duplicated IDs (naming
            the columns, rows and values).

        Examples
        --------
        >>> import pandas as pd, evalkit as ek
        >>> df = pd.DataFrame({f"epds_{i}": [1, 0] for i in range(1, 11)})
        >>> ek.tools.get("epds").score(df)[["total", "total_band", "flag_self_harm"]]
           total           total_band  flag_self_harm
        0   10.0  possible depression            True
        1    0.0      below threshold           False
        """
        keyed, index = self._prepare(
            df,
            columns=columns,
            prefix=prefix,
            id=id,
            input=input,
            values=values,
            missing_codes=missing_codes,
        )
        user_bands = self._user_cutoffs(cutoffs)
        scores: dict[str, pd.Series] = {}
        answered: dict[str, pd.Series] = {}
        for name, sub in self.spec.subscales.items():
            scores[name], answered[name] = _scale_score(keyed[list(sub.items)], sub.missing)
        total = self.spec.total
        if total is not None:
            if total.subscales is not None:
                parts = pd.concat([scores[s] for s in total.subscales], axis=1)
                scores["total"] = parts.sum(axis=1, min_count=1).where(parts.notna().all(axis=1))
            else:
                scores["total"], _ = _scale_score(
                    keyed[list(self.scale_items("total"))], total.missing
                )

        out: dict[str, Any] = dict(scores)
        for conv in self.spec.conversions:
            table = {float(k): float(v) for k, v in conv.table.items()}
            out[conv.name] = scores[conv.scale].map(table).astype(float)
        for scale in self.scales:
            if self.bands(scale):
                out[f"{scale}_band"] = _band(scores[scale], self.bands(scale))
            elif scale in user_bands:
                out[f"{scale}_band"] = _cutoff_band(scores[scale], *user_bands[scale])
        for flag in self.spec.flags:
            x = keyed[flag.item]
            out[f"flag_{flag.name}"] = pd.array(
                [pd.NA if np.isnan(v) else bool(v > flag.above) for v in x], dtype="boolean"
            )
        if self.subscales:
            for name in self.subscales:
                out[f"{name}_answered"] = answered[name]
        out["n_answered"] = keyed.notna().sum(axis=1).astype(int)
        result = pd.DataFrame(out, index=index)
        return result

    def _user_cutoffs(self, cutoffs: Mapping[str, Any] | None) -> dict[str, tuple]:
        if not cutoffs:
            return {}
        allowed = [
            s for s in self.scales if (self.spec.subscales.get(s) or self.spec.total).user_cutoffs
        ]
        if not isinstance(cutoffs, Mapping):
            raise ParameterError(
                "cutoffs must be a mapping of scale to cut-off",
                key="cutoffs",
                expected="{'communication': 22.77, ...}",
            )
        out = {}
        for scale, value in cutoffs.items():
            if scale not in allowed:
                raise ParameterError(
                    f"{self.name} takes no user cut-off for {scale!r}",
                    key=f"cutoffs.{scale}",
                    expected=("one of " + ", ".join(map(repr, allowed)))
                    if allowed
                    else "no cutoffs (this tool's bands are in its spec)",
                )
            if isinstance(value, Mapping):
                extra = set(value) - {"cutoff", "monitoring"}
                if extra or "cutoff" not in value:
                    raise ParameterError(
                        "give 'cutoff' and optionally 'monitoring'",
                        key=f"cutoffs.{scale}",
                        expected="{'cutoff': 22.77, 'monitoring': 33.5}",
                    )
                cut, mon = value["cutoff"], value.get("monitoring")
            else:
                cut, mon = value, None
            lo, hi = self.range(scale)
            for what, v in (("cutoff", cut), ("monitoring", mon)):
                if v is None and what == "monitoring":
                    continue
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                    raise ParameterError(
                        f"{what} {v!r} is not a score of {scale}",
                        key=f"cutoffs.{scale}",
                        expected=f"a number from {lo} to {hi}",
                    )
            if mon is not None and mon <= cut:
                raise ParameterError(
                    f"monitoring ({mon}) must be above the cutoff ({cut})",
                    key=f"cutoffs.{scale}",
                    expected="monitoring > cutoff",
                )
            out[scale] = (float(cut), None if mon is None else float(mon))
        return out

    def describe(self) -> str:
        """A plain-text description of the tool (what ``evalkit tools show`` prints)."""
        s = self.spec
        lines = [
            f"{s.name}: {s.title}",
            f"  informant: {s.informant}",
            f"  age range: {s.age_range}",
            f"  items: {len(self.items)} ({format_list(self.items, limit=30)})",
            f"  answers: {s.response.describe()}",
            f"  columns hold: {s.input}"
            + (f" - {' '.join(s.input_note.split())}" if s.input_note else ""),
            "  reverse-keyed: " + (", ".join(self.reverse) or "none"),
        ]
        if s.response_labels:
            shown = ", ".join(f"{k!r}={v}" for k, v in s.response_labels.items())
            lines.append(f"  answer labels read: {shown}")
        if s.item_labels:
            lines.append(f"  answer labels read for items {', '.join(s.item_labels)} (per item)")
        for scale in self.scales:
            part = s.subscales.get(scale) or s.total
            lo, hi = self.range(scale)
            if scale == "total" and part.subscales is not None:
                made = "sum of " + ", ".join(part.subscales)
            else:
                made = "items " + ", ".join(self.scale_items(scale))
            m = part.missing
            rule = (
                "complete answers only"
                if m.rule == "complete"
                else f"prorated with at least {m.min_answered} answered"
                + (", rounded half up" if m.round == "half_up" else ", not rounded")
            )
            if scale == "total" and part.subscales is not None:
                rule = "missing if any of these is missing"
            lines.append(f"  scale {scale} ({lo}-{hi}, {self.direction(scale)}): {made}; {rule}")
            for b in part.bands:
                lines.append(f"      {b.min}-{b.max}: {b.label}")
            if part.user_cutoffs:
                lines.append("      cut-offs supplied by the user (cutoffs=...)")
        for c in s.conversions:
            lines.append(f"  conversion {c.name}: from {c.scale} ({' '.join(c.source.split())})")
        for f in s.flags:
            lines.append(
                f"  flag {f.name}: item {f.item} above {_fmt(f.above)} - "
                f"{' '.join(f.message.split())}"
            )
        for r in self.published_reliability:
            lines.append(
                f"  published {r.statistic} ({r.scale}): {r.value} - {' '.join(r.citation.split())}"
            )
        if s.reliability_note:
            lines.append(f"  reliability note: {' '.join(s.reliability_note.split())}")
        lines.append(f"  scoring source: {' '.join(s.scoring_source.split())}")
        lines.append(f"  licence: {' '.join(s.licence.split())}")
        return "\n".join(lines)


def _scale_score(items: pd.DataFrame, missing: Missing) -> tuple[pd.Series, pd.Series]:
    """Score of one scale and the number of its items answered, per respondent."""
    k = items.shape[1]
    answered = items.notna().sum(axis=1).astype(int)
    total = items.sum(axis=1, min_count=1)
    if missing.rule == "complete":
        return total.where(answered == k), answered
    ok = answered >= missing.min_answered
    # sum × k / n rather than mean × k: an exact half stays exact in floating point.
    raw = (total * k / answered.where(ok)).where(ok)
    if missing.round == "half_up":
        raw = round_half_up(raw)
    return raw.astype(float), answered


def _band(score: pd.Series, bands: Sequence[Band]) -> pd.Categorical:
    ordered = sorted(bands, key=lambda b: b.min)
    cats = list(dict.fromkeys(b.label for b in ordered))
    codes = np.full(len(score), -1, dtype=np.int64)  # -1: no band (a missing score)
    x = score.to_numpy(dtype=float)
    for b in ordered:
        codes[(x >= b.min) & (x <= b.max)] = cats.index(b.label)
    return pd.Categorical.from_codes(codes, categories=cats, ordered=True)


def _cutoff_band(score: pd.Series, cutoff: float, monitoring: float | None) -> pd.Categorical:
    x = score.to_numpy(dtype=float)
    labels = np.full(len(x), None, dtype=object)
    labels[x <= cutoff] = "below cutoff"
    if monitoring is None:
        labels[x > cutoff] = "above cutoff"
        cats = ["below cutoff", "above cutoff"]
    else:
        labels[(x > cutoff) & (x <= monitoring)] = "monitoring"
        labels[x > monitoring] = "above cutoff"
        cats = ["below cutoff", "monitoring", "above cutoff"]
    return pd.Categorical(labels, categories=cats, ordered=True)

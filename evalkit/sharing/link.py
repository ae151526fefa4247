"""Linking records of one child across sources: a deterministic pass, then Splink.

1. **Deterministic.** Records with the same valid NHS number (Modulus 11 checked) are one
   child, within a source (true duplicates) and across sources.
2. **Probabilistic.** Splink (Ministry of Justice; Linacre et al. 2022) fits a
   Fellegi-Sunter model (Fellegi & Sunter 1969) to pairs of records from different sources
   that share a blocking key: u probabilities from random pairs, m probabilities by
   expectation maximisation, then a match weight and probability for every blocked pair.
   Comparisons: NHS number, first name (exact, same name after nicknames and spelling
   variants, Jaro-Winkler >= 0.92 and >= 0.80), surname (exact, Jaro-Winkler), date of birth
   (exact, day and month swapped, one character different, same year and month), postcode
   (full, sector, district) and sex.
3. **Clustering under constraints.** Links are accepted from the most to the least
   probable; a link is refused if the child it would make had two records of one source
   (apart from NHS-number duplicates) or two different valid NHS numbers. Twins share a
   surname, a birth date and an address, so a plain connected-components clustering can
   chain them together through one weak link; these rules cannot. Two records born on the
   same day whose first names disagree outright (not a typo or a nickname) are never linked
   by the model either: in a small source the other agreements can outweigh the first name.
4. **Clerical review.** Pairs whose probability lies in a band around the threshold go to
   ``result.review`` (write them with :meth:`LinkResult.write_review`); a reviewer fills in
   ``decision`` (``match`` or ``non-match``) and the file is passed back as ``decisions=``,
   which forces those pairs in or out.

Splink and DuckDB are imported here only, when :func:`link` runs; ``import evalkit``
does not load them.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, EvalkitWarning, ParameterError, format_list
from .dictionary import DataDictionary, load_dictionary
from .nicknames import canonical_first_name
from .normalise import normalise_sex
from .pseudonymise import normalise_identifier

__all__ = ["LinkResult", "LinkQuality", "link", "linkage_frame", "evaluate_links", "read_decisions"]

_FIELDS = ("nhs_number", "first_name", "surname", "date_of_birth", "postcode", "sex")
_LINK_COLUMNS = ["source", "record_id", "cluster_id", "match_probability"]
_DECISIONS = {
    "match": True,
    "yes": True,
    "same": True,
    "non-match": False,
    "no": False,
    "different": False,
}


@dataclass(frozen=True)
class LinkQuality:
    """How good the linkage probably is (no truth needed).

    Attributes
    ----------
    parameters
        The fitted model: per comparison and level, ``m``, ``u`` and the match weight
        ``log2(m/u)``; the prior is in ``settings["probability_two_random_records_match"]``.
    weights
        The match-weight distribution of all scored pairs (``bin_low, bin_high, pairs``).
    precision, recall
        Estimated from the model's own probabilities: precision is the mean match
        probability of the accepted pairs, recall the expected matches among accepted
        pairs over the expected matches among all scored pairs (Splink pairs scored at or
        above the review band's lower bound, 0.5 by default, so recall is an upper bound;
        deterministic NHS links count as certain and are not in either figure).
    counts
        Records, clusters, deterministic and probabilistic links, review pairs, refused links.
    settings
        The Splink settings dictionary with the fitted parameters (reusable with
        ``splink.Linker(..., settings)`` on another backend).
    """

    parameters: pd.DataFrame
    weights: pd.DataFrame
    precision: float
    recall: float
    threshold: float
    counts: dict[str, int]
    settings: dict = field(repr=False, default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per summary figure (``measure, value``)."""
        rows = [("precision (estimated)", self.precision), ("recall (estimated)", self.recall)]
        rows += [("threshold", self.threshold)] + [(k, v) for k, v in self.counts.items()]
        return pd.DataFrame(rows, columns=["measure", "value"])


@dataclass(frozen=True)
class LinkResult:
    """The result of :func:`link`.

    Attributes
    ----------
    links
        One row per record: ``source, record_id, cluster_id, match_probability`` (the
        probability of the strongest link that put the record in its cluster; 1 for
        deterministic links, and missing for a record linked to nothing).
    quality
        A :class:`LinkQuality`.
    review
        Pairs near the threshold for clerical review: ``source_l, record_id_l, source_r,
        record_id_r, match_probability, match_weight``, one agreement column per
        comparison, and an empty ``decision``.
    pairs
        The links accepted into clusters (``source_l, record_id_l, source_r, record_id_r,
        match_probability, how``).
    """

    links: pd.DataFrame
    quality: LinkQuality
    review: pd.DataFrame
    pairs: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.links.copy()

    def write_review(self, path: str | Path) -> Path:
        """Write the clerical-review pairs to a CSV for reviewers to fill in ``decision``."""
        p = Path(path)
        self.review.to_csv(p, index=False)
        return p


def _sex(values: pd.Series) -> pd.Series:
    s = values.astype("string").str.strip().str.lower().str[:1]
    return s.map({"f": "F", "g": "F", "w": "F", "m": "M", "b": "M", "1": "M", "2": "F"}).astype(
        "string"
    )


def linkage_frame(
    sources: Mapping[str, pd.DataFrame], dictionary: DataDictionary
) -> tuple[pd.DataFrame, dict[str, dict[str, list[int]]]]:
    """All sources in one frame of normalised linkage fields.

    Columns: ``unique_id`` (0..n-1), ``source``, ``record_id`` (the source's record
    number, or its row number from 1), ``nhs_number``, ``first_name``, ``first_canon``,
    ``surname``, ``date_of_birth``, ``dob_ym``, ``postcode``, ``pc_sector``,
    ``pc_district`` and ``sex``. Also returns the unusable values per source and column
    (data row numbers).
    """
    frames, problems = [], {}
    offset = 0
    for name, df in sources.items():
        spec = dictionary.sources.get(name)
        if spec is None:
            raise ParameterError(
                f"source {name!r} is not in the data dictionary",
                file=dictionary.file,
                key="sources",
                expected=format_list(map(repr, dictionary.sources)),
            )
        missing = [c for c in spec.columns if c not in df.columns]
        if missing:
            raise DataError(
                f"named in {dictionary.file} but not in source {name!r}",
                columns=missing,
                allowed="columns of the source: " + format_list(map(repr, df.columns)),
            )
        out = pd.DataFrame(index=df.index)
        if spec.record_id is not None:
            rid = (
                df[spec.record_id].astype("string").str.replace(r"\.0$", "", regex=True).str.strip()
            )
            if rid.isna().any() or rid.duplicated().any():
                rows = [int(i) + 1 for i in np.flatnonzero(rid.isna() | rid.duplicated(keep=False))]
                raise DataError(
                    f"source {name!r}: the record_id column must be filled in and unique",
                    column=spec.record_id,
                    rows=rows,
                    allowed="one distinct record number per row",
                )
        else:
            rid = pd.Series(np.arange(1, len(df) + 1), index=df.index).astype("string")
        out["source"] = name
        out["record_id"] = rid.to_numpy()
        bad: dict[str, list[int]] = {}
        for type_ in _FIELDS:
            col = spec.of_type(type_)
            if col is None:
                out[type_] = pd.Series(pd.NA, index=df.index, dtype="string")
                continue
            if type_ == "sex":
                out[type_] = normalise_sex(df[col.name])
                continue
            kind = "date" if type_ == "date_of_birth" else type_
            norm, unusable = normalise_identifier(df[col.name], kind)
            out[type_] = norm
            if unusable.any():
                bad[col.name] = [int(i) + 1 for i in np.flatnonzero(unusable.to_numpy())]
        problems[name] = bad
        out = out.reset_index(drop=True)
        out.insert(0, "unique_id", np.arange(offset, offset + len(out), dtype=np.int64))
        offset += len(out)
        frames.append(out)
    f = pd.concat(frames, ignore_index=True)
    uniq = f["first_name"].dropna().unique()
    f["first_canon"] = (
        f["first_name"].map({u: canonical_first_name(u) for u in uniq}).astype("string")
    )
    f["dob_ym"] = f["date_of_birth"].str[:7]
    pc = f["postcode"]
    f["pc_district"] = pc.str[:-3]
    f["pc_sector"] = pc.str[:-2]
    return f, problems


# Splink numbers a comparison's non-null levels from the last (0) up: the date-of-birth
# comparison below has five (exact, swapped, one character, same month, else)
_DOB_EXACT = 4


# blocking rules: (column expressions, linkage fields they need); a rule is used when its
# fields are present in some source
_BLOCKING = (
    (("surname", "date_of_birth"), ("surname", "date_of_birth")),
    (("first_canon", "date_of_birth"), ("first_name", "date_of_birth")),
    (
        ("first_canon", "surname", "substr(date_of_birth, 1, 4)"),
        ("first_name", "surname", "date_of_birth"),
    ),
    (("postcode", "date_of_birth"), ("postcode", "date_of_birth")),
    (("postcode", "first_canon"), ("postcode", "first_name")),
)
# used only when there is no date of birth
_BLOCKING_NO_DOB = (
    (("first_canon", "surname"), ("first_name", "surname")),
    (("surname", "postcode"), ("surname", "postcode")),
)
# EM sessions, in order of preference (the first two usable ones run)
_EM_BLOCKING = (
    (("surname", "date_of_birth"), ("surname", "date_of_birth")),
    (("first_canon", "postcode"), ("first_name", "postcode")),
    (("first_canon", "date_of_birth"), ("first_name", "date_of_birth")),
    (("surname", "postcode"), ("surname", "postcode")),
    (("first_canon", "surname"), ("first_name", "surname")),
)


def _usable(rules, present: set[str]) -> list[tuple[str, ...]]:
    return [cols for cols, need in rules if set(need) <= present]


def _settings(present: set[str] | None = None, prior: float | None = None) -> dict:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    first = cl.CustomComparison(
        [
            cll.NullLevel("first_name"),
            cll.ExactMatchLevel("first_name"),
            cll.ExactMatchLevel("first_canon").configure(
                label_for_charts="same name after nicknames"
            ),
            cll.JaroWinklerLevel("first_name", 0.92),
            cll.JaroWinklerLevel("first_name", 0.80),
            cll.ElseLevel(),
        ],
        output_column_name="first_name",
    )
    dob = cl.CustomComparison(
        [
            cll.NullLevel("date_of_birth"),
            cll.ExactMatchLevel("date_of_birth"),
            cll.CustomLevel(
                "substr(date_of_birth_l, 1, 4) = substr(date_of_birth_r, 1, 4) AND "
                "substr(date_of_birth_l, 6, 2) = substr(date_of_birth_r, 9, 2) AND "
                "substr(date_of_birth_l, 9, 2) = substr(date_of_birth_r, 6, 2)",
                "day and month swapped",
            ),
            cll.DamerauLevenshteinLevel("date_of_birth", 1),
            cll.ExactMatchLevel("dob_ym"),
            cll.ElseLevel(),
        ],
        output_column_name="date_of_birth",
    )
    postcode = cl.CustomComparison(
        [
            cll.NullLevel("postcode"),
            cll.ExactMatchLevel("postcode"),
            cll.ExactMatchLevel("pc_sector"),
            cll.ExactMatchLevel("pc_district"),
            cll.ElseLevel(),
        ],
        output_column_name="postcode",
    )
    present = set(_FIELDS) if present is None else set(present)
    comparisons = [
        ("nhs_number", cl.ExactMatch("nhs_number")),
        ("first_name", first),
        ("surname", cl.JaroWinklerAtThresholds("surname", [0.92, 0.80])),
        ("date_of_birth", dob),
        ("postcode", postcode),
        ("sex", cl.ExactMatch("sex")),
    ]
    rules = _usable(_BLOCKING, present)
    if "date_of_birth" not in present:
        rules += _usable(_BLOCKING_NO_DOB, present)
    kw: dict[str, Any] = {}
    if prior is not None:
        kw["probability_two_random_records_match"] = prior
    return SettingsCreator(
        link_type="link_only",
        comparisons=[c for f, c in comparisons if f in present],
        blocking_rules_to_generate_predictions=[block_on(*cols) for cols in rules],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,
        **kw,
    )


class _Clusters:
    """Union-find with the constraints: one record per source (NHS duplicates aside) and
    at most one valid NHS number per cluster. Plain lists: faster than numpy scalars."""

    def __init__(self, sources: np.ndarray, nhs: np.ndarray) -> None:
        codes, _ = pd.factorize(pd.Series(sources))
        self.parent = list(range(len(sources)))
        self.mask = [1 << int(c) for c in codes]
        self.nhs = [v if isinstance(v, str) else None for v in nhs]

    def find(self, i: int) -> int:
        p = self.parent
        root = i
        while p[root] != root:
            root = p[root]
        while p[i] != root:
            p[i], i = root, p[i]
        return root

    def union(self, a: int, b: int, *, force: bool = False) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        na, nb = self.nhs[ra], self.nhs[rb]
        if not force and (self.mask[ra] & self.mask[rb] or (na and nb and na != nb)):
            return False
        self.parent[rb] = ra
        self.mask[ra] |= self.mask[rb]
        self.nhs[ra] = na or nb
        return True


def read_decisions(decisions: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Clerical decisions: ``source_l, record_id_l, source_r, record_id_r, decision``.

    ``decision`` is ``match`` or ``non-match`` (also yes/no, same/different); blank rows
    are ignored.
    """
    if isinstance(decisions, str | Path):
        from ..tools.io import read_data

        df = read_data(decisions)
        fname = Path(decisions).name
    else:
        df, fname = decisions, "decisions"
    need = ["source_l", "record_id_l", "source_r", "record_id_r", "decision"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(
            "missing from the clerical decisions",
            columns=missing,
            file=fname,
            allowed=", ".join(need),
        )
    d = df[need].copy()
    d["decision"] = d["decision"].astype("string").str.strip().str.lower()
    d = d[d["decision"].notna() & d["decision"].ne("")]
    unknown = ~d["decision"].isin(list(_DECISIONS))
    if unknown.any():
        raise DataError(
            "not a decision",
            column="decision",
            file=fname,
            rows=[int(i) + 1 for i in np.flatnonzero(unknown.to_numpy())],
            allowed="match or non-match (or blank)",
        )
    d["is_match"] = d["decision"].map(_DECISIONS).astype(bool)
    for c in ("record_id_l", "record_id_r"):
        d[c] = d[c].astype("string").str.replace(r"\.0$", "", regex=True).str.strip()
    return d


def link(
    sources: Mapping[str, pd.DataFrame],
    dictionary: DataDictionary | str | Path | Mapping[str, Any],
    *,
    threshold: float | None = None,
    review_band: tuple[float, float] = (0.5, 0.99),
    decisions: str | Path | pd.DataFrame | None = None,
    db_api: Any = None,
    clustering: str = "constrained",
    max_pairs: float | None = None,
    seed: int = 2026,
    progress: Callable[[str], None] | None = None,
) -> LinkResult:
    """Link the records of the same child across sources.

    A deterministic pass on valid NHS numbers, then Splink's Fellegi-Sunter model
    (u by random sampling, m by expectation maximisation; Fellegi & Sunter 1969, *JASA*
    64:1183-1210; Splink: Linacre et al. 2022, *IJPDS* 7(3)), then clustering from the
    most probable link down, refusing any link that would put two records of one source or
    two different NHS numbers in one child (so twins are never merged). See the module
    docstring for the comparisons and blocking rules. Splink's own tutorials use the same
    calls: ``estimate_u_using_random_sampling``,
    ``estimate_parameters_using_expectation_maximisation``, ``predict`` and (with
    ``clustering="connected_components"``) ``cluster_pairwise_predictions_at_threshold``.

    Parameters
    ----------
    sources
        DataFrames named by source (``maternity``, ``health_visiting``, ...), as read; the
        names and columns are those of the data dictionary.
    dictionary
        A :class:`~evalkit.sharing.dictionary.DataDictionary`, a YAML file or a dict.
        Columns of types ``nhs_number``, ``first_name``, ``surname``, ``date_of_birth``,
        ``postcode`` and ``sex`` are compared.
    threshold
        Match probability at or above which two records are linked (default: the
        dictionary's ``threshold``, 0.9).
    review_band
        Pairs with a probability in ``[low, high)`` go to clerical review.
    decisions
        Clerical decisions (a CSV/XLSX or DataFrame, see :func:`read_decisions`): ``match``
        pairs are linked whatever the model says, ``non-match`` pairs never are.
    db_api
        A Splink database API: default ``splink.DuckDBAPI()`` (embedded, in memory); a
        ``splink.SparkAPI(spark_session=spark)`` runs the same settings on Spark.
    clustering
        ``"constrained"`` (default, described above) or ``"connected_components"``
        (Splink's clustering at the threshold, without the twin safeguards).
    max_pairs
        Random pairs for estimating u (default 50 per record, at least 100,000 and at
        most 1 million).
    seed
        Seed of the random sampling (reproducible u estimates).
    progress
        Called with a short description as each step starts.

    Returns
    -------
    LinkResult
        ``.links`` (``source, record_id, cluster_id, match_probability``), ``.quality``,
        ``.review`` and ``.pairs``.

    Examples
    --------
    >>> from evalkit.simulate_sources import demo_sources, demo_dictionary
    >>> d = demo_sources(500)
    >>> res = link(d["sources"], demo_dictionary())  # doctest: +SKIP
    >>> list(res.links.columns)  # doctest: +SKIP
    ['source', 'record_id', 'cluster_id', 'match_probability']
    """
    say = progress or (lambda _msg: None)
    dic = load_dictionary(dictionary)
    thr = dic.threshold if threshold is None else float(threshold)
    if not 0 < thr < 1:
        raise ParameterError(
            f"threshold={thr!r} is not allowed", key="threshold", expected="between 0 and 1"
        )
    lo, hi = review_band
    if not 0 <= lo <= hi <= 1:
        raise ParameterError(
            f"review_band={review_band!r} is not allowed",
            key="review_band",
            expected="0 <= low <= high <= 1",
        )
    if clustering not in ("constrained", "connected_components"):
        raise ParameterError(
            f"clustering={clustering!r} is not allowed",
            key="clustering",
            expected="constrained or connected_components",
        )
    if not sources:
        raise ParameterError(
            "no sources given", key="sources", expected="a dict of source name -> DataFrame"
        )
    dec = read_decisions(decisions) if decisions is not None else None  # fail before the work
    say("normalising identifiers")
    frame, _ = linkage_frame(sources, dic)
    n = len(frame)
    src = frame["source"].to_numpy(dtype=object)
    nhs = frame["nhs_number"].astype(object).where(frame["nhs_number"].notna(), None).to_numpy()

    # 1. deterministic pass on valid NHS numbers (duplicates within a source included)
    det = frame.loc[frame["nhs_number"].notna(), ["unique_id", "nhs_number"]]
    first_of = det.groupby("nhs_number")["unique_id"].transform("min").to_numpy()
    det_pairs = np.column_stack([first_of, det["unique_id"].to_numpy()])
    det_pairs = det_pairs[det_pairs[:, 0] != det_pairs[:, 1]]

    # 2. probabilistic linkage with Splink
    if max_pairs is None:
        max_pairs = float(min(1e6, max(1e5, 50 * n)))
    preds, params, settings = _splink(
        frame, dic, lo=min(lo, thr), db_api=db_api, max_pairs=max_pairs, seed=seed, say=say
    )

    # 3. clustering
    say("clustering")
    forced_in, forced_out = set(), set()
    unknown = 0
    if dec is not None:
        key_of = {
            (s, r): i
            for i, (s, r) in enumerate(zip(src, frame["record_id"].to_numpy(dtype=object)))
        }
        for row in dec.itertuples(index=False):
            a = key_of.get((row.source_l, row.record_id_l))
            b = key_of.get((row.source_r, row.record_id_r))
            if a is None or b is None:
                unknown += 1
                continue
            pair = (min(a, b), max(a, b))
            (forced_in if row.is_match else forced_out).add(pair)
    if unknown:
        warnings.warn(
            f"{unknown} clerical decisions name records that are not in the sources; "
            "they were ignored",
            EvalkitWarning,
            stacklevel=2,
        )
    pl = preds["unique_id_l"].to_numpy(dtype=np.int64)
    pr = preds["unique_id_r"].to_numpy(dtype=np.int64)
    pp = preds["match_probability"].to_numpy(dtype=float)
    twins = _possible_twins(preds)
    pp = np.where(twins, 0.0, pp)
    lo_id, hi_id = np.minimum(pl, pr), np.maximum(pl, pr)
    best = np.full(n, np.nan)
    accepted: list[tuple[int, int, float, str]] = []
    refused = 0
    if clustering == "constrained":
        cl = _Clusters(src, nhs)
        for a, b in det_pairs.tolist():
            cl.union(a, b, force=True)
            accepted.append((a, b, 1.0, "nhs_number"))
        for a, b in sorted(forced_in):
            cl.union(a, b, force=True)
            accepted.append((a, b, 1.0, "clerical"))
        order = np.argsort(-pp, kind="stable")
        order = order[pp[order] >= thr]
        find, union = cl.find, cl.union
        for a, b, p in zip(lo_id[order].tolist(), hi_id[order].tolist(), pp[order].tolist()):
            if (a, b) in forced_out or find(a) == find(b):
                continue
            if union(a, b):
                accepted.append((a, b, p, "splink"))
            else:
                refused += 1
        roots = np.asarray(cl.parent, dtype=np.int64)
        while True:  # pointer jumping: every record points at its cluster's root
            up = roots[roots]
            if np.array_equal(up, roots):
                break
            roots = up
        if accepted:
            acc_arr = np.array([(a, b, p) for a, b, p, _ in accepted])
            ends = np.concatenate([acc_arr[:, 0], acc_arr[:, 1]]).astype(np.int64)
            probs = np.concatenate([acc_arr[:, 2], acc_arr[:, 2]])
            best = pd.Series(probs).groupby(ends).max().reindex(range(n)).to_numpy()
    else:
        roots = _connected_components(
            n, det_pairs, lo_id, hi_id, pp, thr, forced_in, forced_out, best, accepted
        )
    # cluster ids: the smallest (source, record id) of each cluster, numbered in that order
    order = np.lexsort((frame["record_id"].to_numpy(dtype=str), src.astype(str)))
    first_seen: dict[int, int] = {}
    for r in roots[order].tolist():
        if r not in first_seen:
            first_seen[r] = len(first_seen) + 1
    links = pd.DataFrame(
        {
            "source": frame["source"],
            "record_id": frame["record_id"].astype("string"),
            "cluster_id": [first_seen[r] for r in roots.tolist()],
            "match_probability": best,
        }
    )
    acc = pd.DataFrame(accepted, columns=["a", "b", "match_probability", "how"])
    pairs = pd.DataFrame(
        {
            "source_l": src[acc["a"].to_numpy(dtype=int)] if len(acc) else [],
            "record_id_l": frame["record_id"].to_numpy()[acc["a"].to_numpy(dtype=int)]
            if len(acc)
            else [],
            "source_r": src[acc["b"].to_numpy(dtype=int)] if len(acc) else [],
            "record_id_r": frame["record_id"].to_numpy()[acc["b"].to_numpy(dtype=int)]
            if len(acc)
            else [],
            "match_probability": acc["match_probability"],
            "how": acc["how"],
        }
    )
    review = _review(preds, frame, lo, hi, settings)
    twins_kept = int((twins & (preds["match_probability"].to_numpy(dtype=float) >= thr)).sum())
    quality = _quality(
        preds, params, settings, thr, links, det_pairs, acc, review, refused, twins_kept
    )
    return LinkResult(links=links, quality=quality, review=review, pairs=pairs)


def _possible_twins(preds: pd.DataFrame) -> np.ndarray:
    """Pairs born on the same day whose first names disagree outright (not a typo, not a
    nickname): twins or siblings in a multiple birth. The model alone can score them high
    when nothing else differs, so they are never linked by it (a clerical ``match`` still
    can, and so can an identical valid NHS number)."""
    need = {"gamma_first_name", "gamma_date_of_birth"}
    if not need <= set(preds.columns):
        return np.zeros(len(preds), dtype=bool)
    first = preds["gamma_first_name"].to_numpy()
    dob = preds["gamma_date_of_birth"].to_numpy()
    # first name: 0 is 'all other comparisons'; date of birth: its highest level is exact
    return (first == 0) & (dob == _DOB_EXACT)


def _splink(frame, dic, *, lo, db_api, max_pairs, seed, say):
    import splink
    from splink import block_on

    for name in ("splink", "duckdb"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if db_api is None:
        db_api = splink.DuckDBAPI()
    cols = [
        "unique_id",
        "nhs_number",
        "first_name",
        "first_canon",
        "surname",
        "date_of_birth",
        "dob_ym",
        "postcode",
        "pc_sector",
        "pc_district",
        "sex",
    ]
    tables = [
        db_api.register(g[cols].reset_index(drop=True), dataset_display_name=str(name))
        for name, g in frame.groupby("source", sort=False)
    ]
    if len(tables) < 2:
        empty = pd.DataFrame(
            columns=["unique_id_l", "unique_id_r", "match_probability", "match_weight"]
        )
        return empty, pd.DataFrame(), {}
    present = {f for f in _FIELDS if frame[f].notna().any()}
    em_rules = _usable(_EM_BLOCKING, present)[:2]
    if not _usable(_BLOCKING + _BLOCKING_NO_DOB, present) or not em_rules:
        raise ParameterError(
            "too few identifiers to link records: found " + (", ".join(sorted(present)) or "none"),
            file=dic.file,
            key="type",
            expected="columns of at least two of the types first_name, surname, "
            "date_of_birth and postcode (ideally all, with nhs_number)",
        )
    say("training the linkage model (u by random sampling)")
    linker = splink.Linker(tables, _settings(present), log_level=None)
    # the prior (share of pairs that match) from pairs that agree on a valid NHS number,
    # or else on first name, surname and date of birth; Splink's default if neither works
    rules = []
    if "nhs_number" in present:
        rules.append((["l.nhs_number = r.nhs_number"], 0.8))
    if {"first_name", "surname", "date_of_birth"} <= present:
        rules.append(
            (
                [
                    "l.first_name = r.first_name and l.surname = r.surname "
                    "and l.date_of_birth = r.date_of_birth"
                ],
                0.7,
            )
        )
    for rule, recall in rules:
        try:
            linker.training.estimate_probability_two_random_records_match(rule, recall=recall)
            break
        except (ValueError, ZeroDivisionError, ArithmeticError):  # no pair agrees
            continue
    # one chunk on small sources (the probe costs more than it saves); ten on large ones,
    # which lets Splink stop early once every level has enough pairs
    chunks = 1 if len(frame) < 50_000 else 10
    linker.training.estimate_u_using_random_sampling(
        max_pairs=max_pairs, seed=seed, num_chunks=chunks
    )
    say("training the linkage model (m by expectation maximisation)")
    for cols in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*cols), estimate_without_term_frequencies=True
        )
    say("scoring candidate pairs")
    pred = linker.inference.predict(threshold_match_probability=lo, warning_mode="never")
    want = ["unique_id_l", "unique_id_r", "match_weight", "match_probability"]
    preds = pred.as_pandas_dataframe()
    gammas = [c for c in preds.columns if c.startswith("gamma_")]
    preds = preds[want + gammas]
    settings = linker.misc.save_model_to_json()
    params = _parameters(settings)
    return preds, params, settings


def _parameters(settings: dict) -> pd.DataFrame:
    rows = []
    for comp in settings.get("comparisons", []):
        for lvl in comp.get("comparison_levels", []):
            if lvl.get("is_null_level"):
                continue
            m, u = lvl.get("m_probability"), lvl.get("u_probability")
            w = np.log2(m / u) if m and u else np.nan
            rows.append(
                {
                    "comparison": comp.get("output_column_name"),
                    "level": lvl.get("label_for_charts") or lvl.get("sql_condition"),
                    "m": m,
                    "u": u,
                    "match_weight": w,
                }
            )
    return pd.DataFrame(rows)


def _connected_components(
    n, det_pairs, lo_id, hi_id, pp, thr, forced_in, forced_out, best, accepted
):
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    keep = pp >= thr
    edges = [
        (int(a), int(b), float(p))
        for a, b, p in zip(lo_id[keep], hi_id[keep], pp[keep])
        if (a, b) not in forced_out
    ]
    edges += [(int(a), int(b), 1.0) for a, b in det_pairs] + [(a, b, 1.0) for a, b in forced_in]
    for a, b, p in edges:
        best[a] = np.fmax(best[a], p)
        best[b] = np.fmax(best[b], p)
        accepted.append((a, b, p, "splink" if p < 1 else "nhs_number"))
    if not edges:
        return np.arange(n)
    e = np.array([(a, b) for a, b, _ in edges])
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    return connected_components(g, directed=False)[1]


def _level_labels(settings: dict) -> dict[str, dict[int, str]]:
    """comparison -> gamma value -> level label (Splink numbers the non-null levels from
    the last, 0, up to the first; the null level is -1)."""
    out = {}
    for comp in settings.get("comparisons", []):
        levels = [lvl for lvl in comp.get("comparison_levels", []) if not lvl.get("is_null_level")]
        labels = {-1: "missing"}
        for i, lvl in enumerate(levels):
            labels[len(levels) - 1 - i] = lvl.get("label_for_charts") or lvl.get(
                "sql_condition", ""
            )
        out[comp.get("output_column_name")] = labels
    return out


def _review(preds, frame, lo, hi, settings=None) -> pd.DataFrame:
    band = preds[(preds["match_probability"] >= lo) & (preds["match_probability"] < hi)]
    band = band.sort_values("match_probability", ascending=False)
    a = band["unique_id_l"].to_numpy(dtype=np.int64)
    b = band["unique_id_r"].to_numpy(dtype=np.int64)
    out = pd.DataFrame(
        {
            "source_l": frame["source"].to_numpy()[a],
            "record_id_l": frame["record_id"].to_numpy()[a],
            "source_r": frame["source"].to_numpy()[b],
            "record_id_r": frame["record_id"].to_numpy()[b],
            "match_probability": band["match_probability"].to_numpy(),
            "match_weight": band["match_weight"].to_numpy(),
        }
    )
    labels = _level_labels(settings or {})
    for c in band.columns:
        if c.startswith("gamma_"):
            name = c[len("gamma_") :]
            values = pd.Series(band[c].to_numpy())
            out["agree_" + name] = (
                values.map(labels.get(name, {})).fillna(values.astype(str)).to_numpy()
            )
    out["decision"] = ""
    return out


def _quality(
    preds, params, settings, thr, links, det_pairs, acc, review, refused, twins_kept
) -> LinkQuality:
    p = preds["match_probability"].to_numpy(dtype=float)
    w = preds["match_weight"].to_numpy(dtype=float)
    above = p >= thr
    expected_all = p.sum()
    precision = float(p[above].mean()) if above.any() else float("nan")
    recall = float(p[above].sum() / expected_all) if expected_all > 0 else float("nan")
    if len(w):
        edges = np.arange(np.floor(w.min()), np.ceil(w.max()) + 1.0, 1.0)
        if len(edges) < 2:
            edges = np.array([np.floor(w.min()), np.floor(w.min()) + 1.0])
        counts, edges = np.histogram(w, bins=edges)
        weights = pd.DataFrame({"bin_low": edges[:-1], "bin_high": edges[1:], "pairs": counts})
    else:
        weights = pd.DataFrame(columns=["bin_low", "bin_high", "pairs"])
    counts = {
        "records": int(len(links)),
        "clusters": int(links["cluster_id"].nunique()),
        "scored pairs": int(len(preds)),
        "deterministic links": int(len(det_pairs)),
        "probabilistic links": int((acc["how"] == "splink").sum()) if len(acc) else 0,
        "refused links": int(refused),
        "possible twins kept apart": int(twins_kept),
        "review pairs": int(len(review)),
    }
    return LinkQuality(
        parameters=params,
        weights=weights,
        precision=precision,
        recall=recall,
        threshold=thr,
        counts=counts,
        settings=settings,
    )


def evaluate_links(links: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Pairwise precision and recall of links against a known truth.

    A pair of records is *linked* when both have the same ``cluster_id`` and *true* when
    both have the same ``person`` in ``truth`` (columns ``source, record_id, person``).
    Precision = true linked pairs / linked pairs; recall = true linked pairs / true pairs
    (Christen 2012, *Data Matching*, ch. 7).

    Examples
    --------
    >>> links = pd.DataFrame({"source": ["a", "b", "c"], "record_id": ["1", "1", "1"], "cluster_id": [1, 1, 2]})
    >>> truth = pd.DataFrame({"source": ["a", "b", "c"], "record_id": ["1", "1", "1"], "person": ["p", "p", "p"]})
    >>> evaluate_links(links, truth)
    {'precision': 1.0, 'recall': 0.3333333333333333, 'linked_pairs': 1, 'true_pairs': 3}
    """
    t = truth[["source", "record_id", "person"]].astype({"record_id": "string"})
    m = (
        links[["source", "record_id", "cluster_id"]]
        .astype({"record_id": "string"})
        .merge(t, on=["source", "record_id"], how="left")
    )
    if m["person"].isna().any():
        raise DataError(
            "records without a truth", column="person", allowed="every linked record in the truth"
        )

    def pairs(groups: pd.Series) -> int:
        s = groups.value_counts().to_numpy(dtype=np.int64)
        return int((s * (s - 1) // 2).sum())

    linked = pairs(m["cluster_id"])
    true = pairs(m["person"])
    both = pairs(m["cluster_id"].astype(str) + "|" + m["person"].astype(str))
    return {
        "precision": both / linked if linked else 1.0,
        "recall": both / true if true else 1.0,
        "linked_pairs": linked,
        "true_pairs": true,
    }

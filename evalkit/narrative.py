"""Plain-English sentences from numbers, for the summary box of a report.

Each function turns a result into one sentence a commissioner can repeat. They return plain
text: escaping for HTML is the template's job. Numbers are rounded with
:func:`evalkit.tables.fmt_number`, so a sentence shows the same digits as the tables beside it
(1 decimal place for points, 2 for standard deviations and reliability coefficients), and a
value that rounds to zero is never shown with a minus sign.

- :func:`effect_sentence`: an effect with its interval, its direction and whether it is an
  improvement;
- :func:`effect_size_words`: "very small", "small", "moderate", "large" (Cohen 1988);
- :func:`reliability_words`, :func:`reliability_sentence`: a reliability coefficient in words
  (George & Mallery) beside the published value;
- :func:`change_sentence`: reliable change, small counts suppressed;
- :func:`dropout_sentence`: drop-out between measurements, small counts suppressed;
- :func:`headline`: up to five sentences for the summary box.

Heterogeneity between areas in words is :meth:`evalkit.designs.meta.MetaAnalysis.heterogeneity_text`
(not repeated here); the strength of evidence is :attr:`evalkit.evidence.EvidenceResult.summary`.

>>> effect_sentence(-1.8, -3.0, -0.6)
'Parents who used the service scored 1.8 points lower on depression symptoms (EPDS) than similar parents who did not (95% CI 0.6 to 3.0 lower): an improvement.'
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ._validate import check_choice, check_level, check_positive_int
from .errors import ParameterError
from .evidence import DROPOUT_MAX
from .tables import fmt_number, fmt_pct

__all__ = [
    "effect_sentence",
    "effect_size_words",
    "reliability_words",
    "reliability_sentence",
    "change_sentence",
    "dropout_sentence",
    "headline",
]

# Cohen (1988), Statistical Power Analysis for the Behavioral Sciences, 2nd ed., pp. 25-27:
# d = 0.2 small, 0.5 medium (here "moderate"), 0.8 large.
_EFFECT_BANDS = ((0.8, "large"), (0.5, "moderate"), (0.2, "small"))
# George D, Mallery P (2003). SPSS for Windows Step by Step, 4th ed., p. 231.
_RELIABILITY_BANDS = (
    (0.9, "excellent"),
    (0.8, "good"),
    (0.7, "acceptable"),
    (0.6, "questionable"),
    (0.5, "poor"),
)


# -- checks and small helpers ----------------------------------------------------------------------


def _number(key: str, value: Any, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )
    if not ok or not math.isfinite(float(value)):
        raise ParameterError(f"{key}={value!r} is not allowed", key=key, expected="a finite number")
    return float(value)


def _count(key: str, value: Any) -> int:
    return check_positive_int(key, value, minimum=0)


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"{key}={value!r} is not allowed", key=key, expected="some words")
    return value.strip()


def _interval(estimate: float, low: float | None, high: float | None) -> None:
    if low is None and high is None:
        return
    if low is None or high is None:
        raise ParameterError(
            "give both ends of the interval or neither", key="ci_low" if low is None else "ci_high"
        )
    tol = 1e-9 * max(1.0, abs(estimate))
    if not low - tol <= estimate <= high + tol:
        raise ParameterError(
            f"the interval {low:g} to {high:g} does not contain the estimate {estimate:g}",
            key="ci_low",
            expected="ci_low <= estimate <= ci_high",
        )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _ci_label(level: float) -> str:
    return f"{100 * level:g}% CI"


# -- effects ---------------------------------------------------------------------------------------


def effect_size_words(d: float) -> str:
    """A standardised effect size in words, after Cohen's conventions.

    ``|d|`` below 0.2 is "very small", 0.2 to below 0.5 "small", 0.5 to below 0.8 "moderate"
    (Cohen's "medium") and 0.8 or more "large". The sign is ignored: say the direction
    separately. Cohen offered these as rough guides for when nothing better is known; an
    effect's importance depends on the outcome and the cost of the service.

    References
    ----------
    Cohen J (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed.,
    Lawrence Erlbaum, pp. 25-27.

    Examples
    --------
    >>> effect_size_words(-0.35), effect_size_words(0.8), effect_size_words(0.05)
    ('small', 'large', 'very small')
    """
    size = abs(_number("d", d))
    for cut, word in _EFFECT_BANDS:
        if size >= cut:
            return word
    return "very small"


def _magnitude(x: float, digits: int) -> str:
    """|x| rounded; "less than 0.1" when a non-zero value rounds to zero."""
    text = fmt_number(abs(x), digits)
    if float(text.replace(",", "")) == 0 and x != 0:
        return "less than " + fmt_number(10.0**-digits, digits)
    return text


def _rounds_to_zero(x: float, digits: int) -> bool:
    return float(fmt_number(abs(x), digits).replace(",", "")) == 0


def effect_sentence(
    estimate: float,
    ci_low: float,
    ci_high: float,
    *,
    outcome: str = "depression symptoms (EPDS)",
    higher_is_better: bool = False,
    scale: str = "points",
    comparison: bool = True,
    who: str = "parents",
    level: float = 0.95,
) -> str:
    """An effect and its interval in one plain sentence, saying whether it is an improvement.

    ``estimate`` is service minus comparison (``comparison=True``) or after minus before
    (``comparison=False``, a pre–post design). The sentence gives the size and direction
    ("higher"/"lower") of the difference, then the interval:

    - interval entirely on one side of zero: the interval as magnitudes in the same direction,
      then "an improvement" or "a change for the worse" (``higher_is_better`` decides which);
      on the ``"SD"`` scale the size is named too ("a small improvement",
      :func:`effect_size_words`);
    - interval including zero: "we cannot tell whether the service made a difference"
      (pre–post: "whether scores really changed").

    Points are shown to 1 decimal place, standard deviations to 2; a non-zero value that
    rounds to zero reads "less than 0.1" and an estimate that rounds to zero reads
    "about the same".

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        The difference and its confidence interval.
    outcome : str
        What was measured, as it should read after "scored ... on".
    higher_is_better : bool
        False for symptom scales (EPDS, SDQ difficulties), True for wellbeing or development.
    scale : {"points", "SD"}
        Raw score points or standard deviations (a standardised effect such as Hedges' g).
    comparison : bool
        True when compared with people who did not use the service; False for pre–post.
    who : str
        Who was measured, plural ("parents", "children").
    level : float
        Confidence level of the interval, for its label.

    Examples
    --------
    >>> effect_sentence(-0.4, -1.2, 0.4)
    'Parents who used the service scored 0.4 points lower on depression symptoms (EPDS) than similar parents who did not, but the 95% CI runs from 1.2 lower to 0.4 higher, so we cannot tell whether the service made a difference.'
    >>> effect_sentence(0.31, 0.12, 0.50, outcome="wellbeing (WEMWBS)", higher_is_better=True,
    ...                 scale="SD", comparison=False)
    'Parents scored 0.31 standard deviations higher on wellbeing (WEMWBS) after using the service than before (95% CI 0.12 to 0.50 higher): a small improvement.'
    """
    est = _number("estimate", estimate)
    low = _number("ci_low", ci_low)
    high = _number("ci_high", ci_high)
    _interval(est, low, high)
    check_choice("scale", scale, ("points", "SD"))
    outcome, who = _text("outcome", outcome), _text("who", who)
    label = _ci_label(check_level(level))
    for key, flag in (("higher_is_better", higher_is_better), ("comparison", comparison)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ParameterError(
                f"{key}={flag!r} is not allowed", key=key, expected="True or False"
            )
    digits, unit = (1, "points") if scale == "points" else (2, "standard deviations")

    def direction(x: float) -> str:
        return "higher" if x > 0 else "lower"

    if _rounds_to_zero(est, digits) and low <= 0 <= high:
        size = "about the same"
        core = (
            f"{_capital(who)} who used the service scored {size} on {outcome} as similar {who} "
            "who did not"
            if comparison
            else f"{_capital(who)} scored {size} on {outcome} after using the service as before"
        )
    else:
        size = f"{_magnitude(est, digits)} {unit} {direction(est)}"
        core = (
            f"{_capital(who)} who used the service scored {size} on {outcome} than similar {who} "
            "who did not"
            if comparison
            else f"{_capital(who)} scored {size} on {outcome} after using the service than before"
        )

    if low > 0 or high < 0:  # the interval excludes no difference
        near, far = sorted((abs(low), abs(high)))
        ci = f"{label} {_magnitude(near, digits)} to {_magnitude(far, digits)} {direction(est)}"
        better = (est > 0) == bool(higher_is_better)
        verdict = "improvement" if better else "change for the worse"
        if scale == "SD":
            verdict = f"a {effect_size_words(est)} {verdict}"
        else:
            verdict = ("an " if better else "a ") + verdict
        return f"{core} ({ci}): {verdict}."

    def end(x: float) -> str:
        return "no difference" if x == 0 else f"{_magnitude(x, digits)} {direction(x)}"

    doubt = "the service made a difference" if comparison else "scores really changed"
    return (
        f"{core}, but the {label} runs from {end(low)} to {end(high)}, "
        f"so we cannot tell whether {doubt}."
    )


# -- reliability -----------------------------------------------------------------------------------


def reliability_words(value: float) -> str:
    """A reliability coefficient (alpha, omega) in words, after George & Mallery.

    0.9 or more "excellent", 0.8 to below 0.9 "good", 0.7 to below 0.8 "acceptable",
    0.6 to below 0.7 "questionable", 0.5 to below 0.6 "poor", below 0.5 "unacceptable".

    References
    ----------
    George D, Mallery P (2003). SPSS for Windows Step by Step: A Simple Guide and Reference,
    11.0 update, 4th ed. Allyn & Bacon, p. 231.

    Examples
    --------
    >>> reliability_words(0.84), reliability_words(0.7), reliability_words(0.45)
    ('good', 'acceptable', 'unacceptable')
    """
    value = _number("value", value)
    for cut, word in _RELIABILITY_BANDS:
        if value >= cut:
            return word
    return "unacceptable"


def reliability_sentence(
    alpha: float,
    ci_low: float | None = None,
    ci_high: float | None = None,
    *,
    tool: str,
    published: float | None = None,
    statistic: str = "alpha",
    level: float = 0.95,
) -> str:
    """A tool's local reliability in words, beside its published value.

    The word comes from :func:`reliability_words`. The published value is "consistent with"
    the local one when it lies inside the local interval, otherwise "higher"/"lower" than it;
    without an interval, "consistent with" means within 0.05. Below 0.70 the sentence adds
    that scores should be read with caution (the threshold in
    :data:`evalkit.evidence.RELIABILITY_MIN`).

    Parameters
    ----------
    alpha : float
        The coefficient in this area's data (may be negative; it is then "unacceptable").
    ci_low, ci_high : float, optional
        Its confidence interval (both or neither).
    tool : str
        The tool's short name, read after "the" ("EPDS", "ASQ-3").
    published : float, optional
        The published coefficient.
    statistic : str
        Name of the coefficient as printed ("alpha", "omega").

    Examples
    --------
    >>> reliability_sentence(0.84, 0.81, 0.87, tool="EPDS", published=0.87)
    'Reliability of the EPDS in this area was good (alpha 0.84, 95% CI 0.81 to 0.87), consistent with the published 0.87.'
    """
    value = _number("alpha", alpha)
    low = _number("ci_low", ci_low, optional=True)
    high = _number("ci_high", ci_high, optional=True)
    _interval(value, low, high)
    ref = _number("published", published, optional=True)
    tool, statistic = _text("tool", tool), _text("statistic", statistic)
    label = _ci_label(check_level(level))

    inside = f"{statistic} {fmt_number(value, 2)}"
    if low is not None and high is not None:
        inside += f", {label} {fmt_number(low, 2)} to {fmt_number(high, 2)}"
    text = f"Reliability of the {tool} in this area was {reliability_words(value)} ({inside})"
    if ref is not None:
        lo, hi = (low, high) if low is not None else (value - 0.05, value + 0.05)
        if ref < lo:
            where = "higher than"
        elif ref > hi:
            where = "lower than"
        else:
            where = "consistent with"
        text += f", {where} the published {fmt_number(ref, 2)}"
    if value < 0.70:
        text += ", so its scores should be read with caution"
    return text + "."


# -- counts (disclosure-safe) ----------------------------------------------------------------------


_CHANGE_WORDS = ("improved reliably", "showed no reliable change", "got reliably worse")
# when one count is hidden, another is given as "the rest" so that it cannot be recovered
# by subtraction from a total printed elsewhere; no change is the least informative to lose
_REST_ORDER = (1, 2, 0)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def change_sentence(
    n_improved: int,
    n_no_change: int,
    n_deteriorated: int,
    *,
    threshold: int = 10,
    who: str = "parents",
) -> str:
    """Reliable change (Jacobson & Truax) in words, with small counts suppressed.

    A count below ``threshold`` (zero included) is never printed: it reads "fewer than 10".
    When any count is hidden, no total and no percentages are given, and if exactly one is
    hidden a second one is given only as "the rest" (no reliable change if possible), so the
    hidden count cannot be worked out by subtraction even from a total shown elsewhere. When
    all three are small, the sentence says the numbers are too small to report.
    ``threshold=1`` turns suppression off. Percentages are rounded like
    :func:`evalkit.tables.fmt_pct` (whole numbers) and need not add to 100.

    Parameters
    ----------
    n_improved, n_no_change, n_deteriorated : int
        People who reliably improved, showed no reliable change, reliably deteriorated
        (e.g. ``PrePostResult.n_improved``, ``n_unchanged``, ``n_deteriorated``).
    threshold : int
        Smallest count that may be printed (evalkit's default is 10, as in
        :func:`evalkit.disclosure.suppress`).
    who : str
        Who was measured, plural.

    Examples
    --------
    >>> change_sentence(45, 60, 15)
    'Of 120 parents with scores at both times, 45 (38%) improved reliably, 60 (50%) showed no reliable change and 15 (12%) got reliably worse.'
    >>> change_sentence(45, 60, 3)
    'Of the parents with scores at both times, 45 improved reliably, fewer than 10 got reliably worse and the rest showed no reliable change.'
    """
    counts = [
        _count(k, v)
        for k, v in zip(
            ("n_improved", "n_no_change", "n_deteriorated"),
            (n_improved, n_no_change, n_deteriorated),
        )
    ]
    threshold = check_positive_int("threshold", threshold)
    who = _text("who", who)
    total = sum(counts)
    small = [c < threshold for c in counts] if threshold > 1 else [False] * 3
    if all(small):
        return (
            f"Reliable change is not reported for {who}: the numbers are too small to "
            "publish safely."
        )
    if not any(small):
        parts = [f"{c:,} ({fmt_pct(c / total, 0)}) {w}" for c, w in zip(counts, _CHANGE_WORDS)]
        return f"Of {total:,} {who} with scores at both times, {_join(parts)}."
    rest = next(i for i in _REST_ORDER if not small[i])
    exact = [i for i in range(3) if not small[i] and i != rest]
    hidden = [i for i in range(3) if small[i]]
    parts = [f"{counts[i]:,} {_CHANGE_WORDS[i]}" for i in exact]
    parts += [f"fewer than {threshold:,} {_CHANGE_WORDS[i]}" for i in hidden]
    parts.append(f"the rest {_CHANGE_WORDS[rest]}")
    return f"Of the {who} with scores at both times, {_join(parts)}."


def dropout_sentence(
    dropout: float, *, n_baseline: int, threshold: int = 10, who: str = "parents"
) -> str:
    """Drop-out between the first and the follow-up measurement, small counts suppressed.

    The number lost is ``round(dropout * n_baseline)``. Counts below ``threshold`` are not
    printed ("fewer than 10"), nor a percentage that would reveal one. When both counts can be
    printed and drop-out is 20% or more (:data:`evalkit.evidence.DROPOUT_MAX`), the sentence
    adds why that matters.

    Parameters
    ----------
    dropout : float
        Proportion lost, between 0 and 1 (0.15 for 15%), e.g. ``PrePostResult.attrition_rate``.
    n_baseline : int
        People with a first measurement.
    threshold : int
        Smallest count that may be printed; 1 turns suppression off.
    who : str
        Who was measured, plural.

    Examples
    --------
    >>> dropout_sentence(0.15, n_baseline=240)
    'Of 240 parents who answered at the start, 36 (15%) did not answer again at follow-up.'
    >>> dropout_sentence(0.02, n_baseline=240)
    'Of 240 parents who answered at the start, fewer than 10 did not answer again at follow-up.'
    """
    rate = _number("dropout", dropout)
    if not 0 <= rate <= 1:
        hint = f" (for {rate:g}% give {rate / 100:g})" if 1 < rate <= 100 else ""
        raise ParameterError(
            f"dropout={dropout!r} is not allowed",
            key="dropout",
            expected="a proportion between 0 and 1" + hint,
        )
    n = _count("n_baseline", n_baseline)
    threshold = check_positive_int("threshold", threshold)
    who = _text("who", who)
    lost = int(round(rate * n))
    kept = n - lost
    few = f"fewer than {threshold:,}"
    if n < threshold and threshold > 1:
        return f"Fewer than {threshold:,} {who} answered at the start, too few to report drop-out."
    lead = f"Of {n:,} {who} who answered at the start, "
    if lost < threshold and threshold > 1:
        return lead + f"{few} did not answer again at follow-up."
    if kept < threshold and threshold > 1:
        return lead + f"only {few} answered again at follow-up."
    text = lead + f"{lost:,} ({fmt_pct(lost / n, 0)}) did not answer again at follow-up."
    if lost / n >= DROPOUT_MAX:
        text += (
            " That is a lot: those who stayed may differ from those who left, so the "
            "results could be biased."
        )
    return text


# -- summary box -----------------------------------------------------------------------------------


def headline(parts: Iterable[str | None], max_sentences: int = 5) -> list[str]:
    """Pick the sentences for a report's summary box.

    Keeps the given order (put the most important first), drops ``None``, empty strings and
    repeats, strips white space, ends each item with a full stop when it has no closing
    punctuation, and returns at most ``max_sentences`` items (the issue asks for three to
    five). An item may hold more than one sentence (e.g. a heterogeneity statement with its
    caution); it counts as one.

    Examples
    --------
    >>> headline(["Reliability was good", None, "", "Reliability was good", "Drop-out was low."])
    ['Reliability was good.', 'Drop-out was low.']
    """
    max_sentences = check_positive_int("max_sentences", max_sentences)
    if isinstance(parts, str):
        raise ParameterError(
            "parts must be a list of sentences, not one string",
            key="parts",
            expected="a list of strings",
        )
    out: list[str] = []
    for i, part in enumerate(parts):
        if part is None:
            continue
        if not isinstance(part, str):
            raise ParameterError(
                f"parts[{i}]={part!r} is not a sentence",
                key="parts",
                expected="strings (or None for a missing sentence)",
            )
        text = " ".join(part.split())
        if not text:
            continue
        if text[-1] not in ".!?":
            text += "."
        if text not in out:
            out.append(text)
        if len(out) == max_sentences:
            break
    return out

"""Three synthetic record sources for the data-sharing demo, with known true links.

A fictional area's children appear in a **maternity** system, a **health visiting** system
and an **early years** system. Each system holds its own copy of who the child is, typed by
different people in different formats, with the faults real registers have:

- typos in names, nicknames and spelling variants (``Alfie`` for ``Alfred``, ``Isobel``
  for ``Isabel``), accents kept by one system and dropped by another;
- day and month of birth swapped, or the day mistyped;
- NHS numbers missing, or mistyped (a mistyped NHS number fails the Modulus 11 check);
- families who moved house between systems (a different postcode);
- twins: same surname, date of birth and postcode, different first names and NHS numbers;
- a few records typed twice into the health visiting system (true duplicates, same NHS
  number).

:func:`demo_sources` returns the sources in memory with the truth (which records are
one child); :func:`write_demo_sources` writes them to a folder (CSV and SPSS) with a
data dictionary and a postcode lookup, ready for ``evalkit share``. Run it as
``python -m evalkit.simulate_sources FOLDER [N]``.

Everything here is invented; no name list comes from any real register.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .sharing.nicknames import NICKNAME_GROUPS

__all__ = ["SOURCE_NAMES", "demo_sources", "write_demo_sources", "demo_dictionary"]

SOURCE_NAMES = ("maternity", "health_visiting", "early_years")

_GIRLS = (
    "olivia amelia isla ava mia ivy lily isabella rosie sophia grace freya willow florence "
    "emily ella poppy evie elsie charlotte evelyn sienna daisy phoebe sophie harper matilda "
    "ruby alice eleanor millie maya sofia ada penelope imogen esme hallie jessica emilia "
    "ruby erin thea aurora luna layla arabella maisie orla violet harriet zara hannah "
    "aisha maryam fatima amira zainab hafsa khadija eliza nancy bonnie delilah iris "
    "lucy molly martha beatrice clara chloe zoe niamh ellie scarlett lola summer "
    "robyn megan georgia abigail jasmine katherine elizabeth margaret victoria rebecca "
    "josephine alexandra samantha anaya priya riya simran amara nia keira leah eva "
    "heidi mabel edith nora hazel jade amber lacey skye tilly aria mila ayla naomi"
).split()
_BOYS = (
    "muhammad noah oliver george leo arthur oscar theodore freddie archie jack henry "
    "charlie alfred thomas jacob finley lucas william isaac teddy edward tommy albert "
    "arlo joshua hudson reggie rory jude harrison louie max ronnie elijah james "
    "logan mason sebastian alexander ethan hugo louis luca adam toby harry dylan "
    "samuel joseph daniel benjamin matthew christopher jonathan nicholas nathaniel "
    "frederick zachary maximilian archibald ibrahim yusuf ayaan zayn omar ali hamza "
    "rayyan idris musa kai jayden tyler riley caleb felix jasper ezra otis milo "
    "rowan ralph stanley sonny jesse ashton bobby frankie callum kyle connor aaron "
    "aryan arjun rohan dev ishaan kofi kwame tobias elliot gabriel carter cody"
).split()
_SURNAMES = (
    "smith jones taylor brown williams wilson johnson davies patel robinson wright "
    "thompson evans walker white roberts green hall thomas clarke jackson wood harris "
    "edwards turner martin cooper hill ward hughes moore clark king harrison lewis "
    "baker lee allen morris khan scott watson davis parker james bennett young phillips "
    "richardson mitchell bailey carter cook singh shaw bell collins morgan kelly begum "
    "miller cox marshall simpson anderson ellis adams wilkinson ali mason webb richards "
    "chapman russell lloyd murphy price hunt holmes palmer griffiths stevens hussain "
    "fisher rogers campbell barker mills knight butler matthews dixon kaur akhtar "
    "ahmed rahman chowdhury nguyen okafor mensah adeyemi kowalski nowak novak "
    "obrien oneill mcdonald macleod fraser stewart reid murray graham duncan "
    "fletcher gibson hunter hamilton grant pearson lawrence holland foster rose "
    "hayes barnes armstrong ryan black henderson burton dawson spencer harvey "
    "payne pearce lamb gray andrews ford jenkins sutton owen day walsh hart "
    "nicholson elliott chambers dean booth reynolds bradley kennedy moss "
    "whitehead sanders wells field hayward vaughan austin kemp glover ferguson "
    "barrett shepherd lane sharp hudson marsh jennings lowe perry hope boyle "
    "ashworth brennan cartwright dunn fitzgerald hargreaves iqbal mahmood qureshi "
    "sharma gupta das bose chen wang li zhang yilmaz demir popescu ionescu silva santos"
).split()
# a long tail of rarer surnames (about a third of people, as in England, where the 300
# commonest surnames cover roughly two thirds)
_PREFIXES = (
    "ash bar black brad brook cald cart chad clif cran dal dun east elm fair fen "
    "gold green hal hart hay high holl kings lang lid marl mid mill moor nor oak "
    "pen pitt rad red rock sal shel stan stock sum thorn wal west whit wins wood"
).split()
_SUFFIXES = "ford ley ton wick worth field more by croft well ham ridge stone bury lake".split()
_RARE_SURNAMES = [a + b for a in _PREFIXES for b in _SUFFIXES]
_ACCENTED = {"zoe": "Zoë", "chloe": "Chloé", "esme": "Esmé", "renee": "Renée", "anais": "Anaïs"}
_VARIANTS = {c: v for c, v in NICKNAME_GROUPS.items()}
# NHS ethnic category codes, with shares roughly those of births in England
_ETHNIC_CODES = np.array(list("ABCDEFGHJKLMNPRSZ"))
_ETHNIC_P = np.array([66, 1, 7, 1.2, 0.8, 1.2, 1.8, 3, 4, 1.5, 1.5, 0.8, 3.5, 0.5, 0.7, 1.5, 4])
_ETHNIC_LABELS = {
    "A": "White British",
    "B": "White Irish",
    "C": "Any other White background",
    "D": "White and Black Caribbean",
    "E": "White and Black African",
    "F": "White and Asian",
    "G": "Any other mixed background",
    "H": "Indian",
    "J": "Pakistani",
    "K": "Bangladeshi",
    "L": "Any other Asian background",
    "M": "Caribbean",
    "N": "African",
    "P": "Any other Black background",
    "R": "Chinese",
    "S": "Any other ethnic group",
    "Z": "Not stated",
}
_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))


def _zipf_weights(n: int, s: float = 0.9) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def _nhs_numbers(n: int, rng) -> np.ndarray:
    """n distinct valid NHS numbers (the 9-digit stem at random, then the check digit)."""
    out: list[str] = []
    seen: set[str] = set()
    weights = np.arange(10, 1, -1)
    while len(out) < n:
        stems = rng.integers(400_000_000, 999_999_999, size=int((n - len(out)) * 1.2) + 10)
        digits = (stems[:, None] // 10 ** np.arange(8, -1, -1)) % 10
        check = 11 - (digits @ weights) % 11
        check[check == 11] = 0
        for stem, c in zip(stems, check):
            if c == 10:
                continue
            s = f"{stem}{c}"
            if s not in seen:
                seen.add(s)
                out.append(s)
    return np.array(out[:n])


def _typo(word: str, rng) -> str:
    if len(word) < 3:
        return word + "e"
    i = int(rng.integers(1, len(word) - 1))
    op = rng.integers(4)
    if op == 0:  # substitution
        return word[:i] + "aeiourstnl"[rng.integers(10)] + word[i + 1 :]
    if op == 1:  # deletion
        return word[:i] + word[i + 1 :]
    if op == 2:  # transposition
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # doubled letter


def _mistype_nhs(nhs: str, rng) -> str:
    """Change one digit: always fails the Modulus 11 check."""
    i = int(rng.integers(10))
    d = (int(nhs[i]) + int(rng.integers(1, 10))) % 10
    return nhs[:i] + str(d) + nhs[i + 1 :]


def _population(n_people: int, rng, n_postcodes: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    sex = rng.choice(np.array(["F", "M"]), size=n_people)
    girls = rng.choice(np.array(_GIRLS), size=n_people, p=_zipf_weights(len(_GIRLS), 0.45))
    boys = rng.choice(np.array(_BOYS), size=n_people, p=_zipf_weights(len(_BOYS), 0.45))
    first = np.where(sex == "F", girls, boys)
    pool = np.array(_SURNAMES + _RARE_SURNAMES)
    w = np.concatenate(
        [
            0.66 * _zipf_weights(len(_SURNAMES), 0.4),
            np.full(len(_RARE_SURNAMES), 0.34 / len(_RARE_SURNAMES)),
        ]
    )
    surname = rng.choice(pool, size=n_people, p=w)
    start = np.datetime64("2019-01-01")
    dob = start + rng.integers(0, 5 * 365, size=n_people).astype("timedelta64[D]")
    # fictional postcodes (outward codes EV1-EV40 do not exist), about 30 to an LSOA
    outward = rng.integers(1, 41, size=n_postcodes)
    inward = [
        f"{d}{a}{b}"
        for d, a, b in zip(
            rng.integers(0, 10, size=n_postcodes),
            rng.choice(_LETTERS, size=n_postcodes),
            rng.choice(_LETTERS, size=n_postcodes),
        )
    ]
    codes = pd.unique(np.array([f"EV{o} {i}" for o, i in zip(outward, inward)]))
    postcode = rng.choice(codes, size=n_people)
    n_lsoa = max(1, len(codes) // 30)
    lookup = pd.DataFrame(
        {
            "postcode": codes,
            "lsoa21cd": [f"E0199{j:04d}" for j in rng.integers(0, n_lsoa, size=len(codes))],
        }
    )
    deciles = pd.Series(
        rng.integers(1, 11, size=n_lsoa), index=[f"E0199{j:04d}" for j in range(n_lsoa)]
    )
    lookup["imd_decile"] = lookup["lsoa21cd"].map(deciles)
    people = pd.DataFrame(
        {
            "person": [f"P{i:07d}" for i in range(n_people)],
            "sex": sex,
            "first_name": first,
            "surname": surname,
            "dob": dob,
            "postcode": postcode,
            "nhs_number": _nhs_numbers(n_people, rng),
            "ethnicity": rng.choice(_ETHNIC_CODES, size=n_people, p=_ETHNIC_P / _ETHNIC_P.sum()),
        }
    )
    # twins: about 1.6% of children; the second twin shares surname, birth date and
    # postcode with the first and has a different first name of its own sex
    lead = np.flatnonzero((np.arange(n_people - 1) % 2 == 0) & (rng.random(n_people - 1) < 0.016))
    twin = lead + 1
    for col in ("surname", "dob", "postcode", "ethnicity"):
        people.loc[twin, col] = people.loc[lead, col].to_numpy()
    same = people.loc[twin, "first_name"].to_numpy() == people.loc[lead, "first_name"].to_numpy()
    for t in twin[same]:
        pool = _GIRLS if people.at[t, "sex"] == "F" else _BOYS
        while people.at[t, "first_name"] == people.at[t - 1, "first_name"]:
            people.at[t, "first_name"] = pool[int(rng.integers(len(pool)))]
    people["twin_of"] = pd.Series(pd.NA, index=people.index, dtype="string")
    people.loc[twin, "twin_of"] = people.loc[lead, "person"].to_numpy()
    people.loc[lead, "twin_of"] = people.loc[twin, "person"].to_numpy()
    return people, lookup


# per source: share with the NHS number missing / mistyped, nickname, name typo, surname
# typo, day-month swap, day typo, moved house
_FAULTS = {
    "maternity": (0.02, 0.01, 0.00, 0.01, 0.01, 0.005, 0.003, 0.00),
    "health_visiting": (0.06, 0.02, 0.08, 0.03, 0.02, 0.015, 0.01, 0.08),
    "early_years": (0.25, 0.03, 0.15, 0.03, 0.03, 0.02, 0.01, 0.18),
}


def _source(people: pd.DataFrame, name: str, n: int, rng, codes: np.ndarray) -> pd.DataFrame:
    pick = np.sort(rng.choice(len(people), size=min(n, len(people)), replace=False))
    d = people.iloc[pick].reset_index(drop=True).copy()
    m = len(d)
    miss, mistype, nick, ftypo, styo, swap, dtypo, moved = _FAULTS[name]
    u = lambda p: rng.random(m) < p  # noqa: E731
    nhs = d["nhs_number"].to_numpy(dtype=object)
    for i in np.flatnonzero(u(mistype)):
        nhs[i] = _mistype_nhs(nhs[i], rng)
    nhs[u(miss)] = None
    first = d["first_name"].to_numpy(dtype=object)
    for i in np.flatnonzero(u(nick)):
        canon = first[i]
        if canon in _VARIANTS:
            first[i] = _VARIANTS[canon][int(rng.integers(len(_VARIANTS[canon])))]
        else:  # names written with a nickname in the register: the reverse direction
            for c, vs in _VARIANTS.items():
                if canon in vs:
                    first[i] = c
                    break
    for i in np.flatnonzero(u(ftypo)):
        first[i] = _typo(first[i], rng)
    surname = d["surname"].to_numpy(dtype=object)
    for i in np.flatnonzero(u(styo)):
        surname[i] = _typo(surname[i], rng)
    dob = pd.to_datetime(d["dob"])
    day, month, year = dob.dt.day.to_numpy(), dob.dt.month.to_numpy(), dob.dt.year.to_numpy()
    sw = u(swap) & (day <= 12) & (day != month)
    day, month = np.where(sw, month, day), np.where(sw, day, month)
    dt = u(dtypo)
    day = np.where(dt, np.clip(day + rng.choice([-1, 1], size=m), 1, 28), day)
    dob = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}))
    postcode = d["postcode"].to_numpy(dtype=object)
    mv = u(moved)
    postcode[mv] = rng.choice(codes, size=int(mv.sum()))
    out = pd.DataFrame({"person": d["person"]})
    if name == "maternity":
        out["mat_id"] = [f"MAT{i:07d}" for i in rng.permutation(m)]
        out["nhs_number"] = [None if v is None else f"{v[:3]} {v[3:6]} {v[6:]}" for v in nhs]
        out["forename"] = [_ACCENTED.get(f, f.title()) for f in first]
        out["surname"] = [s.title() for s in surname]
        out["dob"] = dob.dt.strftime("%Y-%m-%d")
        out["sex"] = d["sex"].to_numpy()
        out["postcode"] = postcode
        out["ethnicity"] = d["ethnicity"].to_numpy()
        out["birth_weight_g"] = np.round(rng.normal(3350, 520, size=m)).clip(600, 5500).astype(int)
        out["gestation_weeks"] = np.round(rng.normal(39.2, 1.8, size=m)).clip(24, 42).astype(int)
    elif name == "health_visiting":
        out["hv_id"] = [f"HV{i:07d}" for i in rng.permutation(m)]
        out["nhs_no"] = nhs
        out["child_first_name"] = [f.upper() for f in first]
        out["child_surname"] = [s.upper() for s in surname]
        out["date_of_birth"] = dob.dt.strftime("%d/%m/%Y")
        out["gender"] = np.where(d["sex"] == "F", "Female", "Male")
        out["post_code"] = [p.replace(" ", "") for p in postcode]
        out["ethnicity"] = d["ethnicity"].map(_ETHNIC_LABELS).to_numpy()
        out["visits_completed"] = rng.integers(1, 6, size=m)
        out["breastfed_6_8_weeks"] = np.where(rng.random(m) < 0.48, "yes", "no")
        # a few children typed in twice (same NHS number): true duplicates
        dup = np.flatnonzero((rng.random(m) < 0.005) & pd.notna(out["nhs_no"]).to_numpy())
        extra = out.iloc[dup].copy()
        extra["hv_id"] = [f"HV{m + i:07d}" for i in range(len(extra))]
        extra["visits_completed"] = 1
        out = pd.concat([out, extra], ignore_index=True)
    else:
        out["ey_ref"] = [f"EY{i:07d}" for i in rng.permutation(m)]
        out["NHSNumber"] = nhs
        out["FirstName"] = [
            _ACCENTED.get(f, f.title()) if rng.random() < 0.5 else f.title() for f in first
        ]
        out["LastName"] = [s.title() if rng.random() < 0.9 else s.upper() for s in surname]
        out["DOB"] = dob.dt.strftime("%Y-%m-%d")
        out["Sex"] = d["sex"].to_numpy()
        out["Postcode"] = postcode
        out["gld"] = (rng.random(m) < 0.67).astype(int)
        out["funded_2yo"] = (rng.random(m) < 0.3).astype(int)
    return out


def demo_sources(n: int = 3000, *, seed: int = 2026) -> dict[str, object]:
    """Three sources of about ``n`` records each, and the truth behind them.

    Parameters
    ----------
    n
        Records per source (the population is ``n / 0.9`` children; each source holds a
        different random ``n`` of them; health visiting has about 0.5% more, its duplicates).
    seed
        Random seed.

    Returns
    -------
    dict
        ``sources`` (dict name -> DataFrame, without the truth), ``truth`` (DataFrame
        ``source, record_id, person``: records with the same ``person`` are one child),
        ``twins`` (DataFrame ``person, twin_of``), ``lookup`` (postcode -> ``lsoa21cd``
        -> ``imd_decile``) and ``people`` (the true population).

    Examples
    --------
    >>> d = demo_sources(300)
    >>> sorted(d["sources"]), len(d["sources"]["maternity"])
    (['early_years', 'health_visiting', 'maternity'], 300)
    """
    rng = np.random.default_rng([seed, 15])
    n_people = int(np.ceil(n / 0.9))
    people, lookup = _population(n_people, rng, n_postcodes=max(50, n_people // 12))
    codes = lookup["postcode"].to_numpy()
    sources, truth = {}, []
    id_cols = {"maternity": "mat_id", "health_visiting": "hv_id", "early_years": "ey_ref"}
    for name in SOURCE_NAMES:
        df = _source(people, name, n, rng, codes)
        truth.append(
            pd.DataFrame({"source": name, "record_id": df[id_cols[name]], "person": df["person"]})
        )
        sources[name] = df.drop(columns="person").sort_values(id_cols[name]).reset_index(drop=True)
    twins = people.loc[people["twin_of"].notna(), ["person", "twin_of"]].reset_index(drop=True)
    return {
        "sources": sources,
        "truth": pd.concat(truth, ignore_index=True),
        "twins": twins,
        "lookup": lookup,
        "people": people,
    }


def demo_dictionary(lookup_file: str = "postcode_lookup.csv") -> dict:
    """The data dictionary of the demo sources (as written to ``dictionary.yaml``)."""
    person = {
        "maternity": {
            "record_id": "mat_id",
            "columns": {
                "mat_id": {"role": "direct identifier", "type": "text"},
                "nhs_number": {"role": "direct identifier", "type": "nhs_number"},
                "forename": {"role": "direct identifier", "type": "first_name"},
                "surname": {"role": "direct identifier", "type": "surname"},
                "dob": {
                    "role": "quasi-identifier",
                    "type": "date_of_birth",
                    "generalise": "year_month",
                },
                "sex": {"role": "attribute", "type": "sex"},
                "postcode": {
                    "role": "quasi-identifier",
                    "type": "postcode",
                    "generalise": "imd_decile",
                },
                "ethnicity": {"role": "attribute", "generalise": "ethnic_group"},
                "birth_weight_g": {"role": "attribute", "description": "Birth weight (grams)"},
                "gestation_weeks": {
                    "role": "attribute",
                    "description": "Gestation at birth (completed weeks)",
                },
            },
        },
        "health_visiting": {
            "record_id": "hv_id",
            "columns": {
                "hv_id": {"role": "direct identifier", "type": "text"},
                "nhs_no": {"role": "direct identifier", "type": "nhs_number"},
                "child_first_name": {"role": "direct identifier", "type": "first_name"},
                "child_surname": {"role": "direct identifier", "type": "surname"},
                "date_of_birth": {
                    "role": "quasi-identifier",
                    "type": "date_of_birth",
                    "generalise": "year_month",
                },
                "gender": {"role": "attribute", "type": "sex"},
                "post_code": {
                    "role": "quasi-identifier",
                    "type": "postcode",
                    "generalise": "imd_decile",
                },
                "ethnicity": {"role": "attribute", "generalise": "ethnic_group"},
                "visits_completed": {
                    "role": "attribute",
                    "description": "Mandated health visiting contacts completed (of 5)",
                },
                "breastfed_6_8_weeks": {
                    "role": "attribute",
                    "description": "Breastfed at the 6-8 week review (yes/no)",
                },
            },
        },
        "early_years": {
            "record_id": "ey_ref",
            "columns": {
                "ey_ref": {"role": "direct identifier", "type": "text"},
                "NHSNumber": {"role": "direct identifier", "type": "nhs_number"},
                "FirstName": {"role": "direct identifier", "type": "first_name"},
                "LastName": {"role": "direct identifier", "type": "surname"},
                "DOB": {
                    "role": "quasi-identifier",
                    "type": "date_of_birth",
                    "generalise": "year_month",
                },
                "Sex": {"role": "attribute", "type": "sex"},
                "Postcode": {
                    "role": "quasi-identifier",
                    "type": "postcode",
                    "generalise": "imd_decile",
                },
                "gld": {
                    "role": "attribute",
                    "description": "Good level of development at the end of reception (1 = yes)",
                },
                "funded_2yo": {
                    "role": "attribute",
                    "description": "Took up funded early education at age 2 (1 = yes)",
                },
            },
        },
    }
    # with about 20,000 children, year-month of birth x IMD decile leaves classes of 20-60
    # children; sex and ethnic group are attributes, and each class must hold both answers
    # to the breastfeeding question (l-diversity of a health behaviour)
    return {
        "k": 5,
        "sensitive": "breastfed_6_8_weeks",
        "l": 2,
        "threshold": 0.9,
        "postcode_lookup": lookup_file,
        "sources": person,
    }


def write_demo_sources(folder: str | Path, n: int = 20000, *, seed: int = 2026) -> dict[str, Path]:
    """Write the demo sources to ``folder``: ``maternity.csv``, ``health_visiting.csv``,
    ``early_years.sav`` (SPSS), ``postcode_lookup.csv``, ``dictionary.yaml`` and ``truth.csv``.

    (Health visiting is a CSV rather than Excel only because reading 20,000 rows of Excel
    takes longer than the linkage; ``evalkit share`` reads ``.xlsx`` as well.)

    Returns the paths by name (``maternity``, ..., ``lookup``, ``dictionary``, ``truth``).
    """
    import yaml

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    d = demo_sources(n, seed=seed)
    paths = {
        "maternity": folder / "maternity.csv",
        "health_visiting": folder / "health_visiting.csv",
        "early_years": folder / "early_years.sav",
        "lookup": folder / "postcode_lookup.csv",
        "dictionary": folder / "dictionary.yaml",
        "truth": folder / "truth.csv",
    }
    d["sources"]["maternity"].to_csv(paths["maternity"], index=False)
    d["sources"]["health_visiting"].to_csv(paths["health_visiting"], index=False)
    import pyreadstat

    ey = d["sources"]["early_years"].copy()
    ey["NHSNumber"] = ey["NHSNumber"].fillna("")
    pyreadstat.write_sav(ey, str(paths["early_years"]))
    d["lookup"].to_csv(paths["lookup"], index=False)
    d["truth"].to_csv(paths["truth"], index=False)
    text = "# Data dictionary of the synthetic demo sources (see docs/sharing.md)\n"
    text += yaml.safe_dump(demo_dictionary(paths["lookup"].name), sort_keys=False)
    paths["dictionary"].write_text(text, encoding="utf-8")
    return paths


if __name__ == "__main__":  # python -m evalkit.simulate_sources FOLDER [N]
    target = sys.argv[1] if len(sys.argv) > 1 else "share-demo"
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    for label, path in write_demo_sources(target, size).items():
        print(f"{label:16s} {path}")

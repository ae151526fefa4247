"""The data dictionary's validation, the generalisations, and the k-anonymity / l-diversity check."""

import datetime as dt

import pandas as pd
import pytest

from evalkit.errors import DataError, ParameterError
from evalkit.sharing import check_k_anonymity, ethnic_group, load_dictionary, read_postcode_lookup
from evalkit.sharing.minimise import ETHNIC_GROUPS, age_in_months, birth_month
from evalkit.simulate_sources import demo_dictionary


def test_demo_dictionary_is_valid():
    d = load_dictionary(demo_dictionary())
    assert set(d.sources) == {"maternity", "health_visiting", "early_years"}
    assert d.quasi_identifiers() == ["birth_month", "imd_decile"]
    assert d.sources["maternity"].columns["birth_weight_g"].output == "birth_weight_g"
    assert d.sources["health_visiting"].of_type("first_name").name == "child_first_name"


def test_all_problems_reported_at_once_with_file_key_and_allowed(tmp_path):
    p = tmp_path / "dictionary.yaml"
    p.write_text(
        """
k: 1
treshold: 0.8
sources:
  maternity:
    record_id: id
    columns:
      nhs: {role: direct identifier}
      dob: {role: quasi-identifier, generalise: decade}
      postcode: {role: quasi-identifier, generalise: imd_decile}
      notes: {}
      forename: {role: quasi-identifier, type: first_name}
      weight: {role: secret}
"""
    )
    with pytest.raises(ParameterError) as e:
        load_dictionary(p)
    problems = e.value.problems
    text = "\n".join(problems)
    assert all(line.startswith(str(p)) for line in problems)
    assert "key 'k': 1 is not allowed (expected a whole number of at least 2)" in text
    assert "key 'treshold': unknown key; did you mean 'threshold'?" in text
    assert (
        "'decade' is not allowed for a date_of_birth column (expected year_month, age_months, year, none)"
        in text
    )
    assert "key 'postcode_lookup': needed by 'generalise: imd_decile'" in text
    assert "key 'sources.maternity.columns.notes.role': the column has no role" in text
    assert "direct identifier, quasi-identifier, attribute or drop" in text
    assert "a first_name column is a direct identifier" in text
    assert "'secret' is not a role" in text
    assert "key 'sources.maternity.record_id': 'id' is not one of the source's columns" in text


def test_dictionary_file_problems(tmp_path):
    with pytest.raises(ParameterError, match="no such file"):
        load_dictionary(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [unclosed")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_dictionary(bad)
    with pytest.raises(ParameterError, match="key 'sources': missing or empty"):
        load_dictionary({"k": 5})
    with pytest.raises(
        ParameterError, match="key 'sensitive': 'epds' is not a column of the extract"
    ):
        load_dictionary({"sensitive": "epds", "sources": {"a": {"columns": {"x": "attribute"}}}})
    with pytest.raises(
        ParameterError, match="key 'reference_date': needed by 'generalise: age_months'"
    ):
        load_dictionary(
            {
                "sources": {
                    "a": {
                        "columns": {"dob": {"role": "quasi-identifier", "generalise": "age_months"}}
                    }
                }
            }
        )


def test_generalisations():
    assert birth_month(pd.Series(["2021-03-04", "05/12/2020"])).tolist() == ["2021-03", "2020-12"]
    # completed months: born 4 March 2021, on 3 March 2022 is 11 months, on 4 March 12
    ages = age_in_months(pd.Series(["2021-03-04", "2021-03-04", "2023-01-01"]), dt.date(2022, 3, 3))
    assert ages.tolist() == [11, 11, pd.NA]
    assert age_in_months(pd.Series(["2021-03-04"]), dt.date(2022, 3, 4)).tolist() == [12]
    # NHS ethnic category codes and census wording to the 5 top-level 2021 Census groups
    codes = ethnic_group(pd.Series(list("ABCDEFGHJKLMNPRSZ")))
    assert codes.value_counts().to_dict() == {
        ETHNIC_GROUPS[3]: 3,
        ETHNIC_GROUPS[2]: 4,
        ETHNIC_GROUPS[0]: 5,
        ETHNIC_GROUPS[1]: 3,
        ETHNIC_GROUPS[4]: 1,
    }
    assert codes.isna().sum() == 1
    words = ethnic_group(
        pd.Series(
            ["White and Asian", "Gypsy or Irish Traveller", "Arab", "Black African", "Not stated"]
        )
    )
    assert words.tolist() == [
        ETHNIC_GROUPS[2],
        ETHNIC_GROUPS[3],
        ETHNIC_GROUPS[4],
        ETHNIC_GROUPS[1],
        pd.NA,
    ]
    with pytest.raises(DataError, match=r"column 'ethnicity', row 2: not an ethnic category"):
        ethnic_group(pd.Series(["A", "Martian"]))


def test_postcode_lookup(tmp_path):
    good = tmp_path / "lookup.csv"
    pd.DataFrame({"pcds": ["LS6 2AB", "ls1 1aa"], "lsoa21cd": ["E01000001", "E01000002"]}).to_csv(
        good, index=False
    )
    imd = tmp_path / "imd.csv"
    pd.DataFrame({"lsoa_code": ["E01000001", "E01000002"], "IMD_decile": [1, 10]}).to_csv(
        imd, index=False
    )
    lk = read_postcode_lookup(good, imd)
    assert lk.loc["LS62AB", "imd_decile"] == 1 and lk.loc["LS11AA", "lsoa"] == "E01000002"
    bad = tmp_path / "nopostcode.csv"
    pd.DataFrame({"code": ["LS6 2AB"], "lsoa": ["E01000001"]}).to_csv(bad, index=False)
    with pytest.raises(
        DataError,
        match=r"nopostcode.csv: the postcode lookup has no postcode column \(allowed: a column named postcode or pcds",
    ):
        read_postcode_lookup(bad)
    deciles = tmp_path / "deciles.csv"
    pd.DataFrame({"postcode": ["LS6 2AB"], "lsoa": ["E1"], "imd_decile": [11]}).to_csv(
        deciles, index=False
    )
    with pytest.raises(DataError, match="IMD deciles must be 1 to 10"):
        read_postcode_lookup(deciles)


def test_k_anonymity_and_l_diversity_on_the_textbook_example():
    # Machanavajjhala et al. (2007) "l-Diversity: Privacy beyond k-anonymity", ACM TKDD 1(1),
    # Table 2: 4-anonymous inpatient microdata in three classes; the third (130**, age 3*)
    # has cancer in all four records, the homogeneity attack: k = 4 but distinct l = 1.
    df = pd.DataFrame(
        {
            "zip": ["130**"] * 4 + ["1485*"] * 4 + ["130**"] * 4,
            "age": ["<30"] * 4 + [">=40"] * 4 + ["3*"] * 4,
            "condition": ["Heart Disease", "Heart Disease", "Viral Infection", "Viral Infection"]
            + ["Cancer", "Heart Disease", "Viral Infection", "Viral Infection"]
            + ["Cancer"] * 4,
        }
    )
    c = check_k_anonymity(df, ["zip", "age"], k=4, id_column=None, sensitive="condition", l=2)
    assert (c.k, c.l, c.classes, c.below_k, c.below_l) == (4, 1, 3, 0, 1)
    assert not c.passed
    assert sorted(c.smallest["distinct_sensitive"]) == [1, 2, 3]
    # the report gives sizes, never the quasi-identifier values
    assert "130**" not in c.smallest.to_string() and "130**" not in c.message()
    assert check_k_anonymity(df, ["zip", "age"], k=5, id_column=None).passed is False
    assert check_k_anonymity(df, ["zip"], k=4, id_column=None).k == 4
    assert check_k_anonymity(df, ["zip"], k=8, id_column=None).k == 4  # 130** holds 8 rows, 1485* 4


def test_k_counts_people_not_rows():
    # one child with three rows (one per source) is one person in its class
    df = pd.DataFrame({"person_id": ["a", "a", "a", "b", "c"], "month": ["2021-01"] * 5})
    assert check_k_anonymity(df, ["month"], k=3).k == 3
    assert check_k_anonymity(df, ["month"], k=3, id_column=None).k == 5
    # missing values form a class of their own
    df2 = pd.DataFrame({"person_id": list("abc"), "month": ["2021-01", None, "2021-01"]})
    assert check_k_anonymity(df2, ["month"]).smallest["people"].tolist() == [1, 2]
    with pytest.raises(DataError, match="'nope'"):
        check_k_anonymity(df2, ["nope"])

"""Keyed pseudonyms: HMAC-SHA256 (RFC 4231 vectors), NHS number check digits, normalisation,
consistency across files and keys, and how the key is loaded."""

import warnings

import pandas as pd
import pytest

from evalkit.errors import EvalkitWarning, ParameterError
from evalkit.sharing import (
    Key,
    generate_key,
    hmac_sha256,
    load_key,
    nhs_number_is_valid,
    pseudonymise,
)
from evalkit.sharing.normalise import normalise_date, normalise_name, normalise_nhs_number

KEY = b"k" * 32
OTHER_KEY = b"another key, also of at least 32 bytes"

# RFC 4231 (Nystrom 2005), section 4: HMAC-SHA-256 test cases 1-4, 6 and 7 in full and
# case 5 truncated to 128 bits, as the RFC gives it.
RFC4231 = [
    (b"\x0b" * 20, b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        b"\xaa" * 20,
        b"\xdd" * 50,
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    ),
    (
        bytes(range(1, 26)),
        b"\xcd" * 50,
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    ),
    (b"\x0c" * 20, b"Test With Truncation", "a3b6167473100ee06e0c796c2955552b"),
    (
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
    (
        b"\xaa" * 131,
        b"This is a test using a larger than block-size key and a larger than block-size data. "
        b"The key needs to be hashed before being used by the HMAC algorithm.",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ),
]


@pytest.mark.parametrize("key,data,expected", RFC4231)
def test_hmac_sha256_rfc4231_vectors(key, data, expected):
    assert hmac_sha256(key, data)[: len(expected)] == expected


def test_many_pseudonyms_equal_one_at_a_time():
    k = Key(KEY)
    values = ["9434765919", "4010232137", ""]
    assert k.pseudonyms("nhs_number", values) == [k.pseudonym("nhs_number", v) for v in values]
    assert k.pseudonym("nhs_number", "9434765919") == hmac_sha256(KEY, b"nhs_number:9434765919")


# NHS Data Dictionary, "NHS NUMBER": weights 10..2 on the first nine digits, check digit
# 11 - (sum mod 11), 11 -> 0, 10 -> invalid. 943 476 5919 is NHS Digital's documented example
# number; 401 023 2137 gives sum 92, remainder 4, check 7.
@pytest.mark.parametrize(
    "number,valid",
    [
        ("9434765919", True),
        ("943 476 5919", True),
        ("943-476-5919", True),
        ("4010232137", True),
        ("9876543210", True),  # sum 330, remainder 0 -> 11 -> check digit 0
        ("5555555555", True),
        ("9434765918", False),  # wrong check digit
        ("9434765991", False),  # last two digits swapped
        ("4910232137", False),  # one digit mistyped
        ("1234567890", False),  # sum 210 gives check 10: no valid number starts 123456789
        ("1234567891", False),
        ("943476591", False),  # nine digits
        ("94347659190", False),  # eleven digits
        ("", False),
    ],
)
def test_nhs_number_check_digit(number, valid):
    assert nhs_number_is_valid(number) is valid


def test_every_single_digit_typo_fails_the_check():
    good = "9434765919"
    for i in range(10):
        for d in "0123456789":
            if d != good[i]:
                assert not nhs_number_is_valid(good[:i] + d + good[i + 1 :])


def test_nhs_numbers_from_spreadsheets_as_floats():
    norm, bad = normalise_nhs_number(pd.Series([9434765919.0, None, 123.0]))
    assert norm.tolist() == ["9434765919", pd.NA, pd.NA]
    assert bad.tolist() == [False, False, True]


def test_name_and_date_normalisation():
    names = pd.Series(
        ["Zoë O'Neil-Smith", "ZOE ONEIL SMITH", "zoe oneil-smith", "Zoé  O Neil Smith"]
    )
    assert normalise_name(names).nunique() == 1
    iso, bad = normalise_date(
        pd.Series(["2021-03-04", "04/03/2021", "4.3.2021", "20210304", "4 Mar 2021", "13/13/2021"])
    )
    assert iso.tolist()[:5] == ["2021-03-04"] * 5
    assert bad.tolist() == [False] * 5 + [True]
    iso, _ = normalise_date(pd.Series(pd.to_datetime(["2021-03-04", None])))
    assert iso.tolist() == ["2021-03-04", pd.NA]


def test_same_pseudonym_across_files_and_none_shared_across_keys():
    maternity = pd.DataFrame(
        {
            "nhs_number": ["943 476 5919", "401 023 2137"],
            "forename": ["Zoë", "Alfie"],
            "dob": ["2021-03-04", "2020-01-02"],
        }
    )
    early_years = pd.DataFrame(
        {
            "NHS_No": ["4010232137", "9434765919"],
            "first_name": ["ALFIE", "zoe"],
            "date_of_birth": ["02/01/2020", "04/03/2021"],
        }
    )
    a = pseudonymise(
        maternity, {"nhs_number": "nhs_number", "forename": "first_name", "dob": "date"}, KEY
    )
    b = pseudonymise(early_years, ["NHS_No", "first_name", "date_of_birth"], KEY)
    for ca, cb in [("nhs_number", "NHS_No"), ("forename", "first_name"), ("dob", "date_of_birth")]:
        assert a[ca].tolist() == b[cb].iloc[::-1].tolist()
    c = pseudonymise(
        maternity, {"nhs_number": "nhs_number", "forename": "first_name", "dob": "date"}, OTHER_KEY
    )
    values_a = set(a.to_numpy().ravel())
    values_c = set(c.to_numpy().ravel())
    assert not values_a & values_c
    # no prefix either: pseudonyms from two keys share nothing recognisable
    assert not {v[:8] for v in values_a} & {v[:8] for v in values_c}
    # the raw values are gone, and the original frame is untouched
    assert "943 476 5919" not in a.to_numpy().ravel()
    assert maternity.loc[0, "nhs_number"] == "943 476 5919"


def test_kinds_have_separate_pseudonym_spaces():
    df = pd.DataFrame({"first": ["Grace"], "last": ["Grace"]})
    out = pseudonymise(df, {"first": "first_name", "last": "surname"}, KEY)
    assert out.loc[0, "first"] != out.loc[0, "last"]


def test_invalid_nhs_numbers_reported_by_row_and_count_never_value():
    df = pd.DataFrame({"nhs": ["9434765919", "9434765918", None, "12345"]})
    with pytest.warns(EvalkitWarning) as rec:
        out = pseudonymise(df, ["nhs"], KEY)
    msg = str(rec[0].message)
    assert "2 NHS numbers" in msg and "data rows 2, 4" in msg
    assert "9434765918" not in msg and "12345" not in msg
    assert out.attrs["invalid"] == {"nhs": [2, 4]}
    assert out["nhs"].isna().tolist() == [False, True, True, True]


def test_pseudonymise_errors_name_the_column():
    df = pd.DataFrame({"nhs": ["9434765919"]})
    with pytest.raises(Exception, match="'nhs_no'"):
        pseudonymise(df, ["nhs_no"], KEY)
    with pytest.raises(ParameterError, match="expected nhs_number, first_name"):
        pseudonymise(df, {"nhs": "passport"}, KEY)


def test_short_or_missing_key_refused():
    with pytest.raises(ParameterError, match=r"too short \(31 bytes\).*at least 32 bytes"):
        pseudonymise(pd.DataFrame({"nhs": ["9434765919"]}), ["nhs"], b"x" * 31)
    with pytest.raises(ParameterError, match="no key given"):
        pseudonymise(pd.DataFrame({"nhs": ["9434765919"]}), ["nhs"], None)


def test_load_key_from_file_and_environment(tmp_path, monkeypatch):
    secret = generate_key()
    p = tmp_path / "share.key"
    p.write_text(secret + "\n")
    monkeypatch.delenv("EVALKIT_SHARE_KEY", raising=False)
    k = load_key(p)
    assert k.pseudonym("x", "y") == Key(secret).pseudonym("x", "y")
    # the key never shows in its repr or str
    assert secret not in repr(k) and secret not in str(k)
    monkeypatch.setenv("EVALKIT_SHARE_KEY", secret)
    assert load_key().key_id == k.key_id
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(k)


def test_key_errors_are_clear_and_never_show_the_key(tmp_path, monkeypatch):
    monkeypatch.delenv("EVALKIT_SHARE_KEY", raising=False)
    with pytest.raises(ParameterError, match="EVALKIT_SHARE_KEY") as e:
        load_key()
    assert "evalkit keygen" in str(e.value)
    with pytest.raises(ParameterError, match="no such key file"):
        load_key(tmp_path / "missing.key")
    short = tmp_path / "short.key"
    short.write_text("tooshort-secret")
    with pytest.raises(ParameterError, match="too short") as e:
        load_key(short)
    assert "tooshort-secret" not in str(e.value)
    monkeypatch.setenv("EVALKIT_SHARE_KEY", "tooshort-secret")
    with pytest.raises(ParameterError, match=r"\$EVALKIT_SHARE_KEY is too short") as e:
        load_key()
    assert "tooshort-secret" not in str(e.value)


def test_no_warning_for_clean_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pseudonymise(pd.DataFrame({"nhs": ["9434765919"]}), ["nhs"], KEY)

"""`evalkit share` and `evalkit keygen`: the pack, what it must never contain, and bad input
that must leave nothing behind."""

import hashlib
import json
import os
import re
import stat
import warnings

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from evalkit.cli import app
from evalkit.errors import DataError
from evalkit.sharing import load_key, share
from evalkit.sharing.pack import PACK_FILES
from evalkit.simulate_sources import demo_dictionary, write_demo_sources

runner = CliRunner()
N = 700


def _coarse(dictionary: dict) -> dict:
    """The demo dictionary with dates of birth to the year (k >= 5 on a small demo)."""
    d = json.loads(json.dumps(dictionary))
    for s in d["sources"].values():
        for spec in s["columns"].values():
            if spec.get("generalise") == "year_month":
                spec["generalise"] = "year"
    return d


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("share_demo")
    paths = write_demo_sources(folder, n=N, seed=11)
    # one source as Excel, to read all three formats
    hv = pd.read_csv(paths["health_visiting"])
    paths["health_visiting"].unlink()
    paths["health_visiting"] = folder / "health_visiting.xlsx"
    hv.to_excel(paths["health_visiting"], index=False)
    coarse = folder / "coarse.yaml"
    coarse.write_text(yaml.safe_dump(_coarse(demo_dictionary()), sort_keys=False))
    paths["coarse"] = coarse
    keyfile = folder / "share.key"
    keyfile.write_text("a" * 40)
    paths["key"] = keyfile
    other = folder / "other.key"
    other.write_text("b" * 40)
    paths["other_key"] = other
    return paths


def _sources_args(p):
    return [
        "--sources",
        f"maternity={p['maternity']}",
        "--sources",
        f"health_visiting={p['health_visiting']}",
        "--sources",
        f"early_years={p['early_years']}",
    ]


def _sources(p):
    return {n: p[n] for n in ("maternity", "health_visiting", "early_years")}


@pytest.fixture(scope="module")
def pack(demo_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("packs") / "pack"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = runner.invoke(
            app,
            [
                "share",
                str(demo_dir["coarse"]),
                *_sources_args(demo_dir),
                "--key-file",
                str(demo_dir["key"]),
                "--out",
                str(out),
                "-q",
            ],
        )
    assert res.exit_code == 0, res.output
    return out


def _leftovers(folder):
    return sorted(
        p.name for p in folder.iterdir() if ".partial" in p.name or p.name.startswith(".")
    )


def test_pack_files_and_manifest(pack):
    assert sorted(p.name for p in pack.iterdir()) == sorted(PACK_FILES)
    m = json.loads((pack / "manifest.json").read_text())
    from evalkit import __version__

    assert m["evalkit_version"] == __version__
    assert re.match(r"\d{4}-\d{2}-\d{2}T", m["created"])
    extract = pd.read_csv(pack / "extract.csv")
    assert m["rows"] == len(extract) == len(pd.read_parquet(pack / "extract.parquet"))
    for f in m["files"]:
        assert hashlib.sha256((pack / f["name"]).read_bytes()).hexdigest() == f["sha256"]
    assert {f["name"] for f in m["files"]} == {"extract.csv", "extract.parquet", "README.md"}
    assert m["k_achieved"] >= m["k_required"] == 5
    assert m["dictionary"]["sources"]["maternity"]["dob"]["generalise"] == "year"
    assert m["people"] == extract["person_id"].nunique()
    assert list(extract.columns[:2]) == ["person_id", "source"]
    assert extract["person_id"].str.fullmatch(r"[0-9a-f]{64}").all()
    readme = (pack / "README.md").read_text()
    for col in extract.columns:
        assert f"`{col}`" in readme


def _identifier_values(demo_dir):
    """Every direct-identifier value of the sources, raw and in the forms evalkit normalises to."""
    from evalkit.tools.io import read_data

    d = demo_dictionary()
    out = set()
    for name in ("maternity", "health_visiting", "early_years"):
        df = read_data(demo_dir[name])
        for col, spec in d["sources"][name]["columns"].items():
            if spec["role"] == "direct identifier":
                vals = df[col].dropna().astype(str).str.replace(r"\.0$", "", regex=True)
                out |= set(vals) | set(vals.str.lower()) | set(vals.str.replace(" ", ""))
    return {v for v in out if v}


def test_no_direct_identifier_anywhere_in_the_pack(pack, demo_dir):
    ids = _identifier_values(demo_dir)
    numbers = {v for v in ids if re.fullmatch(r"[0-9 ]{10,12}", v)}  # NHS numbers
    records = {v for v in ids if re.fullmatch(r"(MAT|HV|EY)\d+", v)}
    names = {v.lower() for v in ids if v.isalpha()}
    assert numbers and records and names
    for p in pack.iterdir():
        assert not any(n in p.name.lower() for n in names if len(n) > 3)
        if p.suffix == ".parquet":
            text = pd.read_parquet(p).to_csv(index=False)
        else:
            text = p.read_text(encoding="utf-8")
        # no NHS number and no record number anywhere, as a substring
        digits = re.sub(r"[^0-9]", " ", text)
        assert not {n.replace(" ", "") for n in numbers} & set(digits.split()), p.name
        assert not any(r in text for r in records), p.name
        # no name as a cell or word, except the closed lists evalkit itself writes
        # (the ethnic group 'White' is not the surname White)
        if p.suffix in (".csv", ".parquet"):  # the hex pseudonyms are not words
            frame = pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p)
            text = frame.drop(columns="person_id").to_csv(index=False)
        words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
        allowed = {
            "white",
            "black",
            "asian",
            "mixed",
            "other",
            "british",
            "welsh",
            "african",
            "caribbean",
        }
        leaked = (words & names) - allowed
        if p.name == "README.md" or p.name == "manifest.json":
            # evalkit's own wording may contain words that are also surnames (Hall, Day):
            # compare with the wording of a pack from a source with no such names
            leaked -= _own_words()
        assert not leaked, (p.name, sorted(leaked)[:5])


def _own_words():
    from evalkit.sharing.pack import _TEMPLATE_WORDS

    return _TEMPLATE_WORDS


def test_same_person_ids_with_the_same_key_none_with_another(demo_dir, tmp_path, pack):
    key1, key2 = load_key(demo_dir["key"]), load_key(demo_dir["other_key"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = share(demo_dir["coarse"], _sources(demo_dir), key1, tmp_path / "again")
        other = share(demo_dir["coarse"], _sources(demo_dir), key2, tmp_path / "other")
    first = pd.read_csv(pack / "extract.csv")
    second = pd.read_csv(again.path / "extract.csv")
    third = pd.read_csv(other.path / "extract.csv")
    assert first["person_id"].tolist() == second["person_id"].tolist()
    assert not set(first["person_id"]) & set(third["person_id"])
    assert again.manifest["key_id"] != other.manifest["key_id"]


def test_k_anonymity_refusal_writes_nothing(demo_dir, tmp_path):
    out = tmp_path / "pack"
    # year-month of birth x IMD decile on a few hundred children: classes of 1-2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(
            DataError, match=r"not anonymous enough.*smallest class has \d people \(k required: 5\)"
        ) as e:
            share(demo_dir["dictionary"], _sources(demo_dir), load_key(demo_dir["key"]), out)
    assert "smallest classes:" in str(e.value)
    assert not out.exists()
    assert _leftovers(tmp_path) == []


def _run(args, monkeypatch=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return runner.invoke(app, args)


@pytest.mark.parametrize("problem", ["missing key", "short key"])
def test_key_problems(problem, demo_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("EVALKIT_SHARE_KEY", raising=False)
    out = tmp_path / "pack"
    args = ["share", str(demo_dir["coarse"]), *_sources_args(demo_dir), "--out", str(out)]
    if problem == "short key":
        short = tmp_path / "short.key"
        short.write_text("x" * 20)
        args += ["--key-file", str(short)]
        expect = r"short\.key is too short \(20 bytes\).*at least 32 bytes"
    else:
        expect = r"no key.*EVALKIT_SHARE_KEY.*evalkit keygen"
    res = _run(args)
    assert res.exit_code == 2
    assert re.search(expect, res.output.replace("\n", " ")), res.output
    assert not out.exists() and _leftovers(tmp_path) == []


def _edited_dictionary(demo_dir, tmp_path, edit):
    d = _coarse(demo_dictionary())
    edit(d)
    p = demo_dir["coarse"].parent / f"edited_{len(list(tmp_path.iterdir()))}_{os.getpid()}.yaml"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    return p


def test_column_with_no_role(demo_dir, tmp_path):
    p = _edited_dictionary(
        demo_dir, tmp_path, lambda d: d["sources"]["maternity"]["columns"].pop("gestation_weeks")
    )
    out = tmp_path / "pack"
    res = _run(
        [
            "share",
            str(p),
            *_sources_args(demo_dir),
            "--key-file",
            str(demo_dir["key"]),
            "--out",
            str(out),
        ]
    )
    assert res.exit_code == 2
    msg = res.output.replace("\n", " ")
    assert "maternity.csv" in msg and "'gestation_weeks'" in msg and "no role" in msg
    assert "direct identifier, quasi-identifier, attribute, drop" in msg
    assert not out.exists() and _leftovers(tmp_path) == []


def test_role_missing_in_the_dictionary_entry(demo_dir, tmp_path):
    p = _edited_dictionary(
        demo_dir, tmp_path, lambda d: d["sources"]["maternity"]["columns"]["sex"].pop("role")
    )
    out = tmp_path / "pack"
    res = _run(
        [
            "share",
            str(p),
            *_sources_args(demo_dir),
            "--key-file",
            str(demo_dir["key"]),
            "--out",
            str(out),
        ]
    )
    assert res.exit_code == 2
    assert "sources.maternity.columns.sex.role" in res.output and "has no role" in res.output
    assert p.name in res.output
    assert not out.exists()


def test_dictionary_naming_a_column_the_source_lacks(demo_dir, tmp_path):
    def edit(d):
        d["sources"]["early_years"]["columns"]["free_school_meals"] = {"role": "attribute"}

    p = _edited_dictionary(demo_dir, tmp_path, edit)
    out = tmp_path / "pack"
    res = _run(
        [
            "share",
            str(p),
            *_sources_args(demo_dir),
            "--key-file",
            str(demo_dir["key"]),
            "--out",
            str(out),
        ]
    )
    assert res.exit_code == 2
    msg = res.output.replace("\n", " ")
    assert "early_years.sav" in msg and "'free_school_meals'" in msg and "not in the file" in msg
    assert "columns of the file:" in msg
    assert not out.exists() and _leftovers(tmp_path) == []


def test_unreadable_source(demo_dir, tmp_path):
    bad = tmp_path / "maternity.xlsx"
    bad.write_bytes(b"this is not a spreadsheet")
    out = tmp_path / "pack"
    args = [
        "share",
        str(demo_dir["coarse"]),
        "--sources",
        f"maternity={bad}",
        "--sources",
        f"health_visiting={demo_dir['health_visiting']}",
    ]
    args += [
        "--sources",
        f"early_years={demo_dir['early_years']}",
        "--key-file",
        str(demo_dir["key"]),
        "--out",
        str(out),
    ]
    res = _run(args)
    assert res.exit_code == 2
    assert "maternity.xlsx" in res.output and "is not an Excel workbook" in res.output
    missing = _run([*args[:3], f"maternity={tmp_path / 'nope.csv'}", *args[4:]])
    assert (
        missing.exit_code == 2 and "nope.csv" in missing.output and "no such file" in missing.output
    )
    assert "CSV" in missing.output or ".csv" in missing.output
    assert not out.exists() and _leftovers(tmp_path) == []


def test_lookup_without_a_postcode_column(demo_dir, tmp_path):
    lookup = pd.read_csv(demo_dir["lookup"]).rename(columns={"postcode": "code"})
    lk = tmp_path / "lookup.csv"
    lookup.to_csv(lk, index=False)

    def edit(d):
        d["postcode_lookup"] = str(lk)

    p = _edited_dictionary(demo_dir, tmp_path, edit)
    out = tmp_path / "pack"
    res = _run(
        [
            "share",
            str(p),
            *_sources_args(demo_dir),
            "--key-file",
            str(demo_dir["key"]),
            "--out",
            str(out),
        ]
    )
    assert res.exit_code == 2
    msg = res.output.replace("\n", " ")
    assert "lookup.csv" in msg and "no postcode column" in msg and "postcode or pcds" in msg
    assert not out.exists() and _leftovers(tmp_path) == []


def test_existing_pack_is_kept_unless_overwrite(demo_dir, tmp_path):
    out = tmp_path / "pack"
    out.mkdir()
    (out / "keep.txt").write_text("earlier pack")
    args = [
        "share",
        str(demo_dir["coarse"]),
        *_sources_args(demo_dir),
        "--key-file",
        str(demo_dir["key"]),
        "--out",
        str(out),
        "-q",
    ]
    res = _run(args)
    assert res.exit_code == 2 and "already exists" in res.output
    assert (out / "keep.txt").exists()
    review = tmp_path / "review.csv"
    res = _run([*args, "--overwrite", "--review", str(review)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted(PACK_FILES)
    assert pd.read_csv(review).columns[-1] == "decision"
    assert _leftovers(tmp_path) == []


def test_keygen(tmp_path):
    p = tmp_path / "secrets" / "share.key"
    res = runner.invoke(app, ["keygen", str(p)])
    assert res.exit_code == 0, res.output
    secret = p.read_text().strip()
    assert len(secret.encode()) >= 32
    assert secret not in res.output
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert load_key(p).key_id in res.output
    again = runner.invoke(app, ["keygen", str(p)])
    assert again.exit_code == 2 and "already exists" in again.output
    assert p.read_text().strip() == secret
    assert runner.invoke(app, ["keygen", str(p), "--force"]).exit_code == 0
    assert p.read_text().strip() != secret


def test_scan_finds_a_name_declared_as_an_attribute(tmp_path):
    """A surname column wrongly given the role 'attribute' is caught before any pack exists,
    and the message names the column, never the value."""
    from evalkit.sharing import load_dictionary
    from evalkit.sharing.pack import scan_for_identifiers

    dic = load_dictionary(
        {
            "sources": {
                "a": {
                    "columns": {
                        "surname": {"role": "direct identifier", "type": "surname"},
                        "mum_surname": {"role": "attribute"},
                        "ethnicity": {"role": "attribute", "generalise": "ethnic_group"},
                    }
                }
            }
        }
    )
    extract = pd.DataFrame(
        {
            "person_id": ["x", "y"],
            "source": ["a", "a"],
            "mum_surname": ["Quennell", "Abbot"],
            "ethnic_group": ["White", "White"],
        }
    )
    for name in ("manifest.json", "README.md"):
        (tmp_path / name).write_text("nothing to see")
    found = scan_for_identifiers(tmp_path, extract, dic, {"quennell", "white"})
    assert found == ["extract column 'mum_surname' (1 cells, e.g. data row 1)"]
    (tmp_path / "README.md").write_text("Prepared for Quennell")
    (tmp_path / "quennell.csv").write_text("")
    found = scan_for_identifiers(tmp_path, extract, dic, {"quennell"})
    assert "a file name" in found and "README.md (1 words)" in found
    assert not any("quennell" in f.lower() for f in found)

"""Featuretools' text, lat-long, postal-code, e-mail, URL, file and name transforms: names,
order, return types and values equal Featuretools 1.31's on the same rows (texts with missing,
empty and blank values, unicode, punctuation, hashtags, mentions and quotes, and random strings
of the characters regular expressions treat specially), with default and other parameters.

The reference was written by Featuretools itself
(tests/reference/make_featuretools_text_reference.py) from the input table stored beside it.
Where featurekit differs on purpose, a test below shows why (README, "Choices we made").
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from featurekit.primitives import get_primitive
from hypothesis import given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.types import normalize_user_type

DATA = Path(__file__).parent / "data"
PREFIX = "featuretools_text"
REFERENCE = json.loads((DATA / f"{PREFIX}_reference.json").read_text())
INPUT = pl.read_parquet(DATA / f"{PREFIX}_input.parquet")
RUNS = ["defaults", "params", "all_types"]
# Featuretools says False for a missing pair; featurekit says missing (see the test below).
GEOBOX = "IS_IN_GEOBOX("


def entityset(frame: pl.DataFrame = INPUT) -> fk.EntitySet:
    # the woodwork names Featuretools was given, as they are: an alias test of its own
    return fk.EntitySet("text").add_table("records", frame, index=REFERENCE["index"],
                                          types=REFERENCE["types"])


def primitive(spec: dict):
    params = dict(spec["params"])
    for key in ("point1", "point2"):
        if key in params:
            params[key] = tuple(params[key])
    if "word_set" in params:
        params["word_set"] = set(params["word_set"])
    return type(get_primitive(spec["name"]))(**params)


def planned(run: str, es: fk.EntitySet | None = None) -> list:
    spec = REFERENCE["runs"][run]
    return fk.plan(es or entityset(), target="records", max_depth=1, agg_primitives=[],
                   trans_primitives=[primitive(p) for p in spec["primitives"]],
                   return_types=spec["return_types"])


@pytest.fixture(scope="module")
def matrices() -> dict[str, pl.DataFrame]:
    es = entityset()
    out = {}
    for run in [*RUNS, "choices"]:
        wanted = REFERENCE["runs"][run]["features"]
        features = [f for f in planned(run, es) if f.name in wanted]
        out[run] = fk.compute(es, features, return_type="polars")
    return out


def is_missing(value) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return isinstance(value, list) and all(is_missing(v) for v in value)


def same(ours, theirs) -> bool:
    if is_missing(ours) or is_missing(theirs):
        return is_missing(ours) and is_missing(theirs)
    if isinstance(theirs, list):
        return np.allclose(ours, theirs, rtol=1e-12, atol=0)
    if isinstance(theirs, float):
        return math.isclose(float(ours), theirs, rel_tol=1e-12, abs_tol=1e-12)
    return ours == theirs


@pytest.mark.parametrize("run", RUNS)
def test_names_and_order(run):
    names = [f.name for f in planned(run) if f.name not in INPUT.columns]
    assert names == REFERENCE["runs"][run]["features"]


@pytest.mark.parametrize("run", RUNS)
def test_values(run, matrices):
    expected = pl.read_parquet(DATA / f"{PREFIX}_{run}.parquet")
    ours = matrices[run]
    compared = 0
    for name in REFERENCE["runs"][run]["features"]:
        pairs = list(zip(ours[name].to_list(), expected[name].to_list(), strict=True))
        if name.startswith(GEOBOX):
            column = name[len(GEOBOX):].split(",")[0].rstrip(")")
            present = INPUT[column].is_not_null().to_list()
            pairs = [pair for pair, keep in zip(pairs, present, strict=True) if keep]
        wrong = [(i, o, t) for i, (o, t) in enumerate(pairs) if not same(o, t)]
        assert not wrong, f"{name}: (row, featurekit, Featuretools) {wrong[:5]}"
        compared += len(pairs)
    assert compared >= 0.9 * len(REFERENCE["runs"][run]["features"]) * INPUT.height


@pytest.mark.parametrize("run", RUNS)
def test_integer_counts_come_back_as_integers(run, matrices):
    types = REFERENCE["runs"][run]["matrix_types"]
    for name, logical in types.items():
        dtype = matrices[run][name].dtype
        if logical == "IntegerNullable":
            assert dtype.is_integer(), name
        elif logical == "Double":
            assert dtype.is_float(), name
        elif logical == "BooleanNullable":
            assert dtype == pl.Boolean, name


@pytest.mark.parametrize("name", sorted(REFERENCE["return_types"]))
def test_declared_return_types(name):
    theirs = REFERENCE["return_types"][name]
    ours = get_primitive(name).return_type
    logical = theirs["logical_type"]
    assert ours.logical_type == (None if logical is None else normalize_user_type(logical)[0])
    assert sorted(ours.tags) == theirs["tags"]


def test_missing_pair_is_not_in_the_box(matrices):
    """Featuretools compares NaN with the box's edges and says False: a point it knows nothing
    of would be reported outside every box. featurekit keeps it missing."""
    name = "IS_IN_GEOBOX(home)"
    theirs = pl.read_parquet(DATA / f"{PREFIX}_defaults.parquet")[name]
    missing = INPUT["home"].is_null()
    assert missing.sum() > 0
    assert theirs.filter(missing).to_list() == [False] * missing.sum()
    assert matrices["defaults"][name].filter(missing).null_count() == missing.sum()


def test_ignore_case_keeps_the_pattern(matrices):
    """With is_regex and ignore_case, Featuretools lower-cases the pattern, so \\W (not a word
    character) becomes \\w (a word character) and counts the opposite. featurekit lower-cases
    the text only and matches the pattern as written, which Python's re confirms."""
    name = "COUNT_STRING(text, string=\\W, is_regex=True)"
    texts = INPUT["text"].to_list()
    python = [None if t is None else len(re.findall(r"\W", t.lower())) for t in texts]
    lowered = [None if t is None else len(re.findall(r"\w", t.lower())) for t in texts]
    ours = matrices["choices"][name].to_list()
    theirs = pl.read_parquet(DATA / f"{PREFIX}_choices.parquet")[name].to_list()
    assert ours == python
    assert [None if is_missing(v) else int(v) for v in theirs] == lowered
    assert ours != lowered


# ---------------------------------------------------------------- beyond the stored rows
TEXT = st.text(alphabet=st.sampled_from(list("aAbZé1_#@'\" \t\n.,!?-") + ["日", "😀"]),
               max_size=30)


def compute_text(texts: list[str | None], names: list) -> pl.DataFrame:
    frame = pl.DataFrame({"id": range(len(texts)), "text": texts}, schema_overrides={
        "text": pl.String})
    es = fk.EntitySet("t").add_table("t", frame, index="id", types={"text": "NaturalLanguage"})
    features = fk.plan(es, target="t", max_depth=1, agg_primitives=[], trans_primitives=names)
    matrix = fk.compute(es, [f for f in features if f.name != "text"], return_type="polars")
    return matrix.drop("id")


def python_hashtags(text: str) -> int:
    return len(re.findall(r"((^#)|\s#)(\w*([^\W\d])+\w*)(?![#\w])", text))


def python_mentions(text: str) -> int:
    ends = re.escape("".join(sorted(set("!\"#$%&'()*+,-./:;<=>?[\\]^_`{|}~"))))
    return len(re.findall(rf"((^@)|(\s+@))(\w+)(?=\s|$|[{ends}])", text))


def python_quoted_words(text: str) -> int:
    phrases = re.findall(r"(((^|\W)'(.)*?'(?!\w))|((^|\W)\"(.)*?\"(?!\w)))", text, re.DOTALL)
    punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    return sum(1 for match in phrases for word in re.split("[ \n\t]", match[0])
               if word.strip(punctuation + " "))


@settings(max_examples=60, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=8))
def test_look_ahead_rewrites_agree_with_python(texts):
    """Hashtags, mentions and quoted words were written by Featuretools with Python's
    look-aheads, which polars' regular expressions lack; the rewrites count the same on any
    text of the characters that matter (Python's re, run here, is the reference)."""
    matrix = compute_text(texts, ["number_of_hashtags", "number_of_mentions",
                                  "number_of_words_in_quotes"])
    assert matrix["NUMBER_OF_HASHTAGS(text)"].to_list() == [python_hashtags(t) for t in texts]
    assert matrix["NUMBER_OF_MENTIONS(text)"].to_list() == [python_mentions(t) for t in texts]
    assert matrix["NUMBER_OF_WORDS_IN_QUOTES(text)"].to_list() == [
        python_quoted_words(t) for t in texts]


PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
WORDS_TEXT = st.lists(st.sampled_from(
    list("aAbZé1_#@'\" \t\n.,!?;:-\\") + ["日", "😀", "ß", "\x1c", "\xa0", "The", "the"]),
    max_size=30).map("".join)


def python_word_statistics(text: str) -> dict[str, object]:
    """The word statistics by their definitions, in plain Python."""
    words = re.split("[ \n\t]", text)
    sentence = re.sub(r"[!,.:;?]+$|[!,.:;?]+ |[!,.:;?]+\n", " ", text).split()
    lengths = [len(w) for w in words if w]
    return {
        "UPPER_CASE_WORD_COUNT(text)": sum(1 for w in words
                                           if w.strip(PUNCTUATION) and w.upper() == w),
        "NUMBER_OF_UNIQUE_WORDS(text)": len({w.strip(PUNCTUATION) for w in words
                                             if w.strip(PUNCTUATION)}),
        "NUMBER_OF_COMMON_WORDS(text, word_set={'the'})": sum(
            1 for w in words if w.lower().strip(PUNCTUATION) == "the"),
        "MEAN_CHARACTERS_PER_WORD(text)": (float(np.mean([len(w) for w in sentence]))
                                           if sentence else 0.0),
        "MEDIAN_WORD_LENGTH(text)": float(np.median(lengths)) if lengths else None,
        "TOTAL_WORD_LENGTH(text)": sum(1 for ch in text
                                       if ch not in PUNCTUATION.replace("\\", "") + "\n\t "),
        "TITLE_WORD_COUNT(text)": len(re.findall(r"[A-Z][^\s]*", text)),
        "PUNCTUATION_COUNT(text)": sum(1 for ch in text if ch in PUNCTUATION),
        "UPPER_CASE_COUNT(text)": sum(1 for ch in text if "A" <= ch <= "Z"),
        "WHITESPACE_COUNT(text)": text.count(" "),
        "COUNT_STRING(text)": text.lower().count("the"),
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(WORDS_TEXT, min_size=1, max_size=8))
def test_word_statistics_agree_with_their_definitions(texts):
    names = ["upper_case_word_count", "number_of_unique_words",
             get_primitive("number_of_common_words").__class__(word_set={"the"}),
             "mean_characters_per_word", "median_word_length", "total_word_length",
             "title_word_count", "punctuation_count", "upper_case_count", "whitespace_count",
             "count_string"]
    matrix = compute_text(texts, names)
    for row, text in enumerate(texts):
        for name, expected in python_word_statistics(text).items():
            assert same(matrix[name][row], expected), (text, name, matrix[name][row], expected)


def test_missing_text_stays_missing():
    names = [name for name, spec in REFERENCE["return_types"].items()
             if name in ("count_string", "mean_characters_per_word", "median_word_length",
                         "num_unique_separators", "number_of_common_words",
                         "number_of_hashtags", "number_of_mentions", "number_of_unique_words",
                         "number_of_words_in_quotes", "punctuation_count", "title_word_count",
                         "total_word_length", "upper_case_count", "upper_case_word_count",
                         "whitespace_count")]
    assert len(names) == 15
    matrix = compute_text([None, "a b"], names)
    assert matrix.width == 15
    assert all(matrix[column][0] is None for column in matrix.columns)
    assert all(matrix[column][1] is not None for column in matrix.columns)


@pytest.mark.parametrize(("name", "params", "match"), [
    ("count_string", {"string": r"(?<=a)b", "is_regex": True}, "count_string.*string"),
    ("count_string", {"ignore_case": "yes"}, "ignore_case.*True or False"),
    ("number_of_words_in_quotes", {"quote_type": "curly"}, "quote_type.*'both'"),
    ("cityblock_distance", {"unit": "feet"}, "unit.*'miles' or 'kilometers'"),
    ("is_in_geobox", {"point1": (1, 2, 3)}, "point1.*pair of numbers"),
    ("num_unique_separators", {"separators": " ,"}, "separators.*list"),
    ("median_word_length", {"delimiters_regex": "("}, "delimiters_regex"),
])
def test_bad_parameters_are_refused_when_made(name, params, match):
    with pytest.raises(fk.PlanError, match=match):
        type(get_primitive(name))(**params)


@pytest.mark.parametrize("run", RUNS)
def test_features_survive_a_features_file(run, tmp_path, matrices):
    """Parameters (sets of words, lists of separators, box corners) are saved and read back."""
    es = entityset()
    wanted = REFERENCE["runs"][run]["features"]
    features = [f for f in planned(run, es) if f.name in wanted]
    fk.save_features(features, tmp_path / "features.json")
    loaded = fk.load_features(tmp_path / "features.json")
    assert [f.name for f in loaded] == wanted
    again = fk.compute(es, loaded, return_type="polars")
    assert again.equals(matrices[run])


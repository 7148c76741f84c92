"""Write Featuretools 1.31's values of its text, lat-long, postal-code, e-mail, URL, file and
name transforms to tests/data, as the reference tests/test_featuretools_text_transforms.py
compares featurekit with.

One table ``records`` holds texts (missing, empty, blank, unicode, punctuation, hashtags,
mentions, quotes, tabs and newlines), two lat-long pairs (some missing), postal codes, e-mail
addresses, URLs, file paths and full names. It is written next to the matrices
(``featuretools_text_input.parquet``) so that both libraries read the same rows. Each run is
one ``dfs`` call (target ``records``, no aggregation) with a list of transform primitives, by
default parameters or not; the JSON file holds every run's primitives (name and parameters),
its feature names in Featuretools' order, the woodwork logical type of each matrix column and
each primitive's declared return type.

Run in an environment with featuretools 1.31 and pandas 2.2 (not featurekit's own):
    python tests/reference/make_featuretools_text_reference.py
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import featuretools as ft
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from featuretools.primitives import (
    CityblockDistance,
    CountString,
    IsInGeoBox,
    MedianWordLength,
    NumberOfCommonWords,
    NumberOfUniqueWords,
    NumberOfWordsInQuotes,
    NumUniqueSeparators,
    TotalWordLength,
)

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
PREFIX = "featuretools_text"

# Column -> woodwork logical type name (featurekit takes the same names in types=).
TYPES = {"text": "NaturalLanguage", "note": "NaturalLanguage", "home": "LatLong",
         "work": "LatLong", "zip": "PostalCode", "email": "EmailAddress", "site": "URL",
         "path": "Filepath", "person": "PersonFullName"}

TEXTS = [
    None, "", " ", "The quick brown fox jumps over the lazy dog.",
    "THE END. the end? Then, there: they!", "#hashtag #two words #3 #a1 #x# end#no #ok-yes",
    "@alice and @bob, hello @carol! e@mail @dave@ @e_f", "He said \"hello there\" and 'good bye' ok",
    "It's John's \"quoted 'nested' text\" here", "'single'quote \"open never closed",
    "tabs\tand\nnewlines\n\nend", "Ünïcödé wörds ÀND Straße ÉTÉ café", "日本語 テキスト 123 ４５",
    "emoji 😀 #día @josé \"olé\"", "punctuation!!! ... ,,, ;;; ??? (parens) [brackets] {braces}",
    "back\\slash and/slash a\\b", "MixedCase McDonald iPhone eBay USA NASA-X",
    "a  double  spaced  text ", "trailing punctuation, inside. words; here: yes!",
    "numbers 1 22 333 4.5 6,7", "\"whole\"", "''", "\"\"", "\"a\" \"b\"", "'a' 'b' \"c d\"",
    "x\"y\" z", "#### @@@@", "# @ #a @b", "Hello,World", "one", "UPPER lower Title",
    "the the THE The tHe", "...", "a.b.c", "end with space ", " start with space",
    "new\nline", "text with the word then there other", "hyphen-ated words-here",
    "q: what's up? a: nothing!", "\"it\"s fine\" ok", "«quoted» and “curly”",
]

LATLONGS = [(40.7128, -74.006), (34.0522, -118.2437), None, (51.5074, -0.1278),
            (-33.8688, 151.2093), (0.0, 0.0), (35.6762, 139.6503), (48.8566, 2.3522),
            (45.0, -90.0), (-90.0, 180.0), (64.1466, -21.9426), None, (30.0, -100.0),
            (49.9, -61.0), (40.0, -130.0)]

ZIPS = ["02138", "94105", None, "10001", "60614", "2345", "98101-1234", "1", "30303", "K1A 0B1",
        "SW1A 1AA", "75008", "00501", "12345", "7"]

EMAILS = ["john@gmail.com", "jane.doe@featurelabs.com", None, "  spaced@yahoo.com  ",
          "no-at-sign", "two@at@signs.com", "x@hotmail.co.uk", "CAPS@GMAIL.COM", "a@b",
          "first.last@outlook.com", "user@protonmail.com", "me@company.org", "@nobody.com",
          "trailing@", "z@aol.com"]

SITES = ["https://www.google.com/search?q=1", "http://play.google.com", None, "google.co.in",
         "www.facebook.com/page", "ftp://files.example.org", "https://user:pw@site.net:8080/x",
         "example.com.au", "https://sub.domain.community/path", "localhost", "http://a.b.io",
         "https://docs.python.org/3/", "mailto:someone@example.com", "https://xn--bcher-kva.ch",
         "https://foo.gov.uk"]

PATHS = ["/home/user/data.csv", "C:\\docs\\report.PDF", None, "archive.tar.gz", "noext",
         "image.JPEG", ".bashrc", "weird.name.v2", "file.", "dir.d/file", "music.mp3",
         "a/b/c.txt", "data.json", "x.Y", "script.py", "notes.TXT\n", "a.b\n\n", "x.tar|gz",
         "café.été", "C:\\dir.v1\\file"]

PEOPLE = ["Mr. John Smith", "Mrs. Jane Doe", None, "Doe, John", "Dr. Ann Lee-Wong",
          "Kevin Woolf", "Ms. Smith", "Oliva y Ocana, Dona. Fermina", "Peter",
          "Mr. Frederick Jones Ware", "Mary Ann Brown", "Prof. A. Hedge", "van der Berg, Jan",
          "Sir Isaac Newton", "Jean-Luc Picard/Riker", "Peter\n", "Mr. Smith\n", "Doe, Jane\n",
          "Ann Lee\n\n", "", "Mrs. Émilie Zola", "Dr.John Smith", "Ms. Ana Maria-Jose"]


# Characters the regular expressions treat specially, for random texts ("noise").
TRICKY = list("aAbZé日1_#@'\" \t\n.,!?;:-()\\/$") + ["The", "the ", "ÀÉ", "😀", "\u00a0"]
N_ROWS = 160


def noise(rng: np.random.Generator, n: int) -> list[str | None]:
    """Random short strings over TRICKY (every tenth missing)."""
    texts = ["".join(rng.choice(TRICKY, rng.integers(0, 14))) for _ in range(n)]
    return [None if i % 10 == 7 else text for i, text in enumerate(texts)]


def records() -> pd.DataFrame:
    """The input table: the texts above then random ones, and the other columns cycled."""
    n = N_ROWS
    rng = np.random.default_rng(13)

    def cycle(values, shift=0):
        return [values[(i + shift) % len(values)] for i in range(n)]

    notes = [" ".join(rng.choice(["The", "quick", "#tag", "@who", "'q'", "\"dq\"", "UP", "a,",
                                  "b.", "ünï", "x\ty", "the", "end!", ""], rng.integers(0, 7)))
             for _ in range(n)]
    notes[3] = None
    texts = TEXTS + noise(rng, n - len(TEXTS))
    return pd.DataFrame({
        "id": np.arange(n), "text": texts, "note": notes, "home": cycle(LATLONGS),
        "work": cycle(LATLONGS, 5), "zip": cycle(ZIPS), "email": cycle(EMAILS),
        "site": cycle(SITES), "path": cycle(PATHS), "person": cycle(PEOPLE),
    })


DEFAULTS = [
    "count_string", "mean_characters_per_word", "median_word_length", "num_unique_separators",
    "number_of_common_words", "number_of_hashtags", "number_of_mentions",
    "number_of_unique_words", "number_of_words_in_quotes", "punctuation_count",
    "title_word_count", "total_word_length", "upper_case_count", "upper_case_word_count",
    "whitespace_count", "latitude", "longitude", "geomidpoint", "cityblock_distance",
    "is_in_geobox", "one_digit_postal_code", "two_digit_postal_code", "email_address_to_domain",
    "is_free_email_domain", "url_to_domain", "url_to_protocol", "url_to_tld", "file_extension",
    "full_name_to_first_name", "full_name_to_last_name", "full_name_to_title",
]

# Non-default parameters: (Featuretools' primitive, the same as name + parameters for JSON).
PARAMS = [
    (CountString(string="a", ignore_case=False), "count_string", {"string": "a",
                                                                    "ignore_case": False}),
    (CountString(string="The", match_whole_words_only=True), "count_string",
     {"string": "The", "match_whole_words_only": True}),
    (CountString(string="h.e", ignore_non_alphanumeric=True), "count_string",
     {"string": "h.e", "ignore_non_alphanumeric": True}),
    (CountString(string=r"\d+", is_regex=True), "count_string",
     {"string": r"\d+", "is_regex": True}),
    (CountString(string="[aeiou]{2}", is_regex=True, ignore_case=False), "count_string",
     {"string": "[aeiou]{2}", "is_regex": True, "ignore_case": False}),
    (MedianWordLength(delimiters_regex="[ ,.]"), "median_word_length",
     {"delimiters_regex": "[ ,.]"}),
    (MedianWordLength(delimiters_regex=","), "median_word_length", {"delimiters_regex": ","}),
    (NumberOfCommonWords(word_set={"the"}), "number_of_common_words", {"word_set": ["the"]}),
    (NumberOfCommonWords(delimiters_regex="[ ,]"), "number_of_common_words",
     {"delimiters_regex": "[ ,]"}),
    (NumberOfUniqueWords(case_insensitive=True), "number_of_unique_words",
     {"case_insensitive": True}),
    (NumberOfWordsInQuotes(quote_type="single"), "number_of_words_in_quotes",
     {"quote_type": "single"}),
    (NumberOfWordsInQuotes(quote_type="double"), "number_of_words_in_quotes",
     {"quote_type": "double"}),
    (NumUniqueSeparators(separators=[" ", "!", "#", "ab"]), "num_unique_separators",
     {"separators": [" ", "!", "#", "ab"]}),
    (TotalWordLength(do_not_count="[ e]"), "total_word_length", {"do_not_count": "[ e]"}),
    (CityblockDistance(unit="kilometers"), "cityblock_distance", {"unit": "kilometers"}),
    (IsInGeoBox(point1=(30, -130), point2=(50, -60)), "is_in_geobox",
     {"point1": [30, -130], "point2": [50, -60]}),
]


def entityset(frame: pd.DataFrame) -> ft.EntitySet:
    es = ft.EntitySet("text")
    es.add_dataframe(dataframe_name="records", dataframe=frame.copy(), index="id",
                     logical_types=TYPES)
    return es


def to_arrow(column: pd.Series) -> pa.Array:
    """A matrix column as arrow: numbers as float64 (missing: null), booleans with nulls,
    pairs as lists of two floats, anything else as strings."""
    values = column.astype(object).tolist()

    def missing(value):
        return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))

    present = [v for v in values if not missing(v)]
    if present and all(isinstance(v, tuple) for v in present):
        return pa.array([None if missing(v) else [float(x) for x in v] for v in values],
                        pa.list_(pa.float64()))
    if present and all(isinstance(v, (bool, np.bool_)) for v in present):
        return pa.array([None if missing(v) else bool(v) for v in values], pa.bool_())
    if present and all(isinstance(v, (int, float, np.integer, np.floating)) for v in present):
        return pa.array([None if missing(v) else float(v) for v in values], pa.float64())
    return pa.array([None if missing(v) else str(v) for v in values], pa.string())


def schema_json(schema) -> dict:
    logical = schema.logical_type
    return {"logical_type": None if logical is None else type(logical).__name__,
            "tags": sorted(schema.semantic_tags)}


def main() -> None:
    warnings.simplefilter("ignore")
    frame = records()
    table = pa.table({name: (pa.array(frame[name].tolist(), pa.list_(pa.float64()))
                             if TYPES.get(name) == "LatLong"
                             else pa.array(frame[name].tolist()))
                      for name in frame.columns})
    pq.write_table(table, DATA / f"{PREFIX}_input.parquet")
    # geomidpoint returns pairs, which dfs leaves out of the matrix unless asked for all types
    runs = {"defaults": ([(name, name, {}) for name in DEFAULTS], None),
            "params": (PARAMS, None),
            "all_types": ([("geomidpoint", "geomidpoint", {}), ("latitude", "latitude", {})],
                          "all"),
            # where featurekit differs (README, "Choices we made"): Featuretools lower-cases
            # the pattern itself when ignoring case, so \W becomes \w
            "choices": ([(CountString(string=r"\W", is_regex=True), "count_string",
                          {"string": r"\W", "is_regex": True})], None)}
    reference = {"types": TYPES, "index": "id", "runs": {}, "return_types": {}}
    for run, (primitives, return_types) in runs.items():
        matrix, features = ft.dfs(entityset=entityset(frame), target_dataframe_name="records",
                                  agg_primitives=[], max_depth=1, return_types=return_types,
                                  trans_primitives=[p for p, _, _ in primitives])
        names = [f.get_name() for f in features if f.get_name() not in frame.columns]
        pq.write_table(pa.table({name: to_arrow(matrix[name]) for name in names}),
                       DATA / f"{PREFIX}_{run}.parquet")
        reference["runs"][run] = {
            "primitives": [{"name": name, "params": params} for _, name, params in primitives],
            "features": names,
            "return_types": return_types,
            "matrix_types": {name: type(matrix.ww.logical_types[name]).__name__
                             for name in names},
        }
    for name in DEFAULTS:
        primitive = ft.primitives.utils.get_transform_primitives()[name]
        reference["return_types"][name] = schema_json(primitive.return_type)
    (DATA / f"{PREFIX}_reference.json").write_text(json.dumps(reference, indent=1,
                                                              ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

"""Featuretools' spellings of logical types (woodwork's class names, any case) are aliases of
featurekit's types; the woodwork types featurekit lacked (postal codes, e-mail addresses, URLs,
names, ...) are read with their woodwork tags; an unknown name is a SchemaError with a
did-you-mean."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import featurekit as fk
from featurekit.types import LOGICAL_TYPES, WOODWORK_NAMES, normalize_user_type

# Woodwork's class name -> the featurekit type it stands for (written out by hand).
WOODWORK_TO_FEATUREKIT = {
    "Address": "address", "Age": "integer", "AgeFractional": "age_fractional",
    "AgeNullable": "integer_nullable", "Boolean": "boolean", "BooleanNullable": "boolean",
    "Categorical": "categorical", "CountryCode": "country_code", "CurrencyCode": "currency_code",
    "Datetime": "datetime", "Double": "double", "EmailAddress": "email_address",
    "Filepath": "filepath", "IPAddress": "ip_address", "Integer": "integer",
    "IntegerNullable": "integer_nullable", "LatLong": "latlong", "NaturalLanguage": "text",
    "Ordinal": "ordinal", "PersonFullName": "person_full_name", "PhoneNumber": "phone_number",
    "PostalCode": "postal_code", "SubRegionCode": "sub_region_code", "Timedelta": "timedelta",
    "URL": "url", "Unknown": "unknown",
}
# woodwork's type_string of each class, as Featuretools writes it in schemas
TYPE_STRINGS = {"LatLong": "lat_long", "NaturalLanguage": "natural_language",
                "IPAddress": "ip_address", "URL": "url", "PostalCode": "postal_code"}


def test_every_woodwork_name_has_an_expected_type():
    assert set(WOODWORK_TO_FEATUREKIT) == set(WOODWORK_NAMES)


@pytest.mark.parametrize("name", sorted(WOODWORK_TO_FEATUREKIT))
def test_woodwork_names_in_any_case(name):
    expected = WOODWORK_TO_FEATUREKIT[name]
    for spelling in (name, name.lower(), name.upper()):
        assert normalize_user_type(spelling) == (expected, frozenset())


@given(st.sampled_from(LOGICAL_TYPES), st.sampled_from(["_", "-", " "]),
       st.sampled_from([str.lower, str.upper, str.title]))
def test_our_names_with_any_separator_and_case(name, separator, case):
    assert normalize_user_type(case(name.replace("_", separator)))[0] == name


@pytest.mark.parametrize("class_name", sorted(TYPE_STRINGS))
def test_woodwork_type_objects_by_their_type_string(class_name):
    # a stand-in with woodwork's attribute, as a class and as an instance
    fake = type(class_name, (), {"type_string": TYPE_STRINGS[class_name]})
    assert normalize_user_type(fake) == normalize_user_type(fake()) == (
        WOODWORK_TO_FEATUREKIT[class_name], frozenset())


def people() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [1, 2, 3, 4],
        "zip": [2345.0, None, 10001.0, float("nan")],
        "country": ["US", "FR", None, "US"],
        "email": ["a@x.com", None, "b@y.org", ""],
        "site": ["https://x.com", "y.org", None, "http://z.co.uk"],
        "name": ["Mr. John Smith", "Jane Doe", None, "Ann"],
        "score": ["1.5", "2", None, "3"],
    })


def test_add_table_with_featuretools_spellings():
    frame = people()
    before = frame.copy()
    es = fk.EntitySet("e").add_table(
        "people", frame, index="id",
        types={"zip": "PostalCode", "country": "CountryCode", "email": "EmailAddress",
               "site": "URL", "name": "PersonFullName", "score": "Double"})
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is untouched
    schemas = es["people"].schemas
    assert {c: schemas[c].logical_type for c in ("zip", "country", "email", "site", "name",
                                                 "score")} == {
        "zip": "postal_code", "country": "country_code", "email": "email_address", "site": "url",
        "name": "person_full_name", "score": "double"}
    # codes carry woodwork's "category" tag; the string types carry none
    assert schemas["zip"].tags == schemas["country"].tags == frozenset({"category"})
    assert schemas["email"].tags == schemas["site"].tags == frozenset()
    stored = es["people"].frame
    # a postal code read from floats keeps its digits: "2345", never "2345.0"; NaN is missing
    assert stored["zip"].cast(pl.String).to_list() == ["2345", None, "10001", None]
    assert stored["email"].dtype == pl.String
    assert stored["score"].to_list() == [1.5, 2.0, None, 3.0]


def test_codes_that_are_not_whole_numbers_are_refused():
    frame = pd.DataFrame({"id": [1, 2], "zip": [12.5, 3.0]})
    with pytest.raises(fk.SchemaError, match="zip.*not whole.*12.5"):
        fk.EntitySet("e").add_table("t", frame, index="id", types={"zip": "postal_code"})


@pytest.mark.parametrize(("typo", "suggestion"), [
    ("PostCode", "'PostalCode'"), ("post_code", "'postal_code'"), ("Dobule", "'Double'"),
    ("NaturalLanguge", "'NaturalLanguage'"), ("emial_address", "'email_address'"),
])
def test_unknown_names_get_a_did_you_mean(typo, suggestion):
    frame = pd.DataFrame({"id": [1, 2], "x": ["a", "b"]})
    with pytest.raises(fk.SchemaError, match=rf"table 't', column 'x'.*{typo}.*did you mean "
                                             rf"{suggestion}"):
        fk.EntitySet("e").add_table("t", frame, index="id", types={"x": typo})


def test_a_name_close_to_nothing_lists_the_accepted_ones():
    frame = pd.DataFrame({"id": [1, 2], "x": ["a", "b"]})
    with pytest.raises(fk.SchemaError, match=r"use one of \['numeric'.*'PostalCode'|"
                                             r"use one of \['numeric'.*NaturalLanguage"):
        fk.EntitySet("e").add_table("t", frame, index="id", types={"x": "zzzzzzzz"})
    with pytest.raises(fk.SchemaError, match="unknown logical type 3"):
        fk.EntitySet("e").add_table("t", frame, index="id", types={"x": 3})


def test_custom_primitives_take_the_same_spellings():
    """A custom primitive declared with woodwork's names applies to the columns of those
    types, and only to them."""
    from featurekit.primitives.custom import schema_from_spec

    assert schema_from_spec("NaturalLanguage", as_input=True).logical_type == "text"
    assert schema_from_spec("PostalCode", as_input=True).logical_type == "postal_code"
    assert schema_from_spec("IntegerNullable", as_input=False) == schema_from_spec(
        "integer_nullable", as_input=False)
    assert schema_from_spec("IntegerNullable", as_input=False).tags == frozenset({"numeric"})
    with pytest.raises(fk.PlanError, match="'Dobule'.*did you mean 'Double'"):
        schema_from_spec("Dobule", as_input=True)

    frame = people()
    es = fk.EntitySet("e").add_table("people", frame, index="id",
                                     types={"zip": "PostalCode", "email": "EmailAddress"})

    @fk.primitives.transform(input_types=["EmailAddress"], return_type="Integer", polars=True)
    def address_length(values):
        """Characters in an e-mail address."""
        return values.str.len_chars().cast(pl.Int64)

    features = fk.plan(es, target="people", max_depth=1, agg_primitives=[],
                       trans_primitives=[address_length])
    made = [f.name for f in features if "ADDRESS_LENGTH" in f.name]
    assert made == ["ADDRESS_LENGTH(email)"]
    matrix = fk.compute(es, [f for f in features if f.name in made], return_type="polars")
    assert matrix["ADDRESS_LENGTH(email)"].to_list() == [7, None, 7, 0]

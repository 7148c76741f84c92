"""``describe_feature``: a feature in one plain English sentence, built from its tree the way
Featuretools 1.31 words it ("The sum of the "amount" of all instances of "transactions" for
each "customer_id" in "customers".") so that users of both read the same sentences."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from featurekit.errors import FeaturekitError
from featurekit.feature import (
    AggregationFeature,
    DirectFeature,
    Feature,
    FeatureOutput,
    IdentityFeature,
)
from featurekit.primitives import Primitive

# What a primitive computes, with {} for its inputs' descriptions (in input order). A
# primitive class may carry its own ``description_template``; one not listed here reads
# "the result of applying NAME to ...".
TEMPLATES = {
    "count": "the number", "sum": "the sum of {}", "mean": "the average of {}",
    "std": "the standard deviation of {}", "variance": "the variance of {}",
    "min": "the minimum of {}", "max": "the maximum of {}", "median": "the median of {}",
    "skew": "the skewness of {}", "kurtosis": "the kurtosis of {}",
    "mode": "the most frequently occurring value of {}",
    "num_unique": "the number of unique elements in {}",
    "percent_true": "the percentage of true values in {}",
    "num_true": "the number of times {} is true", "all": "whether all of {} are true",
    "any": "whether any of {} are true", "first": "the first instance of {}",
    "last": "the last instance of {}", "entropy": "the entropy of {}",
    "trend": "the linear trend of {} over time", "time_since_first": "the time since the first {}",
    "time_since_last": "the time since the last {}",
    "avg_time_between": "the average time between each of {}",
    "count_above_mean": "the number of values of {} above their mean",
    "count_below_mean": "the number of values of {} below their mean",
    "year": "the year of {}", "month": "the month of {}", "day": "the day of the month of {}",
    "weekday": "the day of the week of {}", "hour": "the hour value of {}",
    "minute": "the minutes value of {}", "second": "the seconds value of {}",
    "week": "the week of the year of {}", "quarter": "the quarter that describes {}",
    "day_of_year": "the day of year from {}", "is_weekend": "whether {} occurred on a weekend",
    "num_characters": "the number of characters in {}", "num_words": "the number of words in {}",
    "absolute": "the absolute value of {}", "is_null": "whether {} is null",
    "cum_sum": "the cumulative sum of {}", "cum_count": "the cumulative count of {}",
    "cum_mean": "the cumulative mean of {}", "cum_min": "the cumulative minimum of {}",
    "cum_max": "the cumulative maximum of {}", "diff": "the difference from the previous value of {}",
    "time_since_previous": "the time since the previous instance of {}",
    "percentile": "the percentile rank of {}", "age": "the age from {}",
    "latitude": "the latitude of {}", "longitude": "the longitude of {}",
}


def describe_feature(
    feature: Feature,
    feature_descriptions: Mapping[Any, str] | None = None,
    primitive_templates: Mapping[Any, str | list[str]] | None = None,
    metadata_file: str | Path | None = None,
) -> str:
    """One English sentence saying what ``feature`` computes, worded as Featuretools does.

    ``feature_descriptions`` maps features (or their ``unique_name``, ``"table: name"``, or
    name) to your own words, used wherever that feature appears; ``primitive_templates`` maps
    primitives (or their names) to a template with ``{}`` for each input, e.g.
    ``{"sum": "the total of {}"}`` (a list gives the whole feature's template first, then one
    per output with ``{nth_slice}``). ``metadata_file`` is a JSON file holding both under the
    keys ``"feature_descriptions"`` and ``"primitive_templates"``; the arguments win over it.

    Examples
    --------
    >>> import featurekit as fk
    >>> es = fk.demo.load_retail(n_customers=3)
    >>> features = fk.plan(es, target="customers", agg_primitives=["sum"], trans_primitives=[])
    >>> fk.describe_feature(features[-1])
    'The sum of the "amount" of all instances of "transactions" for each "customer_id" in "customers".'
    >>> fk.describe_feature(features[-1], primitive_templates={"sum": "the total of {}"})[:26]
    'The total of the "amount" '
    """
    if not isinstance(feature, Feature):
        raise FeaturekitError(f"describe_feature takes a feature, got {type(feature).__name__}. "
                              "Fix: pass one of the features fk.dfs or fk.plan returned")
    descriptions = _mapping("feature_descriptions", feature_descriptions)
    templates = _mapping("primitive_templates", primitive_templates)
    if metadata_file is not None:
        from_file = _read_metadata(metadata_file)
        descriptions = {**from_file[0], **descriptions}
        templates = {**from_file[1], **templates}
    sentence = _describe(feature, descriptions, templates)
    return sentence[:1].upper() + sentence[1:] + "."


def _mapping(name: str, value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FeaturekitError(f"{name} takes a dict, got {type(value).__name__}. "
                              f"Fix: pass e.g. {name}={{'sum': 'the total of {{}}'}}")
    return dict(value)


def _read_metadata(path: str | Path) -> tuple[dict, dict]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise FeaturekitError(f"metadata_file {str(path)!r} cannot be read as JSON ({error}). "
                              "Fix: pass a JSON file with 'feature_descriptions' and "
                              "'primitive_templates'") from None
    if not isinstance(data, dict):
        raise FeaturekitError(f"metadata_file {str(path)!r} holds no JSON object. Fix: write "
                              '{"feature_descriptions": {...}, "primitive_templates": {...}}')
    parts = []
    for key in ("feature_descriptions", "primitive_templates"):
        part = data.get(key, {})
        if not isinstance(part, dict):
            raise FeaturekitError(f"metadata_file {str(path)!r}: {key!r} must be an object. "
                                  f"Fix: write \"{key}\": {{...}}")
        parts.append(part)
    return parts[0], parts[1]


def _custom(feature: Feature, descriptions: dict) -> str | None:
    for key in (feature, feature.unique_name, feature.name):
        try:
            if key in descriptions:
                return descriptions[key]
        except TypeError:  # an unhashable key asked of a dict
            continue
    return None


def _describe(feature: Feature, descriptions: dict, templates: dict) -> str:
    custom = _custom(feature, descriptions)
    if custom is not None:
        return custom
    if isinstance(feature, IdentityFeature):
        return f'the "{feature.column}"'
    if isinstance(feature, DirectFeature):
        return _describe_direct(feature, descriptions, templates)
    sliced = isinstance(feature, FeatureOutput)
    base = feature.inputs[0] if sliced else feature
    inputs = [_describe(f, descriptions, templates) for f in base.inputs]
    phrase = _primitive_phrase(base.primitive, inputs, templates,
                               feature.position if sliced else None)
    parts = [phrase]
    if isinstance(base, AggregationFeature):
        parts.append(f'of all instances of "{base.child}"')
        where = getattr(base, "where", None)
        if where is not None:
            parts.append(_where_phrase(where, descriptions, templates))
        parent = base.path[0]
        key = f'"{parent.parent_key}" in "{parent.parent}"'
        parts.append(f"for each {key}")
    return " ".join(part for part in parts if part)


def _describe_direct(feature: DirectFeature, descriptions: dict, templates: dict) -> str:
    """The base's description, then the chain of parents it is read through."""
    chain = f' the instance of "{feature.relationship.parent}" associated with this instance of ' \
            f'"{feature.table}"'
    base = feature.base
    while isinstance(base, DirectFeature) and _custom(base, descriptions) is None:
        chain = f' the instance of "{base.relationship.parent}" associated with' + chain
        base = base.base
    return _describe(base, descriptions, templates) + " for" + chain


def _where_phrase(where: Any, descriptions: dict, templates: dict) -> str:
    """``where <column> is <value>`` for a filtered aggregation (interesting values)."""
    column = where.inputs[0] if getattr(where, "inputs", None) else where
    value = getattr(getattr(where, "primitive", None), "params", {}).get("value")
    return f"where {_describe(column, descriptions, templates)} is {value}"


def _primitive_phrase(primitive: Primitive, inputs: list[str], templates: dict,
                      position: int | None) -> str:
    template = None
    for key in (primitive, primitive.name):
        try:
            if key in templates:
                template = templates[key]
                break
        except TypeError:
            continue
    if template is None:
        template = getattr(primitive, "description_template", None) or _builtin(primitive)
    if template is None:
        if position is not None:
            return (f"the {_nth(position + 1)} output from applying {primitive.display_name} to "
                    f"{', '.join(inputs)}")
        return f"the result of applying {primitive.display_name} to {', '.join(inputs)}"
    if isinstance(template, list | tuple):
        if position is None:
            template = template[0]
        else:
            template = template[position + 1] if position + 1 < len(template) else template[-1]
    try:
        return template.format(*inputs, nth_slice=_nth((position or 0) + 1),
                                **_params(primitive))
    except (IndexError, KeyError) as error:
        raise FeaturekitError(f"the description template {template!r} of primitive "
                              f"{primitive.name!r} does not fit its {len(inputs)} input(s) "
                              f"({error}). Fix: use one {{}} per input") from None


def _builtin(primitive: Primitive) -> str | None:
    if primitive.name == "one_hot":
        return "whether {} equals {value}"
    if primitive.name == "one_hot_unknown":
        return "whether {} is none of the encoded values"
    return TEMPLATES.get(primitive.name) if type(primitive).__module__.startswith(
        "featurekit.primitives") else None


def _params(primitive: Primitive) -> dict[str, Any]:
    return {key: value for key, value in primitive.params.items() if isinstance(key, str)}


def _nth(number: int) -> str:
    if number % 100 in (11, 12, 13):
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th')}"


__all__ = ["describe_feature"]

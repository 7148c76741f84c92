"""Places under Featuretools' names: a (latitude, longitude) pair's parts, the midpoint and the
city-block distance of two pairs, whether a pair lies in a box, and postal-code prefixes. A
missing pair or code gives a missing value."""

from __future__ import annotations

import numbers

import polars as pl
from featurekit.primitives.base import (
    BOOLEAN_OUT,
    CATEGORY_OUT,
    DOUBLE_OUT,
    LATLONG_IN,
    NUMERIC_OUT,
    ColumnSchema,
    TransformPrimitive,
)

POSTAL_CODE_IN = ColumnSchema("postal_code")
LATLONG_OUT = ColumnSchema("latlong")
EARTH_RADIUS = {"miles": 3958.7613, "kilometers": 6371.0088}  # mean radius, as Featuretools


def latitude(pair: pl.Expr) -> pl.Expr:
    return pair.list.get(0, null_on_oob=True).cast(pl.Float64)


def longitude(pair: pl.Expr) -> pl.Expr:
    return pair.list.get(1, null_on_oob=True).cast(pl.Float64)


def great_circle(lat1: pl.Expr, lon1: pl.Expr, lat2: pl.Expr, lon2: pl.Expr,
                 radius: float) -> pl.Expr:
    """Haversine distance between two points given in degrees."""
    lat1, lon1, lat2, lon2 = (value.radians() for value in (lat1, lon1, lat2, lon2))
    a = ((lat2 - lat1) / 2).sin() ** 2 + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2).sin() ** 2
    return radius * 2 * a.sqrt().arcsin()


class Latitude(TransformPrimitive):
    """The latitude of a (latitude, longitude) pair."""

    name = "latitude"
    input_types = ((LATLONG_IN,),)
    return_type = NUMERIC_OUT

    def transform_expr(self, inputs, context):
        return latitude(inputs[0])


class Longitude(TransformPrimitive):
    """The longitude of a (latitude, longitude) pair."""

    name = "longitude"
    input_types = ((LATLONG_IN,),)
    return_type = NUMERIC_OUT

    def transform_expr(self, inputs, context):
        return longitude(inputs[0])


class GeoMidpoint(TransformPrimitive):
    """The pair of the mean latitude and the mean longitude of two pairs (degrees averaged, as
    Featuretools does: no great-circle midpoint)."""

    name = "geomidpoint"
    input_types = ((LATLONG_IN, LATLONG_IN),)
    return_type = LATLONG_OUT
    commutative = True

    def transform_expr(self, inputs, context):
        first, second = inputs
        lat = (latitude(first) + latitude(second)) / 2
        lon = (longitude(first) + longitude(second)) / 2
        return pl.when(lat.is_not_null() & lon.is_not_null()).then(pl.concat_list(lat, lon))


class _Distance(TransformPrimitive):
    input_types = ((LATLONG_IN, LATLONG_IN),)
    return_type = DOUBLE_OUT
    commutative = True

    @classmethod
    def default_params(cls):
        return {"unit": "miles"}

    def check_params(self) -> None:
        if self.unit not in EARTH_RADIUS:
            self.refuse_param("unit", "'miles' or 'kilometers'")


class CityblockDistance(_Distance):
    """Distance along a meridian plus distance along the first point's parallel, each by the
    haversine formula, in miles or kilometers."""

    name = "cityblock_distance"

    def transform_expr(self, inputs, context):
        lat1, lon1 = latitude(inputs[0]), longitude(inputs[0])
        lat2, lon2 = latitude(inputs[1]), longitude(inputs[1])
        radius = EARTH_RADIUS[self.unit]
        return (great_circle(lat1, lon1, lat1, lon2, radius)
                + great_circle(lat1, lon1, lat2, lon1, radius))


def _is_point(value) -> bool:
    return (isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value))


class IsInGeobox(TransformPrimitive):
    """Whether a pair lies in the box with corners ``point1`` and ``point2`` (edges included);
    missing for a missing pair (Featuretools says False)."""

    name = "is_in_geobox"
    input_types = ((LATLONG_IN,),)
    return_type = BOOLEAN_OUT

    @classmethod
    def default_params(cls):
        return {"point1": (0, 0), "point2": (0, 0)}

    def check_params(self) -> None:
        for point in ("point1", "point2"):
            if not _is_point(self.params[point]):
                self.refuse_param(point, "a (latitude, longitude) pair of numbers")
            self.params[point] = tuple(self.params[point])

    def transform_expr(self, inputs, context):
        lats = sorted((self.point1[0], self.point2[0]))
        lons = sorted((self.point1[1], self.point2[1]))
        lat, lon = latitude(inputs[0]), longitude(inputs[0])
        return lat.is_between(*lats) & lon.is_between(*lons)


class _PostalPrefix(TransformPrimitive):
    input_types = ((POSTAL_CODE_IN,),)
    return_type = CATEGORY_OUT
    digits = 0

    def transform_expr(self, inputs, context):
        return inputs[0].cast(pl.String).str.slice(0, self.digits)


class OneDigitPostalCode(_PostalPrefix):
    """The first character of a postal code."""

    name = "one_digit_postal_code"
    digits = 1


class TwoDigitPostalCode(_PostalPrefix):
    """The first two characters of a postal code."""

    name = "two_digit_postal_code"
    digits = 2


PLACE_PRIMITIVES: tuple[type[TransformPrimitive], ...] = (
    Latitude, Longitude, GeoMidpoint, CityblockDistance, IsInGeobox, OneDigitPostalCode,
    TwoDigitPostalCode,
)

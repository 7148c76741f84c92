"""Parts of structured strings under Featuretools' names: an e-mail address's domain (and
whether a free provider runs it), a URL's domain, protocol and top-level domain, a file's
extension, a person's title, first and last name. Each is a polars regular-expression
extraction; a value without the part is missing."""

from __future__ import annotations

import polars as pl
from featurekit.primitives.base import BOOLEAN_OUT, CATEGORY_OUT, ColumnSchema, TransformPrimitive
from featurekit.primitives.word_lists import COMMON_TLDS, FREE_EMAIL_DOMAINS

EMAIL_IN = ColumnSchema("email_address")
URL_IN = ColumnSchema("url")
FILEPATH_IN = ColumnSchema("filepath")
FULL_NAME_IN = ColumnSchema("person_full_name")

# optional http(s)://, optional user@, optional www., then the host up to a port, path or query
URL_HOST = r"^(?:https?://)?(?:[^@/\n]+@)?(?:www\.)?([^:/?\n]+)"
TITLE = r"([A-Z][a-z]+)\. "  # a capitalised word with a period: "Mr. ", "Dona. "
NAME = "[A-Z][a-z]+"
# Python's "$" also matches before a final newline; Rust's only at the end
END = r"\n?$"


def email_domain(address: pl.Expr) -> pl.Expr:
    """What follows the first '@' (up to a second one) of the stripped address."""
    return address.str.strip_chars().str.split("@").list.get(1, null_on_oob=True)


class _Part(TransformPrimitive):
    return_type = CATEGORY_OUT


class EmailAddressToDomain(_Part):
    """The domain of an e-mail address: what follows its '@'."""

    name = "email_address_to_domain"
    input_types = ((EMAIL_IN,),)

    def transform_expr(self, inputs, context):
        return email_domain(inputs[0])


class IsFreeEmailDomain(TransformPrimitive):
    """Whether an e-mail address's domain belongs to a free provider (gmail.com, ...); missing
    for an address without '@'."""

    name = "is_free_email_domain"
    input_types = ((EMAIL_IN,),)
    return_type = BOOLEAN_OUT

    def transform_expr(self, inputs, context):
        domain = email_domain(inputs[0])
        return pl.when(domain.is_not_null()).then(domain.is_in(sorted(FREE_EMAIL_DOMAINS)))


class URLToDomain(_Part):
    """The host of a URL, without protocol, user, 'www.', port or path."""

    name = "url_to_domain"
    input_types = ((URL_IN,),)

    def transform_expr(self, inputs, context):
        return inputs[0].str.extract(URL_HOST, 1)


class URLToProtocol(_Part):
    """'http' or 'https' when the URL starts with one of them and a colon."""

    name = "url_to_protocol"
    input_types = ((URL_IN,),)

    def transform_expr(self, inputs, context):
        return inputs[0].str.extract("^(https|http):", 1)


class URLToTLD(_Part):
    """The last of the host's endings that is a common top-level domain ('com', 'in', ...)."""

    name = "url_to_tld"
    input_types = ((URL_IN,),)

    def transform_expr(self, inputs, context):
        endings = inputs[0].str.extract(URL_HOST, 1).str.extract_all(
            r"\.(?:" + "|".join(COMMON_TLDS) + ")")
        return endings.list.last().str.slice(1)


class FileExtension(_Part):
    """A path's extension in lower case, dot included ('.txt'): letters after its last dot."""

    name = "file_extension"
    input_types = ((FILEPATH_IN,),)
    return_type = ColumnSchema(None, frozenset({"category"}))  # a category of no named type

    def transform_expr(self, inputs, context):
        return inputs[0].str.extract(rf"(\.[a-z|A-Z]+){END}", 1).str.to_lowercase()


def _tidy(name: pl.Expr) -> pl.Expr:
    """Commas removed, whitespace stripped."""
    return name.str.replace_all(",", "", literal=True).str.strip_chars()


class FullNameToTitle(_Part):
    """A name's title: the first capitalised word followed by a period and a space ('Mr')."""

    name = "full_name_to_title"
    input_types = ((FULL_NAME_IN,),)

    def transform_expr(self, inputs, context):
        return inputs[0].str.extract(TITLE, 1)


class FullNameToFirstName(_Part):
    """A name's first name: titles dropped, the first capitalised word followed by a space,
    else the word after a comma ("Last, First"), else a lone word; missing for a title and
    one word."""

    name = "full_name_to_first_name"
    input_types = ((FULL_NAME_IN,),)

    def transform_expr(self, inputs, context):
        names = inputs[0].str.replace_all(rf"^{NAME}\. {NAME}{END}", "").str.replace_all(TITLE, "")
        return _tidy(names.str.extract(rf"({NAME} |, {NAME}{END}|^{NAME}{END})", 1))


class FullNameToLastName(_Part):
    """A name's last name: what precedes a comma, else the last capitalised word (or two
    joined by '-' or '/'), else the word after a title; missing for a lone word."""

    name = "full_name_to_last_name"
    input_types = ((FULL_NAME_IN,),)

    def transform_expr(self, inputs, context):
        pattern = rf"(^.+?,|^{NAME}\. {NAME}{END}| {NAME}{END}| {NAME}[/-]{NAME}{END})"
        return _tidy(inputs[0].str.extract(pattern, 1).str.replace_all(TITLE, ""))


PART_PRIMITIVES: tuple[type[TransformPrimitive], ...] = (
    EmailAddressToDomain, IsFreeEmailDomain, URLToDomain, URLToProtocol, URLToTLD, FileExtension,
    FullNameToFirstName, FullNameToLastName, FullNameToTitle,
)

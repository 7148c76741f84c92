"""Text statistics under Featuretools' names: counts of strings, words, capitals, hashtags,
quoted words, separators; word lengths. Each is one polars string expression over the column
(the regular-expression engine is Rust's, so patterns that Python wrote with look-arounds are
rewritten here to match the same text). A missing text gives a missing value."""

from __future__ import annotations

import string

import polars as pl
from featurekit.primitives.base import (
    DOUBLE_OUT,
    INTEGER_OUT,
    TEXT_IN,
    TransformPrimitive,
)
from featurekit.primitives.word_lists import COMMON_WORDS

# Python's ``string.punctuation`` (the 32 ASCII punctuation marks) as a character class.
PUNCTUATION = string.punctuation
PUNCT_CLASS = r"!-/:-@\[-`{-~"
# Python's whitespace (str.isspace) is Rust's \s plus the four separators \x1c-\x1f.
SPACE_CLASS = r"\s\x1c-\x1f"
WORD_DELIMITERS = "[ \n\t]"  # what separates words for most text primitives
WORD = r"[^ \n\t]+"
# A word with something besides punctuation: whole words only, since the run around the
# required character is greedy and cannot cross a delimiter.
WORD_WITH_CONTENT = rf"[^ \n\t]*[^ \n\t{PUNCT_CLASS}][^ \n\t]*"
_SPLIT_MARK = "\x00"  # a regex delimiter is replaced by this, then split on it
_REGEX_META = set("\\.+*?()|[]{}^$#&-~")


def escape(text: str) -> str:
    """``text`` as a regular expression matching itself (Rust's meta characters escaped)."""
    return "".join("\\" + ch if ch in _REGEX_META else ch for ch in text)


def check_regex(primitive: TransformPrimitive, name: str) -> None:
    """Refuse a pattern that the regular-expression engine cannot compile, at planning."""
    pattern = primitive.params[name]
    if not isinstance(pattern, str):
        primitive.refuse_param(name, "a string")
    try:
        pl.select(pl.lit("").str.count_matches(pattern))
    except pl.exceptions.PolarsError as error:
        primitive.refuse_param(name, f"a regular expression without look-arounds or "
                               f"back-references (Rust's syntax): {str(error).splitlines()[0]}")


def check_flag(primitive: TransformPrimitive, name: str) -> None:
    if not isinstance(primitive.params[name], bool):
        primitive.refuse_param(name, "True or False")


def split_words(text: pl.Expr, delimiters: str) -> pl.Expr:
    """The pieces between delimiters, empty ones included (pandas' ``str.split``: a pattern of
    one character is literal, a longer one a regular expression)."""
    if len(delimiters) == 1:
        return text.str.split(delimiters)
    return text.str.replace_all(delimiters, _SPLIT_MARK).str.split(_SPLIT_MARK)


class _TextCount(TransformPrimitive):
    input_types = ((TEXT_IN,),)
    return_type = INTEGER_OUT

    def transform_expr(self, inputs, context):
        return self.count(inputs[0]).cast(pl.Int64)

    def count(self, text: pl.Expr) -> pl.Expr:
        raise NotImplementedError


class CountString(_TextCount):
    """How often ``string`` occurs in a text (non-overlapping), optionally ignoring case and
    non-alphanumeric characters, as a regular expression or as whole words only."""

    name = "count_string"

    @classmethod
    def default_params(cls):
        return {"string": "the", "ignore_case": True, "ignore_non_alphanumeric": False,
                "is_regex": False, "match_whole_words_only": False}

    def check_params(self) -> None:
        for flag in ("ignore_case", "ignore_non_alphanumeric", "is_regex",
                     "match_whole_words_only"):
            check_flag(self, flag)
        if not isinstance(self.string, str):
            self.refuse_param("string", "a string")
        if self.is_regex:
            check_regex(self, "string")

    def _prepare(self, text):
        """The text as it is searched (the literal string goes through the same steps)."""
        if self.ignore_non_alphanumeric:
            text = text.str.replace_all("[^0-9a-zA-Z ]+", "")
        return text.str.to_lowercase() if self.ignore_case else text

    def pattern(self) -> str:
        if self.is_regex:
            # case is ignored by the flag, not by lower-casing the pattern (which would turn
            # \W into \w): see README, "Choices we made"
            pattern = self.string
        else:
            literal = pl.select(self._prepare(pl.lit(self.string, pl.String))).item()
            pattern = escape(literal)
        if self.match_whole_words_only:
            pattern = rf"\b{pattern}\b"
        return f"(?i){pattern}" if self.is_regex and self.ignore_case else pattern

    def count(self, text):
        return self._prepare(text).str.count_matches(self.pattern())


class WhitespaceCount(_TextCount):
    """Number of spaces in a text."""

    name = "whitespace_count"

    def count(self, text):
        return text.str.count_matches(" ", literal=True)


class PunctuationCount(_TextCount):
    """Number of ASCII punctuation marks (``string.punctuation``) in a text."""

    name = "punctuation_count"

    def count(self, text):
        return text.str.count_matches(f"[{PUNCT_CLASS}]")


class UpperCaseCount(_TextCount):
    """Number of capital letters A-Z in a text."""

    name = "upper_case_count"

    def count(self, text):
        return text.str.count_matches("[A-Z]")


class TitleWordCount(_TextCount):
    """Number of runs that start with a capital A-Z and go on to the next whitespace."""

    name = "title_word_count"

    def count(self, text):
        return text.str.count_matches(f"[A-Z][^{SPACE_CLASS}]*")


def _doubled_spaces(text: pl.Expr) -> pl.Expr:
    """Every whitespace character doubled: a match may then consume the space after a tag
    and still leave one for the next tag to start after (what a look-ahead would do)."""
    return text.str.replace_all(f"([{SPACE_CLASS}])", "${1}${1}")


class NumberOfHashtags(_TextCount):
    """Number of hashtags: '#' at the start or after whitespace, then word characters with at
    least one that is not a digit, ended by the text's end or a character other than '#'."""

    name = "number_of_hashtags"

    def count(self, text):
        pattern = rf"(?:^|[{SPACE_CLASS}])#\w*[^\W\d]\w*(?:[^#\w]|$)"
        return _doubled_spaces(text).str.count_matches(pattern)


class NumberOfMentions(_TextCount):
    """Number of mentions: '@' at the start or after whitespace, then word characters, ended
    by whitespace, the text's end or a punctuation mark other than '@'."""

    name = "number_of_mentions"

    def count(self, text):
        ends = escape(PUNCTUATION.replace("@", ""))
        pattern = rf"(?:^|[{SPACE_CLASS}])@\w+(?:[{SPACE_CLASS}]|$|[{ends}])"
        return _doubled_spaces(text).str.count_matches(pattern)


# Quotes followed by a word character cannot close a quotation; they are marked with these
# private-use characters before matching, and restored after.
_QUOTE_MARKS = {"'": "\ue001", '"': "\ue002"}


class NumberOfWordsInQuotes(_TextCount):
    """Number of words inside quotations: an opening quote at the start or after a non-word
    character, up to the first same quote not followed by a word character."""

    name = "number_of_words_in_quotes"

    @classmethod
    def default_params(cls):
        return {"quote_type": "both"}

    def check_params(self) -> None:
        if self.quote_type not in ("both", "single", "double"):
            self.refuse_param("quote_type", "'both', 'single' or 'double'")

    def count(self, text):
        quotes = {"single": "'", "double": '"'}.get(self.quote_type, "'\"")
        for quote in quotes:
            text = text.str.replace_all(f"{quote}(\\w)", f"{_QUOTE_MARKS[quote]}${{1}}")
        pattern = "(?s)" + "|".join(
            rf"(?:^|\W)[{escape(q)}{_QUOTE_MARKS[q]}][^{escape(q)}]*{escape(q)}" for q in quotes)
        phrases = text.str.extract_all(pattern).list.join(" ")
        for quote in quotes:
            phrases = phrases.str.replace_all(_QUOTE_MARKS[quote], quote, literal=True)
        return phrases.str.count_matches(WORD_WITH_CONTENT)


class UpperCaseWordCount(_TextCount):
    """Number of words (between spaces, tabs and newlines, not only punctuation) that upper
    case leaves unchanged."""

    name = "upper_case_word_count"

    def count(self, text):
        word = pl.element()
        upper = ((word.str.strip_chars(PUNCTUATION).str.len_chars() > 0)
                 & (word.str.to_uppercase() == word))
        return text.str.extract_all(WORD).list.eval(upper).list.sum()


class NumberOfUniqueWords(_TextCount):
    """Number of distinct words, punctuation stripped from their ends; ``case_insensitive``
    counts "Word" and "word" once."""

    name = "number_of_unique_words"

    @classmethod
    def default_params(cls):
        return {"case_insensitive": False}

    def check_params(self) -> None:
        check_flag(self, "case_insensitive")

    def count(self, text):
        if self.case_insensitive:
            text = text.str.to_lowercase()
        words = text.str.extract_all(WORD).list.eval(pl.element().str.strip_chars(PUNCTUATION))
        return words.list.eval(pl.element().filter(pl.element() != "")).list.n_unique()


class NumberOfCommonWords(_TextCount):
    """Number of words (any case, punctuation stripped from their ends) found in ``word_set``,
    by default the 1,000 most common English words."""

    name = "number_of_common_words"

    @classmethod
    def default_params(cls):
        return {"word_set": tuple(sorted(COMMON_WORDS)), "delimiters_regex": WORD_DELIMITERS}

    def check_params(self) -> None:
        words = self.params["word_set"]
        if isinstance(words, str) or not all(isinstance(w, str) for w in words):
            self.refuse_param("word_set", "a set of lower-case strings")
        # held sorted and as a tuple: hashable, and a features file can save it as a list
        self.params["word_set"] = tuple(sorted(set(words)))
        check_regex(self, "delimiters_regex")

    def args_string(self) -> str:  # a set reads as Featuretools writes it: {'a', 'the'}
        defaults, parts = self.default_params(), []
        for key in ("word_set", "delimiters_regex"):
            value = self.params[key]
            if value == defaults[key]:
                continue
            if key == "word_set":
                value = "{" + ", ".join(map(repr, sorted(value))) + "}" if value else "set()"
            parts.append(f", {key}={value}")
        return "".join(parts)

    def count(self, text):
        found = pl.element().str.to_lowercase().str.strip_chars(PUNCTUATION).is_in(
            list(self.word_set))
        return split_words(text, self.delimiters_regex).list.eval(found).list.sum()


class NumUniqueSeparators(_TextCount):
    """Number of distinct ``separators`` (single characters) the text contains."""

    name = "num_unique_separators"

    @classmethod
    def default_params(cls):
        return {"separators": (" ", ".", ",", "!", "?", ";", "\n")}

    def check_params(self) -> None:
        separators = self.params["separators"]
        if isinstance(separators, str) or not all(isinstance(s, str) for s in separators):
            self.refuse_param("separators", "a list of one-character strings")
        self.params["separators"] = tuple(separators)

    def args_string(self) -> str:  # lists read as Featuretools writes them: [' ', '.']
        if self.separators == self.default_params()["separators"]:
            return ""
        return f", separators={list(self.separators)}"

    def count(self, text):
        # a longer "separator" is never one character of the text: it never counts
        singles = sorted({s for s in self.separators if len(s) == 1})
        present = [text.str.contains(s, literal=True).cast(pl.Int64) for s in singles]
        counted = pl.sum_horizontal(present) if present else pl.lit(0, pl.Int64)
        return pl.when(text.is_not_null()).then(counted)


class TotalWordLength(_TextCount):
    """Number of characters that are not matched by ``do_not_count`` (by default ASCII
    punctuation other than the backslash, spaces, tabs and newlines, as in Featuretools)."""

    name = "total_word_length"
    DEFAULT = "[" + PUNCTUATION + "\n\t ]"  # Featuretools' spelling (Python's syntax)

    @classmethod
    def default_params(cls):
        return {"do_not_count": cls.DEFAULT}

    def check_params(self) -> None:
        if self.do_not_count != self.DEFAULT:
            check_regex(self, "do_not_count")

    def count(self, text):
        # Python reads the default's "[\]" as "[" and "]" : the backslash is not in the set
        pattern = (r"[!-/:-@\[\]-`{-~\n\t ]" if self.do_not_count == self.DEFAULT
                   else self.do_not_count)
        return text.str.len_chars() - text.str.count_matches(pattern)


class _WordLengthStatistic(TransformPrimitive):
    input_types = ((TEXT_IN,),)
    return_type = DOUBLE_OUT


class MedianWordLength(_WordLengthStatistic):
    """Median number of characters of the words between ``delimiters_regex`` matches; missing
    for a text without words."""

    name = "median_word_length"

    @classmethod
    def default_params(cls):
        return {"delimiters_regex": WORD_DELIMITERS}

    def check_params(self) -> None:
        check_regex(self, "delimiters_regex")

    def transform_expr(self, inputs, context):
        lengths = split_words(inputs[0], self.delimiters_regex).list.eval(
            pl.element().str.len_chars().filter(pl.element().str.len_chars() > 0))
        return lengths.list.median().cast(pl.Float64)


class MeanCharactersPerWord(_WordLengthStatistic):
    """Mean number of characters of the whitespace-separated words, sentence punctuation
    (!,.:;?) at a word's end not counted; 0 for a text without words."""

    name = "mean_characters_per_word"

    def transform_expr(self, inputs, context):
        text = inputs[0].str.replace_all(r"[!,.:;?]+(?:$| |\n)", " ")
        lengths = text.str.extract_all(f"[^{SPACE_CLASS}]+").list.eval(
            pl.element().str.len_chars())
        mean = lengths.list.mean().cast(pl.Float64)
        return pl.when(lengths.list.len() == 0).then(0.0).otherwise(mean)


TEXT_PRIMITIVES: tuple[type[TransformPrimitive], ...] = (
    CountString, MeanCharactersPerWord, MedianWordLength, NumUniqueSeparators, NumberOfCommonWords,
    NumberOfHashtags, NumberOfMentions, NumberOfUniqueWords, NumberOfWordsInQuotes,
    PunctuationCount, TitleWordCount, TotalWordLength, UpperCaseCount, UpperCaseWordCount,
    WhitespaceCount,
)

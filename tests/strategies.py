"""Generated bad input for the property tests: whatever a careless, confused or
hostile visitor can put in a form field or a query string."""

import os
import re
from urllib.parse import quote_from_bytes

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# 500 generated inputs per property in CI (CI=true), 100 on a developer's machine
# (PROPERTY_EXAMPLES chooses). Examples share the test's database transaction
# (the function-scoped fixtures run once per test), so each property resets what
# it changed itself.
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", 500 if IN_CI else 100)),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

FRAGMENTS = [
    "\x00",
    "\x07",
    "\x1b[31m",
    "\r\n",
    "\t",
    "\u202e",  # right-to-left override
    "\u200f",  # right-to-left mark
    "\u200b",  # zero-width space
    "\ufeff",
    "\ufffd",
    "１３９１２３４５６７８",  # full-width digits
    "２０４１ ７７３６",
    "٠١٢٣٤٥٦٧٨٩",  # Arabic-Indic digits
    "😀",
    "👨‍👩‍👧",
    "𠀀",
    "心理",
    "咨询室",
    "金家岭",
    "' OR '1'='1",
    "'; DROP TABLE counseling_booking; --",
    '" NEAR/2 "',
    "AND",
    "OR NOT",
    "*",
    "^",
    "(",
    ")",
    ":",
    "-",
    "%",
    "%00",
    "%s%n",
    "{0}",
    "{{ request }}",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "&amp;&#0;",
    "../../etc/passwd",
    "//evil.example/",
    "javascript:alert(1)",
    "+86",
    "13912345678",
    "2026-09-15T10:00:00+08:00",
    "9999-12-31",
    "0001-01-01",
    "-1",
    "0",
    "1e400",
    "NaN",
    "99999999999999999999999999999",
]

fragment_text = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=8).map("".join)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
).map(str)
huge_text = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["心", "a", "1", "\x00", "😀", "<b>", "%"]),
    st.integers(min_value=1_000, max_value=20_000),
)

# Arbitrary Unicode (control characters and NULs included), mixes of the
# fragments above, numbers out of any range, and very long strings.
nasty_text = st.one_of(st.text(), fragment_text, numbers, huge_text)


def param_values(valid=()):
    """A query or form value: missing (None), one value, or the key repeated."""
    value = nasty_text | st.sampled_from(valid) if valid else nasty_text
    return st.one_of(st.none(), value, st.lists(value, min_size=2, max_size=4))


def query_data(keys, valid=()):
    """A query dict over `keys`, each missing, single or repeated."""
    return st.fixed_dictionaries({key: param_values(valid) for key in keys}).map(
        lambda data: {key: value for key, value in data.items() if value is not None}
    )


raw_query_strings = st.binary(max_size=200).map(lambda raw: quote_from_bytes(raw, safe="=&;"))
"""Raw query strings: invalid UTF-8, stray separators and repeated keys."""

CJK = re.compile(r"[\u4e00-\u9fff]")


def has_chinese(text):
    return bool(CJK.search(text))

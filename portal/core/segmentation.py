"""Chinese word segmentation for the search index and for queries.

Wagtail's database backends treat a run of Han characters as a single token, so
心理 would never match 心理咨询室. Indexed text is segmented with jieba's search
mode (which also emits the shorter words inside long ones) and queries are cut
into their finest words, so both sides meet on the same tokens.
"""

import logging
import re
from functools import cache

import jieba

# Words of this place and its services that jieba's dictionary splits badly.
LOCAL_WORDS = ("金家岭", "扫黑除恶", "心理咨询室", "网格员", "管区", "崂山区")
_WORD = re.compile(r"\w", re.UNICODE)


@cache
def _tokenizer():
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for word in LOCAL_WORDS:
        tokenizer.add_word(word)
    return tokenizer


def load_dictionary():
    """Load jieba's dictionary now: it takes about half a second, which the
    first search in each process would otherwise wait for."""
    _tokenizer()


def _words(text, mode):
    tokenizer = _tokenizer()
    cut = tokenizer.cut_for_search if mode == "search" else tokenizer.cut
    return [word.strip().lower() for word in cut(text or "") if _WORD.search(word)]


def segment_for_index(*texts):
    """Space-joined search-mode tokens of the given texts, for a SearchField."""
    return " ".join(word for text in texts for word in _words(text, "search"))


def segment_query(query):
    """The finest words of a query: a word that contains another is dropped.

    jieba's search mode emits 心理, 咨询 and 心理咨询 for 心理咨询; keeping only the
    parts lets the query match 心理咨询室, whose index holds 心理 and 咨询.
    """
    words = list(dict.fromkeys(_words(query, "search")))
    return " ".join(
        word for word in words if not any(other != word and other in word for other in words)
    )

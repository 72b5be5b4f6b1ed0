"""Entity search: find an entity by what its platform's documentation calls it.

Users paste or type titles from the API reference ("Users - Get one user", "See a Person's
Activities", "AddressFormats - Get AddressFormat by id"), half-typed words ("tic"), small
typos ("adress") and words the catalog does not use ("by"). A word-exact filter finds none
of those, so every entity is scored instead:

- Name, group, path and method are cut into words once per catalog: lower case, apostrophes
  dropped ("person's" -> "persons"), other punctuation and camelCase split ("addressFormats"
  -> "addressformats", "address", "formats").
- Each word of the query is compared with the catalog's vocabulary by RapidFuzz: a word that
  starts with the query word scores 90-100 (typing in progress), otherwise the normalised
  Indel similarity when it is close enough (one typo in a short word, two in a long one).
- An entity scores the sum, over the query's words, of its best match weighted by where the
  match is (name over group over path over method), plus a little when the word also names
  its group; plural and singular forms match each other. It is shown when at least 60 % of the
  query's meaningful words match it, so extra words do not hide it.
- A deprecated entity (Pipedrive v1) that matches lends its score to its replacement, so a
  title from the old documentation finds the entity to use today.

Ties keep catalog order. The vocabulary and an inverted index are built once per catalog,
so a query touches only the entities that share a word with it.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

if TYPE_CHECKING:
    from .platforms.base import Entity

# Where a word was found, and how much a match there counts.
NAME, GROUP, PATH, METHOD = 1.0, 0.85, 0.7, 0.6
PADDING = 0.5  # the rest of a generated name: a description, a "(GET /path)" suffix
NAME_LIKENESS = 0.6  # weight of the whole query's likeness to the whole name
GROUP_BONUS = 0.2  # added when a query word also matches the entity's group
CAMEL_PART = 0.9  # a part of a camelCase word, relative to a whole word
# Words that say nothing about which entity is meant.
STOPWORDS = frozenset({"a", "an", "the", "of", "for", "to", "by", "in", "on", "with", "and", "or", "from"})
# Share of the query's words an entity must match to be shown at all.
MIN_MATCHED_SHARE = 0.6

_APOSTROPHES = re.compile(r"['’`]")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")
_DESCRIPTION = re.compile(r"\s{3,}")
_PATH_SUFFIX = re.compile(r"\s*\((?:GET|POST|PUT|PATCH|DELETE) /[^)]*\)")
_DOTTED = re.compile(r"\b\w+(?:\.\w+){2,}")


def words(text: str) -> list[str]:
    """Lower-case words of `text`, apostrophes dropped and punctuation treated as space."""
    return [w for w in _NON_WORD.split(_APOSTROPHES.sub("", text).lower()) if w]


def _entity_words(text: str) -> dict[str, float]:
    """Words of a name or path with their weight; camelCase parts count a little less.

    "addressFormats" gives "addressformats" (1.0), "address" and "formats" (0.9), so that
    "ticket" finds "Tickets" before "TicketInfos".
    """
    found: dict[str, float] = {}
    for chunk in _NON_WORD.split(_APOSTROPHES.sub("", text)):
        parts = _CAMEL.split(chunk)
        if len(parts) > 1:
            for part in parts:
                if part:
                    found.setdefault(part.lower(), CAMEL_PART)
    found.update(dict.fromkeys(words(text), 1.0))
    for w, weight in list(found.items()):
        found.setdefault(singular(w), weight)
    return found


def short_name(name: str) -> str:
    """A name as a person would say it, for comparing it with the whole query.

    Generated references pad names: ConnectWise's carry a description after a run of spaces,
    a "(GET /path)" suffix and dotted type names ("ConnectWise.Apis.v3_0.v2015_3.Company.Company"
    is a "Company"). The padding is still searched (see PADDING); it only stops a long
    name from looking unlike its own title, and counts less than the name proper.
    """
    name = _DESCRIPTION.split(name, 1)[0]
    name = _PATH_SUFFIX.sub("", name)
    return _DOTTED.sub(lambda m: m.group(0).rsplit(".", 1)[-1], name)


def singular(word: str) -> str:
    """A plain English singular, enough to let "company" find "Companies" and back."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _close_enough(query_word: str) -> float:
    """The least similarity (0-100) that counts as the same word, allowing for typos."""
    if len(query_word) <= 3:
        return 101.0  # short words: only exact or prefix matches
    if len(query_word) <= 5:
        return 85.0
    return 80.0


class EntityIndex:
    """The words of a catalog's entities, and which entities carry each word where."""

    def __init__(self, entities: Sequence[Entity]):
        self.entities = list(entities)
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        in_group: dict[str, dict[int, float]] = defaultdict(dict)
        for i, e in enumerate(self.entities):
            # Later fields win a tie: the name proper over its padding.
            fields = ((PADDING, e.name), (METHOD, e.method), (PATH, e.path), (GROUP, e.group),
                      (NAME, short_name(e.name)))
            for weight, text in fields:
                for w, part in _entity_words(text).items():
                    if postings[w].get(i, 0.0) < weight * part:
                        postings[w][i] = weight * part
                    if weight == GROUP:
                        in_group[w][i] = part
        self.vocabulary = list(postings)
        self.postings = [postings[w] for w in self.vocabulary]
        self.in_group = [in_group.get(w, {}) for w in self.vocabulary]
        self.names = [" ".join(words(short_name(e.name))) for e in self.entities]
        self.replacement_of: dict[int, int] = {}
        by_key = {e.key: i for i, e in enumerate(self.entities)}
        for i, e in enumerate(self.entities):
            if e.deprecated and e.replacement in by_key:
                self.replacement_of[i] = by_key[e.replacement]

    def _word_matches(self, query_word: str) -> list[tuple[int, float]]:
        """(vocabulary index, similarity 0-1) of the catalog's words that match `query_word`."""
        # A completion of the word being typed counts nearly as much as the word itself; the
        # shorter the completion, the closer ("tic" finds "tickets" before "ticketinfos").
        found = {i: 0.9 + 0.1 * len(query_word) / len(w)
                 for i, w in enumerate(self.vocabulary) if w.startswith(query_word)}
        for form in dict.fromkeys((query_word, singular(query_word))):
            cutoff = _close_enough(form)
            if form != query_word:
                cutoff = min(cutoff, 100.0)  # "companies" finds "company" exactly
            if cutoff <= 100:
                for _, score, i in process.extract(form, self.vocabulary, scorer=fuzz.ratio,
                                                   score_cutoff=cutoff, limit=None):
                    found[i] = max(found.get(i, 0.0), score / 100)
        return list(found.items())

    def rank(self, text: str, allowed: Iterable[bool], *, include_deprecated: bool) -> list[Entity]:
        """Entities matching `text`, best first; `allowed[i]` says whether entity i may be shown."""
        allowed = list(allowed)
        query = [w for w in dict.fromkeys(words(text)) if w not in STOPWORDS] or list(dict.fromkeys(words(text)))
        if not query:
            return [e for e, ok in zip(self.entities, allowed, strict=True) if ok]
        scores: dict[int, float] = defaultdict(float)
        matched: dict[int, int] = defaultdict(int)
        for query_word in query:
            best: dict[int, float] = {}
            group: dict[int, float] = {}
            for vocab_index, similarity in self._word_matches(query_word):
                for i, weight in self.postings[vocab_index].items():
                    value = similarity * weight
                    if value > best.get(i, 0.0):
                        best[i] = value
                for i, part in self.in_group[vocab_index].items():
                    group[i] = max(group.get(i, 0.0), similarity * part)
            for i, value in best.items():
                # A word found in the name that also names the group ("company" in Companies)
                # is a stronger hint than the same word in a neighbour's name.
                scores[i] += value + GROUP_BONUS * group.get(i, 0.0)
                matched[i] += 1
        needed = max(1, math.ceil(len(query) * MIN_MATCHED_SHARE))
        phrase = " ".join(words(text))
        results: dict[int, float] = {}
        for i, score in scores.items():
            if matched[i] < needed or not (allowed[i] or self.entities[i].deprecated):
                continue
            name = self.names[i]
            # The text as typed at the start of a name, or inside it, beats scattered words;
            # a name that says little beyond the query beats one that says much more.
            at = f" {name}".find(f" {phrase}")
            score += 0.5 if at == 0 else 0.25 if at > 0 else 0.0
            score += NAME_LIKENESS * fuzz.token_sort_ratio(phrase, name) / 100
            target = i
            if self.entities[i].deprecated and not include_deprecated:
                target = self.replacement_of.get(i, -1)
                score *= 0.95  # the entity itself, when it matches as well, comes first
                if target < 0:
                    continue
            if allowed[target] and score > results.get(target, -1.0):
                results[target] = score
        return [self.entities[i] for i in sorted(results, key=lambda i: (-results[i], i))]

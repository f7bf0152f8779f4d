"""The multiple-choice grader: find the one letter an answer commits to; a hedge between letters fails.

Extraction rules (docs/suites.md repeats them), over the valid letters only (A.. for the sample's
choices, or the grader's `letters` when the sample has none):
1. the whole answer is one letter, possibly wrapped: "B", "b", "(B)", "B)", "B.", "**B**";
2. else the letter after the last answer phrase ("Answer: B", "The correct answer is (B)", "option B");
   another letter joined to it by "or", "and", "/" or "," makes it ambiguous ("the answer is A or B");
3. else the answer opens with a labelled letter: "B) Paris", "B. Paris", "(B) Paris";
4. else the capital letters standing alone anywhere in the text, skipping a letter right after "not"
   ("not A, it's B" -> B), the article "A" before a lower-case word ("A good choice is B" -> B) and
   the pronoun "I"; exactly one distinct letter is the answer, two or more ("A or B", "A and B") fail;
5. else an answer equal to one choice's text (case-insensitive) picks that choice.
A letter inside a word ("Because") never counts.
"""

from __future__ import annotations

import re
import string
from typing import TYPE_CHECKING, Any

from monitor.evals.graders.base import Grade, Options, SyncGrader

if TYPE_CHECKING:
    from monitor.evals.spec import SampleSpec

_MARKUP = str.maketrans("", "", "*_`")
_ALONE = re.compile(r"^[\(\[]?([A-Za-z])[\)\]]?[.:!]?$")
_PHRASE_LETTER = re.compile(
    r"\b(?:answer|choice|option)\b(?:\s+(?:is|would\s+be|will\s+be|should\s+be))?\s*[:=\-]?\s*"
    r"[\(\[]?([A-Z])(?![A-Za-z'’])[\)\]]?",
    re.IGNORECASE,
)
_HEDGED_AFTER = re.compile(
    r"\s*(?:or|and|/|,|&)\s*(?:maybe\s+|possibly\s+|perhaps\s+)?[\(\[]?([A-Z])(?![A-Za-z'’])"
)
_LEADING = re.compile(r"^[\(\[]?([A-Z])(?:[\)\]]|[\)\]]?[.:])(?:\s|$)")
_STANDALONE = re.compile(r"(?<![A-Za-z'’])([A-Z])(?![A-Za-z'’])")
_NOT_BEFORE = re.compile(r"\bnot\s*[\(\[]?$", re.IGNORECASE)
_WORD_AFTER = re.compile(r"\s+([a-z]+)")
_LOWER_LETTER_END = {"", ".", ")", "]", ",", "!", ";"}
_CONNECTIVES = {"or", "and", "nor", "vs", "versus"}


def _valid_letter(letter: str, letters: str) -> str | None:
    upper = letter.upper()
    return upper if upper in letters else None


def extract_letter(output: str, letters: str) -> tuple[str | None, str]:
    """The letter `output` commits to among `letters`, or None with the reason."""
    text = output.translate(_MARKUP).strip()
    alone = _ALONE.match(text)
    if alone:
        letter = _valid_letter(alone.group(1), letters)
        return (
            (letter, "the answer is one letter") if letter else (None, f"{alone.group(1)!r} is not a choice")
        )
    for phrase in reversed(list(_PHRASE_LETTER.finditer(text))):
        letter = phrase.group(1)
        if letter.islower():
            if text[phrase.end(1) : phrase.end(1) + 1] not in _LOWER_LETTER_END:
                continue
            letter = letter.upper()
        if letter not in letters:
            continue
        hedge = _HEDGED_AFTER.match(text, phrase.end())
        if hedge and hedge.group(1) in letters and hedge.group(1) != letter:
            return None, f"ambiguous answer: {text[phrase.start(1) : hedge.end()]!r}"
        return letter, "the letter after the answer phrase"
    leading = _LEADING.match(text)
    if leading and leading.group(1) in letters:
        return leading.group(1), "the answer opens with the letter"
    found: list[str] = []
    for match in _STANDALONE.finditer(text):
        letter = match.group(1)
        if letter not in letters or _NOT_BEFORE.search(text, 0, match.start()):
            continue
        if letter in "AI":
            word = _WORD_AFTER.match(text, match.end())
            if word and word.group(1) not in _CONNECTIVES:
                continue
        if letter not in found:
            found.append(letter)
    if len(found) == 1:
        return found[0], "the only letter named"
    if len(found) > 1:
        return None, "ambiguous answer: names " + " and ".join(found)
    return None, "no choice letter in the answer"


class ChoiceGrader(SyncGrader):
    """The chosen letter equals the target (a letter, or the text of one of the choices)."""

    type = "choice"
    needs_target = True

    def __init__(self, name: str, weight: float, opts: Options) -> None:
        letters = opts.string("letters", "ABCD") or ""
        if (
            not letters
            or not all(c in string.ascii_uppercase for c in letters)
            or len(set(letters)) != len(letters)
        ):
            raise opts.error("letters", f"expected distinct capital letters such as 'ABCD', got {letters!r}")
        self.letters = letters
        super().__init__(name, weight, {"letters": letters})

    def _letters_for(self, sample: SampleSpec) -> str:
        if sample.choices:
            return string.ascii_uppercase[: len(sample.choices)]
        return self.letters

    def target_letter(self, sample: SampleSpec) -> str | None:
        """The correct letter: the target itself, or the letter of the choice whose text it is."""
        target: Any = sample.target
        if isinstance(target, list) and len(target) == 1:
            target = target[0]
        if not isinstance(target, str):
            return None
        letters = self._letters_for(sample)
        stripped = target.strip()
        if len(stripped) == 1 and stripped.upper() in letters:
            return stripped.upper()
        for index, choice in enumerate(sample.choices or []):
            if choice.strip().casefold() == stripped.casefold():
                return letters[index]
        return None

    def check_sample(self, sample: SampleSpec) -> str | None:
        problem = super().check_sample(sample)
        if problem is None and sample.choices and len(sample.choices) > len(string.ascii_uppercase):
            problem = f"the choice grader supports at most 26 choices, the sample has {len(sample.choices)}"
        if problem is None and self.target_letter(sample) is None:
            valid = self._letters_for(sample)
            problem = f"the choice grader needs a letter in {valid} or a choice's text, got {sample.target!r}"
        return problem

    def grade(self, output: str, sample: SampleSpec) -> Grade:
        expected = self.target_letter(sample)
        letters = self._letters_for(sample)
        letter, how = extract_letter(output, letters)
        if letter is None and sample.choices:
            answer = output.translate(_MARKUP).strip().rstrip(".").casefold()
            for index, choice in enumerate(sample.choices):
                if choice.strip().rstrip(".").casefold() == answer:
                    letter, how = letters[index], "the answer is a choice's text"
        if letter is None:
            return Grade(self.name, 0.0, False, how)
        ok = letter == expected
        detail = f"chose {letter} ({how})" + ("" if ok else f", expected {expected}")
        return Grade(self.name, 1.0 if ok else 0.0, ok, detail)

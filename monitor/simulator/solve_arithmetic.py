"""Solve grade-school word problems from their text: numbers, cue words, one clause at a time."""

from __future__ import annotations

import math
import re

from monitor.simulator.prompt import Prompt

NUMBER = re.compile(r"\$?(\d+(?:,\d{3})*(?:\.\d+)?)\s*(%|percent\b)?")
CLAUSE_SPLIT = re.compile(r"[.?!;]\s+|[.?!;]$|,\s*(?:then\s+)?|\s+and\s+(?:then\s+)?|\s+then\s+")
QUESTION = re.compile(
    r"\b(how (many|much|far|old|long|tall)|what is the (total|sale|final|new|cost|price|area|perimeter))\b",
    re.I,
)

PLUS = re.compile(
    r"\b(buys?|bought|more|gets? on|got on|finds?|found|receives?|received|wins?|won|adds?|added|earns?|"
    r"earned|picks?|picked|collects?|collected|gains?|gained|bakes?|baked|another|arrive|arrives|join|joins|"
    r"rises?|rose|plants?|planted)\b",
    re.I,
)
MINUS = re.compile(
    r"\b(gives?|gave|eats?|ate|sells?|sold|loses?|lost|gets? off|got off|uses?|used|spends?|spent|breaks?|"
    r"broke|donates?|donated|removes?|removed|takes? away|took away|leave|leaves|left with|fewer|less|"
    r"falls?|fell|drops?|dropped)\b",
    re.I,
)
DIVIDE = re.compile(
    r"\b(equally|among|between|split|shares?|shared|equal (pieces|parts|groups|shares)|"
    r"(bags|boxes|groups|packs|rows|teams|cartons|crates) of)\b",
    re.I,
)
RATE = re.compile(r"\b(each|per|every|an hour|a day|a week)\b", re.I)
MULTIPLIERS = {"twice": 2.0, "double": 2.0, "doubles": 2.0, "triple": 3.0, "triples": 3.0, "half": 0.5}
TIMES = re.compile(r"\b(\d+) times as (many|much|old|long|far)\b", re.I)
WORD_MULTIPLIER = re.compile(r"\b(twice|double|doubles|triple|triples|half)\b", re.I)
PAYS = re.compile(r"\b(pays?|paid|hands over)\b.*?\$(\d+(?:\.\d+)?)", re.I)


EXPRESSION = re.compile(r"^\D{0,20}?(-?\d+(?:\.\d+)?)\s*([-+*/x×÷])\s*(-?\d+(?:\.\d+)?)\s*(?:=\s*)?\??\s*$")
OPERATIONS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "x": lambda a, b: a * b,
    "×": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else None,
    "÷": lambda a, b: a / b if b else None,
}


def solve(prompt: Prompt, right: bool, variant: float) -> str | None:
    problem = prompt.user
    expression = EXPRESSION.match(problem.strip())
    if expression:
        a, op, b = expression.groups()
        value = OPERATIONS[op](float(a), float(b))
    elif QUESTION.search(problem):
        value = evaluate(problem)
    else:
        return None
    if value is None:
        return None
    result = value if right else near_miss(value, variant)
    number = format_number(result)
    if variant < 0.7:
        return number
    return f"The answer is {number}."


def evaluate(problem: str) -> float | None:
    """The problem's answer, or None when the text does not parse as an arithmetic problem."""
    value: float | None = None
    rate: float | None = None
    paid: float | None = None
    for clause in (c.strip() for c in CLAUSE_SPLIT.split(problem)):
        if not clause:
            continue
        pay = PAYS.search(clause)
        if pay:
            paid = float(pay.group(2))
            continue
        numbers = [(float(m.group(1).replace(",", "")), bool(m.group(2))) for m in NUMBER.finditer(clause)]
        percents = [n for n, is_percent in numbers if is_percent]
        plain = [n for n, is_percent in numbers if not is_percent]
        if percents and value is not None:
            p = percents[0] / 100.0
            lowered = clause.lower()
            if re.search(r"\b(off|discount|decrease|decreases|less|drops?|falls?)\b", lowered):
                value *= 1 - p
            elif re.search(r"\b(tax|tip|increase|increases|more|rises?|grows?)\b", lowered):
                value *= 1 + p
            else:
                value *= p
            continue
        multiplier = _multiplier(clause)
        if multiplier is not None and (not plain or TIMES.search(clause)):
            if value is None:
                return None
            value *= multiplier
            continue
        if not plain:
            continue
        if len(plain) >= 2 and RATE.search(clause):
            product = math.prod(plain[:2])
            value = product if value is None or not PLUS.search(clause) else value + product
            continue
        number = plain[0]
        if value is None and rate is None:
            if RATE.search(clause) and not PLUS.search(clause):
                rate = number
            else:
                value = number if rate is None else number * rate
            continue
        if rate is not None:
            amount = number * rate
            rate = None
            if value is None:
                value = amount
            elif MINUS.search(clause):
                value -= amount
            else:
                value += amount
            continue
        assert value is not None
        if DIVIDE.search(clause):
            if number == 0:
                return None
            value /= number
        elif MINUS.search(clause):
            value -= number
        elif PLUS.search(clause):
            value += number
        elif RATE.search(clause):
            rate = number
        else:
            value += number
    if paid is not None and value is not None and re.search(r"\bchange\b", problem, re.I):
        return paid - value
    return value


def _multiplier(clause: str) -> float | None:
    times = TIMES.search(clause)
    if times:
        return float(times.group(1))
    word = WORD_MULTIPLIER.search(clause)
    if word:
        return MULTIPLIERS[word.group(1).lower()]
    return None


def near_miss(value: float, variant: float) -> float:
    """A plausible wrong answer: off by one or two, or by about ten percent; never the right one."""
    choices = (1.0, -1.0, 2.0, max(1.0, round(abs(value) * 0.1)))
    delta = choices[int(variant * len(choices)) % len(choices)]
    miss = value + delta
    if value == int(value):
        return float(int(miss))
    return round(miss, 2)


def format_number(value: float) -> str:
    if abs(value - round(value)) < 1e-9:
        return str(round(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")

"""Extract order fields (name, email, order id, product, quantity) from a customer message as JSON."""

from __future__ import annotations

import json
import re
from typing import Any

from monitor.simulator.prompt import Prompt

FIELDS = ("name", "email", "order_id", "product", "quantity")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
ORDER_ID = re.compile(r"\b[A-Z]{2,4}-\d{4,6}\b")
NAME = r"([A-Z][a-zA-Z'-]+(?: [A-Z][a-zA-Z'-]+)+)"
NAME_PATTERNS = [
    re.compile(rf"\b(?:[Mm]y name is|[Tt]his is|I am|I'm)\s+{NAME}"),
    re.compile(rf"^{NAME} here\b", re.M),
    re.compile(rf"\b(?:regards|thanks|cheers|sincerely|best),?\s+{NAME}", re.I),
    re.compile(rf"^{NAME}\s*$", re.M),
]
WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
QUANTITY_PRODUCT = re.compile(
    r"(?<![\w-])(\d+|one|two|three|four|five|six|seven|eight|nine)\s+"
    r"(?:x\s+|×\s+|units? of (?:the )?|pieces? of (?:the )?|of the )?"
    r"((?:[A-Z0-9][\w-]*)(?: [A-Z0-9][\w-]*)*)"
)


def solve(prompt: Prompt, right: bool, variant: float) -> str | None:
    instructions = prompt.system + "\n" + prompt.user
    if "json" not in instructions.lower():
        return None
    wanted = [f for f in FIELDS if re.search(rf"\b{f}\b", instructions)] or list(FIELDS)
    message = prompt.user
    fields = extract(message)
    if not any(fields.values()):
        return None
    result = {key: fields[key] for key in wanted}
    if right:
        return json.dumps(result)
    return spoil(result, variant)


def extract(message: str) -> dict[str, Any]:
    email = EMAIL.search(message)
    order = ORDER_ID.search(message)
    name = None
    for pattern in NAME_PATTERNS:
        match = pattern.search(message)
        if match:
            name = match.group(1)
            break
    product = quantity = None
    for match in QUANTITY_PRODUCT.finditer(message):
        raw = match.group(1).lower()
        candidate = match.group(2).strip()
        if ORDER_ID.fullmatch(candidate) or candidate.isdigit():
            continue
        quantity = int(raw) if raw.isdigit() else WORD_NUMBERS[raw]
        product = candidate
        break
    return {
        "name": name,
        "email": email.group(0) if email else None,
        "order_id": order.group(0) if order else None,
        "product": product,
        "quantity": quantity,
    }


def spoil(result: dict[str, Any], variant: float) -> str:
    """A wrong extraction: a missing or altered field, and rarely text that is not JSON at all."""
    if variant < 0.1:
        return "Sure! Here are the details: " + json.dumps(result)[:-1]
    spoiled = dict(result)
    keys = list(spoiled)
    key = keys[int(variant * 7919) % len(keys)]
    value = spoiled[key]
    if variant < 0.4:
        del spoiled[key]
    elif isinstance(value, int):
        spoiled[key] = value + 1
    elif isinstance(value, str) and value:
        spoiled[key] = (
            value.split(" ")[0] if " " in value else value[:-1] + ("7" if value[-1] != "7" else "1")
        )
    else:
        spoiled[key] = "unknown"
    return json.dumps(spoiled)

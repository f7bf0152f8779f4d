"""Fill a JSON Schema object from a request's text: ids, e-mails, names, quoted strings, numbers, enums.

Tool arguments and structured outputs both come from here, so a value the text holds is found the same
way for both; only the schema's own properties are ever filled.
"""

from __future__ import annotations

import re
from typing import Any

from monitor.simulator import solve_extraction

IDS = (
    re.compile(r"\b[A-Z]{2,4}-\d{3,8}\b"),
    re.compile(r"\b[A-Z]{1,3}\d{3,8}\b"),
    re.compile(r"#\s?([A-Za-z0-9-]{3,12})\b"),
    re.compile(r"\b(\d{4,10})\b"),
)
QUOTED = re.compile(r"[\"“]([^\"”\n]{1,200})[\"”]|(?<!\w)'([^'\n]{1,200})'(?!\w)")
NUMBER = re.compile(r"(?<![\w#.-])(\d+(?:\.\d+)?)(?![\w-])")
MONEY = re.compile(r"[$€£]\s?(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s?(?:dollars|usd|eur|euros|pounds)\b", re.I)
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
PHONE = re.compile(r"\+?\d[\d ()-]{7,}\d")
ID_WORDS = ("id", "number", "order", "ticket", "reference", "ref", "code", "account", "invoice", "sku")
FREE_TEXT_WORDS = (
    "reason", "message", "summary", "note", "notes", "query", "description", "issue", "question",
    "text", "content", "details", "comment", "problem", "request", "subject", "body",
)  # fmt: skip


def words_of(name: str) -> list[str]:
    """A property or tool name's words: snake, kebab and camel case split, lower-cased."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def types_of(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return [str(k) for k in kind]
    if isinstance(kind, str):
        return [kind]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            return [t for o in options if isinstance(o, dict) for t in types_of(o)]
    return ["object"] if isinstance(schema.get("properties"), dict) else ["string"]


def main_type(schema: dict[str, Any]) -> str:
    return next((t for t in types_of(schema) if t != "null"), "null")


def find_ids(text: str) -> list[str]:
    """Every id of the first id form the text uses (NW-12345, A1234, #1234, 12345), in order."""
    for pattern in IDS:
        found = [m.group(m.lastindex or 0) for m in pattern.finditer(text)]
        if found:
            return list(dict.fromkeys(found))
    return []


def find_id(text: str) -> str | None:
    ids = find_ids(text)
    return ids[0] if ids else None


def _enum(options: list[Any], text: str) -> Any:
    """The option the text names: all its words present ("changed_mind" in "changed my mind")."""
    said = set(words_of(text))
    for option in options:
        if str(option).lower() in text.lower() or set(words_of(str(option))) <= said:
            return option
    return None


def _number(name_words: list[str], text: str, kind: str) -> Any:
    money = MONEY.search(text)
    if money and set(name_words) & {"amount", "price", "total", "cost", "refund", "sum"}:
        raw = money.group(1) or money.group(2)
    else:
        cleaned = solve_extraction.EMAIL.sub(" ", text)
        for pattern in IDS[:3]:
            cleaned = pattern.sub(" ", cleaned)
        cleaned = DATE.sub(" ", cleaned)
        match = NUMBER.search(cleaned)
        if match is None:
            word = re.search(r"\b(one|two|three|four|five|six|seven|eight|nine)\b", text, re.I)
            return solve_extraction.WORD_NUMBERS[word.group(1).lower()] if word else None
        raw = match.group(1)
    value = float(raw)
    return int(value) if kind == "integer" or value.is_integer() else value


def guess(name: str, schema: dict[str, Any], text: str) -> Any:
    """The value `text` gives for property `name`, or None when it holds none."""
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return _enum(enum, text)
    kind = main_type(schema)
    name_words = words_of(name)
    hint = set(name_words) | set(words_of(str(schema.get("description") or "")))
    if kind == "object":
        properties = schema.get("properties")
        return fill(schema, text) if isinstance(properties, dict) else None
    if kind in ("integer", "number"):
        return _number(name_words, text, kind)
    if kind == "boolean":
        return True if any(re.search(rf"\b{re.escape(w)}", text, re.I) for w in name_words) else None
    if kind == "array":
        return None
    if name in solve_extraction.FIELDS:
        value = solve_extraction.extract(text).get(name)
        if value is not None:
            return str(value)
    if "email" in hint or "mail" in name_words:
        match = solve_extraction.EMAIL.search(text)
        return match.group(0) if match else None
    if set(name_words) & set(ID_WORDS) and not set(name_words) & set(FREE_TEXT_WORDS):
        return find_id(text)
    if "date" in name_words:
        match = DATE.search(text)
        return match.group(0) if match else None
    if "phone" in name_words:
        match = PHONE.search(text)
        return match.group(0).strip() if match else None
    quoted = QUOTED.search(text)
    if quoted:
        return quoted.group(1) or quoted.group(2)
    if set(name_words) & set(FREE_TEXT_WORDS):
        return " ".join(text.split())[:200] or None
    if "name" in name_words:
        return solve_extraction.extract(text).get("name")
    return None


def default(schema: dict[str, Any], text: str) -> Any:
    """A value of the right type when the text gives none (a required key must have one)."""
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    if "null" in types_of(schema):
        return None
    kind = main_type(schema)
    if kind == "object":
        return fill(schema, text, every=True)
    return {"integer": 0, "number": 0, "boolean": False, "array": []}.get(kind, " ".join(text.split())[:80])


def fill(schema: dict[str, Any], text: str, *, every: bool = False) -> dict[str, Any]:
    """The object `schema` describes, from `text`: required keys always (or every key with `every`),
    optional ones when the text holds a value."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    required = schema.get("required")
    needed = set(required) if isinstance(required, list) else set()
    result: dict[str, Any] = {}
    for name, prop in properties.items():
        prop = prop if isinstance(prop, dict) else {}
        value = guess(name, prop, text)
        if value is None and (every or name in needed):
            value = default(prop, text)
            if value is None and not (every or "null" in types_of(prop)):
                continue
        elif value is None:
            continue
        result[name] = value
    return result


def missing(schema: dict[str, Any], text: str) -> list[str]:
    """The required properties the text gives no value for (an agent asks for them before calling);
    enums and booleans are never missing (a model picks one)."""
    properties = schema.get("properties")
    required = schema.get("required")
    if not isinstance(properties, dict) or not isinstance(required, list):
        return []
    absent = []
    for name in required:
        prop = properties.get(name)
        prop = prop if isinstance(prop, dict) else {}
        if "enum" in prop or main_type(prop) in ("boolean", "object", "array"):
            continue
        if guess(name, prop, text) is None:
            absent.append(name)
    return absent

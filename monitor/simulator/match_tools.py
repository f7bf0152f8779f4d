"""Which offered tool a request asks for: the request's words against each tool's name and description,
with synonyms for the usual support intents, and words shared by many tools weighing less."""

from __future__ import annotations

from monitor.simulator.conversation import Tool
from monitor.simulator.fill import words_of

_STOPWORD_TEXT = """
a an the to of for and or is are my me i you your it this that be with by on in at from can could
please want would like need do does did what when how why which who has have was were will just about
get up its their our we us any some all not no if so as hi hello thanks thank am been there here one
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
SYNONYMS = {
    "money": ("refund",),
    "reimburse": ("refund",),
    "manager": ("human", "escalate"),
    "person": ("human", "escalate"),
    "someone": ("human",),
    "supervisor": ("human", "escalate"),
    "speak": ("human",),
    "talk": ("human",),
    "complaint": ("escalate",),
    "report": ("escalate",),
    "where": ("status", "track"),
    "waiting": ("status",),
    "update": ("status",),
    "tracking": ("status",),
    "moved": ("address",),
    "ship": ("address",),
    "locked": ("password", "reset"),
    "forgot": ("password", "reset"),
    "login": ("password",),
}


def stem(word: str) -> str:
    """A crude stem: without -ing/-ed/-es/-s and a doubled last consonant, at most five letters, so
    "shipping" meets "ship" and "refunds" meets "refund" (but "summit" does not meet "summary")."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiosu":
        word = word[:-1]
    return word[:5]


def stems(text: str, *, expand: bool = False) -> set[str]:
    """The stems of a text's content words; `expand` adds the synonyms' stems (for the request side)."""
    found: set[str] = set()
    for word in words_of(text):
        if word in STOPWORDS or len(word) < 2 or word.isdigit():
            continue
        found.add(stem(word))
        if expand:
            found.update(stem(s) for s in SYNONYMS.get(word, ()))
    return found


def scores(tools: list[Tool], request: str) -> list[float]:
    """Each tool's match: a name word counts 2, a description word 1, divided by how many tools have it."""
    asked = stems(request, expand=True)
    names = [stems(tool.name) for tool in tools]
    descriptions = [stems(tool.description) - name for tool, name in zip(tools, names, strict=True)]
    spread: dict[str, int] = {}
    for name, description in zip(names, descriptions, strict=True):
        for word in name | description:
            spread[word] = spread.get(word, 0) + 1
    return [
        sum((2 if word in name else 1) / spread[word] for word in asked & (name | description))
        for name, description in zip(names, descriptions, strict=True)
    ]


def best_tool(tools: list[Tool], request: str) -> Tool | None:
    """The best-matching tool (the first of equals), or None when no word of the request fits any."""
    ranked = scores(tools, request)
    top = max(range(len(tools)), key=lambda i: (ranked[i], -i))
    return tools[top] if ranked[top] > 0 else None

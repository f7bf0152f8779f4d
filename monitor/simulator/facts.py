"""The simulated models' general knowledge: question phrases and their answers (capitals, elements, ...)."""

from __future__ import annotations

FACTS: dict[str, str] = {
    "capital of australia": "Canberra",
    "capital of canada": "Ottawa",
    "capital of japan": "Tokyo",
    "capital of brazil": "Brasilia",
    "capital of kenya": "Nairobi",
    "capital of egypt": "Cairo",
    "capital of spain": "Madrid",
    "capital of turkey": "Ankara",
    "capital of new zealand": "Wellington",
    "capital of switzerland": "Bern",
    "capital of morocco": "Rabat",
    "capital of vietnam": "Hanoi",
    "capital of france": "Paris",
    "capital of germany": "Berlin",
    "capital of italy": "Rome",
    "capital of india": "New Delhi",
    "capital of nigeria": "Abuja",
    "capital of argentina": "Buenos Aires",
    "symbol for gold": "Au",
    "symbol for sodium": "Na",
    "symbol for iron": "Fe",
    "symbol for potassium": "K",
    "symbol for silver": "Ag",
    "symbol for lead": "Pb",
    "symbol for copper": "Cu",
    "symbol for mercury": "Hg",
    "chemical symbol o": "Oxygen",
    "largest planet": "Jupiter",
    "red planet": "Mars",
    "closest to the sun": "Mercury",
    "ring system": "Saturn",
    "hottest average surface temperature": "Venus",
    "pride and prejudice": "Jane Austen",
    "1984": "George Orwell",
    "romeo and juliet": "William Shakespeare",
    "hamlet": "William Shakespeare",
    "one hundred years of solitude": "Gabriel Garcia Marquez",
    "origin of species": "Charles Darwin",
    "frankenstein": "Mary Shelley",
    "war and peace": "Leo Tolstoy",
    "unit of force": "Newton",
    "unit of energy": "Joule",
    "unit of electric current": "Ampere",
    "unit of power": "Watt",
    "unit of pressure": "Pascal",
    "unit of electrical resistance": "Ohm",
    "unit of frequency": "Hertz",
    "plants absorb": "Carbon dioxide",
    "hardest natural substance": "Diamond",
    "boiling point of water in degrees celsius": "100",
    "powerhouse": "Mitochondria",
    "chemical formula for water": "H2O",
    "bones are in the adult human body": "206",
    "largest organ": "Skin",
    "largest ocean": "Pacific Ocean",
    "longest river in south america": "Amazon",
    "how many continents": "7",
    "tallest mountain": "Mount Everest",
    "largest hot desert": "Sahara",
    "mona lisa": "Leonardo da Vinci",
    "starry night": "Vincent van Gogh",
    "theory of relativity": "Albert Einstein",
    "first person to walk on the moon": "Neil Armstrong",
    "sides does a hexagon have": "6",
    "sides does an octagon have": "8",
    "smallest prime number": "2",
    "currency of japan": "Yen",
    "minutes are there in a day": "1440",
}


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces: the form facts are matched in."""
    cleaned = "".join(ch.lower() if ch.isalnum() else " " for ch in text)
    return " ".join(cleaned.split())


_NORMALISED = {normalise(phrase): answer for phrase, answer in FACTS.items()}


def recall(question: str) -> str | None:
    """The answer to a question containing a known phrase (the longest matching phrase wins)."""
    padded = f" {normalise(question)} "
    best: tuple[int, str] | None = None
    for phrase, answer in _NORMALISED.items():
        if f" {phrase} " in padded and (best is None or len(phrase) > best[0]):
            best = (len(phrase), answer)
    return best[1] if best else None
